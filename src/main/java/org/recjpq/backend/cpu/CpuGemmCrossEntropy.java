package org.recjpq.backend.cpu;

import static org.recjpq.backend.cpu.CpuFullCrossEntropy.ITEM_TASK;
import static org.recjpq.backend.cpu.CpuFullCrossEntropy.ROW_TASK;
import static org.recjpq.backend.cpu.CpuFullCrossEntropy.carve;
import static org.recjpq.backend.cpu.CpuFullCrossEntropy.ceilDiv;
import static org.recjpq.backend.cpu.CpuFullCrossEntropyPass.logSumExpStep;
import static org.recjpq.backend.cpu.CpuFullCrossEntropyPass.softmaxMinusOneHot;
import static org.recjpq.backend.cpu.CpuFullCrossEntropyPass.softmaxRowGradient;

import java.util.Arrays;
import org.recjpq.backend.cpu.CpuFullCrossEntropyPass.Work;
import org.recjpq.backend.cpu.CpuLosses.ItemTable;
import org.recjpq.util.Parallel;

/**
 * The decode-then-GEMM tile strategy of {@link CpuFullCrossEntropy}, and the whole of the dense
 * table's full cross-entropy (the same without the decode).
 *
 * <p>Shapes: V valid rows, D = dim, M = splits, S = subDim, T = tile, B = row block. Per tile of
 * items, and per block of rows within it:
 *
 * <pre>
 *   E_t   = decode(codes[tile], codebooks)              (T, D)  RecJPQ; a view of the table if dense
 *   pass 1: S = H_b · E_tᵀ                               (B, T)  GEMM, 64 rows a task, then the
 *           online log-sum-exp of each row
 *   pass 2: G = (exp(S − lse) − onehot) / V              (B, T)  the same GEMM again, then
 *           dh_b (+)= G · E_t                            (B, D)  64 rows a task
 *           dE_t (+)= Gᵀ · H_b                           (T, D)  64 items a task (a sum over rows)
 *           dCodebooks[k][codes[i][k]] += dE_t[i][k-block]      per split, items in order
 * </pre>
 *
 * <p>When the whole catalogue is one tile (small catalogues, see {@link CpuFullCrossEntropy#plan}),
 * a row's scores over all N items are in hand at once, so a single pass does it: per task of 64
 * rows, S = H·Eᵀ, then per row lse and G = (exp(S − lse) − onehot) / V from one exponential each,
 * then dh = G·E; per block, dE += Gᵀ·H. Three GEMMs and N exponentials per row instead of four and
 * 2·N.
 *
 * <p>The decode costs N·D per pass whatever the number of rows, which is why few rows go to the
 * look-up strategy instead ({@link CpuFullCrossEntropy#choose}).
 */
final class CpuGemmCrossEntropy {
  private CpuGemmCrossEntropy() {}

  /**
   * Decode-then-GEMM (RecJPQ) or the dense table. Scratch: scores (B, T), and for RecJPQ the
   * decoded tile (T, D) and its gradient (T, D) off-heap, plus heap copies of the codebooks and
   * dCodebooks (256·D each; the scatter adds into the copy, which is written back at the end) and
   * of the tile's gradient.
   */
  static void run(CpuFullCrossEntropyPass p) {
    ItemTable t = p.t;
    int d = t.dim();
    long[] at = {0};
    GemmScratch g = new GemmScratch();
    g.s = carve(p.arena, at, (long) p.plan.rowBlock() * p.plan.tile());
    if (t.isJpq()) {
      g.et = carve(p.arena, at, (long) p.plan.tile() * d);
      g.det = carve(p.arena, at, (long) p.plan.tile() * d);
      g.cb = t.codebooks().slice(0, 256L * d).toArray();
      g.dc = p.dTable.slice(0, 256L * d).toArray();
      g.deHeap = new float[p.plan.tile() * d];
      p.scratch.heap(4L * (512L * d + (long) p.plan.tile() * d));
    }
    if (p.tiles() == 1) {
      onePass(p, g);
    } else {
      gemmLogSumExp(p, g);
      gemmGradients(p, g);
    }
    if (t.isJpq()) {
      p.dTable.slice(0, 256L * d).put(g.dc);
    }
  }

  /**
   * Scratch of the GEMM strategy (see {@link #gemmStrategy}); the RecJPQ parts are null for dense.
   */
  private static final class GemmScratch {
    CpuBuf s; // (B, T) scores, then gradients
    CpuBuf et; // (T, D) decoded tile
    CpuBuf det; // (T, D) its gradient
    float[] cb; // (M, 256, S) codebooks
    float[] dc; // (M, 256, S) dCodebooks
    float[] deHeap; // (T, D) the tile's gradient
  }

  /**
   * The whole catalogue as one tile: scores, lse and gradient of each row in one pass (see the
   * class comment), block by block of rows.
   */
  private static void onePass(CpuFullCrossEntropyPass p, GemmScratch g) {
    boolean jpq = p.t.isJpq();
    int d = p.t.dim();
    int n = p.n;
    int block = p.plan.rowBlock();
    CpuBuf e = tileEmbeddings(p, g.et, g.cb, 0, n);
    CpuBuf de = jpq ? g.det.slice(0, (long) n * d) : p.dTable.slice(0, (long) n * d);
    for (int r0 = 0; r0 < p.v; r0 += block) {
      int rb = Math.min(block, p.v - r0);
      CpuBuf sb = g.s.slice(0, (long) rb * n);
      CpuBuf hb = p.hRows(r0, rb);
      CpuBuf dhb = p.dhRows(r0, rb);
      int base = r0;
      Parallel.forRange(
          ceilDiv(rb, ROW_TASK),
          p.ops.threads,
          1,
          (from, to) -> {
            Work work = Work.get(p.scratch, n, 0);
            for (int task = from; task < to; task++) {
              int a = task * ROW_TASK;
              int nr = Math.min(ROW_TASK, rb - a);
              CpuBuf sr = sb.slice((long) a * n, (long) nr * n);
              Blas.sgemm(
                  false,
                  true,
                  nr,
                  n,
                  d,
                  1f,
                  hb.slice((long) a * d, (long) nr * d),
                  d,
                  e,
                  d,
                  0f,
                  sr,
                  n);
              float[] row = work.scores;
              for (int r = 0; r < nr; r++) {
                sr.data.get(sr.offset + r * n, row, 0, n);
                softmaxRowGradient(p, row, work.exps, n, base + a + r);
                sr.data.put(sr.offset + r * n, row, 0, n);
              }
              Blas.sgemm(
                  false,
                  false,
                  nr,
                  d,
                  n,
                  1f,
                  sr,
                  n,
                  e,
                  d,
                  0f,
                  dhb.slice((long) a * d, (long) nr * d),
                  d);
            }
          });
      tileGradient(
          p,
          sb,
          hb,
          de,
          0,
          n,
          rb,
          jpq && r0 == 0 ? 0f : 1f); // a decoded table: the first block overwrites
    }
    if (jpq) {
      de.data.get(de.offset, g.deHeap, 0, n * d);
      scatterTile(p, g.dc, g.deHeap, 0, n);
    }
  }

  /** Pass 1: lse of every valid row, tile by tile, block by block. */
  private static void gemmLogSumExp(CpuFullCrossEntropyPass p, GemmScratch g) {
    int d = p.t.dim();
    int tile = p.plan.tile();
    int block = p.plan.rowBlock();
    double[] max = new double[p.v];
    double[] sum = new double[p.v];
    p.scratch.heap(16L * p.v);
    Arrays.fill(max, Double.NEGATIVE_INFINITY);
    for (int k = 0; k < p.tiles(); k++) {
      int i0 = k * tile;
      int nt = Math.min(tile, p.n - i0);
      CpuBuf e = tileEmbeddings(p, g.et, g.cb, i0, nt);
      for (int r0 = 0; r0 < p.v; r0 += block) {
        int rb = Math.min(block, p.v - r0);
        CpuBuf hb = p.hRows(r0, rb);
        int base = r0;
        // Each task scores its own ROW_TASK rows (a single-threaded GEMM) and folds them in.
        Parallel.forRange(
            ceilDiv(rb, ROW_TASK),
            p.ops.threads,
            1,
            (from, to) -> {
              Work work = Work.get(p.scratch, nt, 0);
              for (int task = from; task < to; task++) {
                int a = task * ROW_TASK;
                int nr = Math.min(ROW_TASK, rb - a);
                CpuBuf sr = g.s.slice((long) a * nt, (long) nr * nt);
                Blas.sgemm(
                    false,
                    true,
                    nr,
                    nt,
                    d,
                    1f,
                    hb.slice((long) a * d, (long) nr * d),
                    d,
                    e,
                    d,
                    0f,
                    sr,
                    nt);
                for (int r = 0; r < nr; r++) {
                  sr.data.get(sr.offset + r * nt, work.scores, 0, nt);
                  logSumExpStep(
                      p, work.scores, work.exps, nt, base + a + r, i0, max, sum, base + a + r);
                }
              }
            });
      }
    }
    for (int r = 0; r < p.v; r++) {
      p.lse[r] = max[r] + Math.log(sum[r]);
    }
  }

  /**
   * Pass 2: G = (softmax − onehot) / V per (tile, block), then dh (+)= G·E_t and dE_t (+)= Gᵀ·H.
   */
  private static void gemmGradients(CpuFullCrossEntropyPass p, GemmScratch g) {
    boolean jpq = p.t.isJpq();
    int d = p.t.dim();
    int tile = p.plan.tile();
    int block = p.plan.rowBlock();
    for (int k = 0; k < p.tiles(); k++) {
      int i0 = k * tile;
      int nt = Math.min(tile, p.n - i0);
      CpuBuf e = tileEmbeddings(p, g.et, g.cb, i0, nt);
      CpuBuf de =
          jpq ? g.det.slice(0, (long) nt * d) : p.dTable.slice((long) i0 * d, (long) nt * d);
      for (int r0 = 0; r0 < p.v; r0 += block) {
        int rb = Math.min(block, p.v - r0);
        CpuBuf sb = g.s.slice(0, (long) rb * nt);
        CpuBuf hb = p.hRows(r0, rb);
        CpuBuf dhb = p.dhRows(r0, rb);
        float dhBeta = k == 0 ? 0f : 1f; // the first tile overwrites dh
        int base = r0;
        Parallel.forRange(
            ceilDiv(rb, ROW_TASK),
            p.ops.threads,
            1,
            (from, to) -> {
              Work work = Work.get(p.scratch, nt, 0);
              for (int task = from; task < to; task++) {
                int a = task * ROW_TASK;
                int nr = Math.min(ROW_TASK, rb - a);
                CpuBuf sr = sb.slice((long) a * nt, (long) nr * nt);
                Blas.sgemm(
                    false,
                    true,
                    nr,
                    nt,
                    d,
                    1f,
                    hb.slice((long) a * d, (long) nr * d),
                    d,
                    e,
                    d,
                    0f,
                    sr,
                    nt);
                float[] row = work.scores;
                for (int r = 0; r < nr; r++) {
                  sr.data.get(sr.offset + r * nt, row, 0, nt);
                  softmaxMinusOneHot(p, row, work.exps, nt, base + a + r, i0);
                  for (int i = 0; i < nt; i++) {
                    row[i] = (float) (work.exps[i] * p.invV);
                  }
                  sr.data.put(sr.offset + r * nt, row, 0, nt);
                }
                Blas.sgemm(
                    false,
                    false,
                    nr,
                    d,
                    nt,
                    1f,
                    sr,
                    nt,
                    e,
                    d,
                    dhBeta,
                    dhb.slice((long) a * d, (long) nr * d),
                    d);
              }
            });
        // dE_t (+)= Gᵀ·H_b, each task its own ITEM_TASK items over all rb rows (a decoded tile's
        // first block overwrites, the dense table accumulates).
        tileGradient(p, sb, hb, de, i0, nt, rb, jpq && r0 == 0 ? 0f : 1f);
      }
      if (jpq) {
        de.data.get(de.offset, g.deHeap, 0, nt * d);
        scatterTile(p, g.dc, g.deHeap, i0, nt);
      }
    }
  }

  /**
   * {@code dE_t = Gᵀ·H_b + beta·dE_t} for a tile of nt items and a block of rb rows, G being the
   * block's (rb, nt) gradients: each task its own {@link CpuFullCrossEntropy#ITEM_TASK} items over
   * all rows (a sum over rows, so split by items). With item biases, the same task also adds its
   * items' column sums of G to dBias (rows in order), the tile starting at item i0.
   */
  private static void tileGradient(
      CpuFullCrossEntropyPass p,
      CpuBuf g,
      CpuBuf hb,
      CpuBuf de,
      int i0,
      int nt,
      int rb,
      float beta) {
    int d = p.t.dim();
    Parallel.forRange(
        ceilDiv(nt, ITEM_TASK),
        p.ops.threads,
        1,
        (from, to) -> {
          for (int task = from; task < to; task++) {
            int a = task * ITEM_TASK;
            int ni = Math.min(ITEM_TASK, nt - a);
            Blas.sgemm(
                true,
                false,
                ni,
                d,
                rb,
                1f,
                g.slice(a, (long) rb * nt - a),
                nt,
                hb,
                d,
                beta,
                de.slice((long) a * d, (long) ni * d),
                d);
            if (p.dBias
                != null) { // each item's column summed over the rows in order, read row by row
              float[] sum = new float[ni];
              float[] row = new float[ni];
              for (int r = 0; r < rb; r++) {
                g.data.get(g.offset + r * nt + a, row, 0, ni);
                for (int i = 0; i < ni; i++) {
                  sum[i] += row[i];
                }
              }
              for (int i = 0; i < ni; i++) {
                int at = p.dBias.offset + i0 + a + i;
                p.dBias.data.put(at, p.dBias.data.get(at) + sum[i]);
              }
            }
          }
        });
  }

  /**
   * The tile's embeddings: a view of the dense table, or RecJPQ codes decoded into {@code et} from
   * {@code cb}, a heap copy of the codebooks (one bulk copy of S floats per item and split).
   */
  private static CpuBuf tileEmbeddings(
      CpuFullCrossEntropyPass p, CpuBuf et, float[] cb, int i0, int nt) {
    ItemTable t = p.t;
    int d = t.dim();
    if (!t.isJpq()) {
      return t.table().slice((long) i0 * d, (long) nt * d);
    }
    int m = t.splits();
    int sub = t.subDim();
    byte[] code = t.codes().data;
    Parallel.forRange(
        nt,
        p.ops.threads,
        Math.max(1, 8192 / d),
        (from, to) -> {
          for (int i = from; i < to; i++) {
            int item = i0 + i;
            for (int k = 0; k < m; k++) {
              et.data.put(
                  et.offset + i * d + k * sub,
                  cb,
                  (k * 256 + (code[item * m + k] & 0xff)) * sub,
                  sub);
            }
          }
        });
    return et.slice(0, (long) nt * d);
  }

  /**
   * {@code dc[k][codes[i][k]] += de[i][k-block]} for the tile's items, dc being a heap copy of
   * dCodebooks and de a heap copy of the tile's gradient: threads own splits, items in order.
   */
  private static void scatterTile(
      CpuFullCrossEntropyPass p, float[] dc, float[] de, int i0, int nt) {
    ItemTable t = p.t;
    int d = t.dim();
    int m = t.splits();
    int sub = t.subDim();
    byte[] code = t.codes().data;
    int grain = (long) nt * d < 8192 ? m : 1;
    Parallel.forRange(
        m,
        p.ops.threads,
        grain,
        (from, to) -> {
          for (int k = from; k < to; k++) {
            for (int i = 0; i < nt; i++) {
              int dst = (k * 256 + (code[(i0 + i) * m + k] & 0xff)) * sub;
              int src = i * d + k * sub;
              for (int j = 0; j < sub; j++) {
                dc[dst + j] += de[src + j];
              }
            }
          }
        });
  }
}
