package org.recjpq.backend.cuda;

import org.recjpq.backend.cuda.CudaLosses.Items;

/**
 * The decode-then-GEMM tile strategy of {@link CudaFullCrossEntropy}, and the whole of the dense
 * table's full cross-entropy (the same without the decode); the CPU twin is {@code
 * CpuGemmCrossEntropy}.
 *
 * <p>Shapes: V valid rows, D = dim, M = splits, S = subDim, T = tile, B = row block. Per tile of
 * items (tiles outer, so a tile is decoded once per pass), and per block of rows within it:
 *
 * <pre>
 *   E_t   = decode(codes[tile], codebooks)            (T, D)  full_ce_decode_kernel; a view of a dense table
 *   pass 1: S = H_b · E_tᵀ                             (B, T)  GEMM, then full_ce_tile_lse_kernel: running
 *           max and sum per row; lse after the last tile (full_ce_finish_kernel)
 *   pass 2: S = H_b · E_tᵀ again, G = (exp(S − lse) − onehot) / V in place (full_ce_tile_grad_kernel)
 *           dh_b (+)= G · E_t                          (B, D)  GEMM, beta 0 on the first tile
 *           dE_t (+)= Gᵀ · H_b                         (T, D)  GEMM: dense, beta 1 straight into dTable;
 *                                                              RecJPQ, into scratch (beta 0 on the first block)
 *           dCodebooks[k][codes[i][k]] += dE_t[i][k-block]     full_ce_scatter_{atomic,ordered}_kernel
 * </pre>
 *
 * <p>With item offsets each score tile gets {@code 1 · b_tileᵀ} added right after its GEMM, and
 * each tile of G adds {@code Gᵀ · 1} into dBias (rank-1 GEMMs, see {@link
 * CudaFullCrossEntropyPass#addBias}).
 *
 * <p>When the whole catalogue is one tile, a single pass does it: S, then
 * full_ce_row_softmax_kernel (lse and G from the same scores), then the two gradient GEMMs: three
 * GEMMs instead of four.
 */
final class CudaFullCrossEntropyGemm {
  private CudaFullCrossEntropyGemm() {}

  static void run(CudaFullCrossEntropyPass p) {
    CudaOps ops = p.ops;
    Items t = p.t;
    int d = t.dim();
    int tile = p.plan.tile();
    CudaBuf scores = ops.workspace("loss.fce.scores", (long) p.plan.rowBlock() * tile); // (B, T)
    CudaBuf et = t.isJpq() ? ops.workspace("loss.fce.tile", (long) tile * d) : null; // (T, D)
    CudaBuf det = t.isJpq() ? ops.workspace("loss.fce.dtile", (long) tile * d) : null; // (T, D)
    if (p.plan.tiles() == 1) {
      onePass(p, scores, et, det);
    } else {
      logSumExp(p, scores, et);
      gradients(p, scores, et, det);
    }
  }

  /** The whole catalogue as one tile: scores, lse and G of each row block in one pass. */
  private static void onePass(CudaFullCrossEntropyPass p, CudaBuf scores, CudaBuf et, CudaBuf det) {
    CudaOps ops = p.ops;
    boolean jpq = p.t.isJpq();
    int d = p.t.dim();
    int n = p.n;
    int block = p.plan.rowBlock();
    CudaBuf e = embeddings(p, et, 0, n);
    CudaBuf de = jpq ? det.slice(0, (long) n * d) : p.dTable.slice(0, (long) n * d);
    for (int r0 = 0; r0 < p.v; r0 += block) {
      int rb = Math.min(block, p.v - r0);
      CudaBuf s = scores.slice(0, (long) rb * n);
      CudaBuf hb = p.hRows(r0, rb);
      ops.gemm(false, true, rb, n, d, 1f, hb, d, e, d, 0f, s, n);
      p.addBias(s, rb, 0, n);
      ops.module()
          .launch(
              FullCrossEntropyKernels.FULL_CE_ROW_SOFTMAX,
              Math.min(rb, CudaOps.MAX_BLOCKS),
              CudaOps.THREADS,
              0,
              rb,
              n,
              p.invV,
              s,
              p.tgtAt(r0),
              CudaFullCrossEntropyPass.at(p.rowMax, r0),
              CudaFullCrossEntropyPass.atDouble(p.rowSum, r0),
              CudaFullCrossEntropyPass.at(p.targetScore, r0));
      p.finish(r0, rb, 1, r0);
      p.addBiasGradient(s, rb, 0, n);
      ops.gemm(false, false, rb, d, n, 1f, s, n, e, d, 0f, p.dhRows(r0, rb), d);
      ops.gemm(true, false, n, d, rb, 1f, s, n, hb, d, jpq && r0 == 0 ? 0f : 1f, de, d);
    }
    if (jpq) {
      scatter(p, de, 0, n);
    }
  }

  /** Pass 1: every valid row's running max and sum over the tiles, then lse and loss. */
  private static void logSumExp(CudaFullCrossEntropyPass p, CudaBuf scores, CudaBuf et) {
    CudaOps ops = p.ops;
    int d = p.t.dim();
    int tile = p.plan.tile();
    int block = p.plan.rowBlock();
    ops.fill(p.rowMax.slice(0, p.v), Float.NEGATIVE_INFINITY);
    ops.fill(p.rowSum.slice(0, 2L * p.v), 0f); // doubles: all-zero bits are 0.0
    for (int i0 = 0; i0 < p.n; i0 += tile) {
      int nt = Math.min(tile, p.n - i0);
      CudaBuf e = embeddings(p, et, i0, nt);
      for (int r0 = 0; r0 < p.v; r0 += block) {
        int rb = Math.min(block, p.v - r0);
        CudaBuf s = scores.slice(0, (long) rb * nt);
        ops.gemm(false, true, rb, nt, d, 1f, p.hRows(r0, rb), d, e, d, 0f, s, nt);
        p.addBias(s, rb, i0, nt);
        ops.module()
            .launch(
                FullCrossEntropyKernels.FULL_CE_TILE_LSE,
                Math.min(rb, CudaOps.MAX_BLOCKS),
                CudaOps.THREADS,
                0,
                rb,
                nt,
                i0,
                s,
                p.tgtAt(r0),
                CudaFullCrossEntropyPass.at(p.rowMax, r0),
                CudaFullCrossEntropyPass.atDouble(p.rowSum, r0),
                CudaFullCrossEntropyPass.at(p.targetScore, r0));
      }
    }
    p.finish(0, p.v, 1, 0);
  }

  /**
   * Pass 2: G per (tile, block), then dh (+)= G·E_t and dE_t (+)= Gᵀ·H_b, then the tile's scatter.
   */
  private static void gradients(
      CudaFullCrossEntropyPass p, CudaBuf scores, CudaBuf et, CudaBuf det) {
    CudaOps ops = p.ops;
    boolean jpq = p.t.isJpq();
    int d = p.t.dim();
    int tile = p.plan.tile();
    int block = p.plan.rowBlock();
    for (int i0 = 0; i0 < p.n; i0 += tile) {
      int nt = Math.min(tile, p.n - i0);
      CudaBuf e = embeddings(p, et, i0, nt);
      CudaBuf de = jpq ? det.slice(0, (long) nt * d) : p.dTable.slice((long) i0 * d, (long) nt * d);
      for (int r0 = 0; r0 < p.v; r0 += block) {
        int rb = Math.min(block, p.v - r0);
        CudaBuf s = scores.slice(0, (long) rb * nt);
        CudaBuf hb = p.hRows(r0, rb);
        ops.gemm(false, true, rb, nt, d, 1f, hb, d, e, d, 0f, s, nt);
        p.addBias(s, rb, i0, nt);
        ops.launchFlat(
            FullCrossEntropyKernels.FULL_CE_TILE_GRAD,
            (long) rb * nt,
            rb,
            nt,
            i0,
            p.invV,
            s,
            p.tgtAt(r0),
            CudaFullCrossEntropyPass.at(p.lse, r0));
        p.addBiasGradient(s, rb, i0, nt);
        ops.gemm(false, false, rb, d, nt, 1f, s, nt, e, d, i0 == 0 ? 0f : 1f, p.dhRows(r0, rb), d);
        ops.gemm(true, false, nt, d, rb, 1f, s, nt, hb, d, jpq && r0 == 0 ? 0f : 1f, de, d);
      }
      if (jpq) {
        scatter(p, de, i0, nt);
      }
    }
  }

  /**
   * The tile's embeddings (nt, D): a view of the dense table, or RecJPQ codes decoded into {@code
   * et}.
   */
  private static CudaBuf embeddings(CudaFullCrossEntropyPass p, CudaBuf et, int i0, int nt) {
    Items t = p.t;
    int d = t.dim();
    if (!t.isJpq()) {
      return t.table().slice((long) i0 * d, (long) nt * d);
    }
    p.ops.launchFlat(
        FullCrossEntropyKernels.FULL_CE_DECODE,
        (long) nt * d,
        nt,
        i0,
        t.splits(),
        t.subDim(),
        et,
        t.codes(),
        t.codebooks());
    return et.slice(0, (long) nt * d);
  }

  /**
   * dCodebooks[k][codes[i0 + i][k]] += de[i][k-block] for the tile's items (atomics, or ordered).
   */
  private static void scatter(CudaFullCrossEntropyPass p, CudaBuf de, int i0, int nt) {
    Items t = p.t;
    int d = t.dim();
    if (p.ops.deterministic()) {
      int groups = (d + 31) / 32;
      int parts = CudaLosses.orderedParts(groups, 256);
      p.ops
          .module()
          .launch(
              FullCrossEntropyKernels.FULL_CE_SCATTER_ORDERED,
              CudaLosses.warpBlocks((long) groups * parts),
              CudaOps.THREADS,
              0,
              nt,
              i0,
              t.splits(),
              t.subDim(),
              parts,
              p.dTable,
              de,
              t.codes());
    } else {
      p.ops.launchFlat(
          FullCrossEntropyKernels.FULL_CE_SCATTER_ATOMIC,
          (long) nt * d,
          nt,
          i0,
          t.splits(),
          t.subDim(),
          p.dTable,
          de,
          t.codes());
    }
  }
}
