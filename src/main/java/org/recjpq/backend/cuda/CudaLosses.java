package org.recjpq.backend.cuda;

import java.util.Arrays;

/**
 * Scoring heads and losses of the CUDA engine; the CPU specification is {@code CpuLosses} (same
 * argument order, the same ignore and PAD rules, parameter gradients {@code +=}, dH and dScores
 * overwritten, losses the mean over rows with a target and gradients carrying its 1/rows). Kernels:
 * {@code cuda/losses.cu}; the full-catalogue cross-entropy, the hot path of the library, is {@link
 * CudaFullCrossEntropy} ({@code cuda/full_ce.cu}), whose Javadoc describes its two tile strategies,
 * the rule that chooses between them and its memory bounds.
 *
 * <p>Shapes: R = rows, C = cols = 1 + n (column 0 the positive), D = dim, M = splits, S = subDim. h
 * (R, D); items, scores, dScores, logQ (R, C); targets (R).
 *
 * <ul>
 *   <li><b>Sampled scores</b>: one warp per (r, c) gathers the item's embedding (a dense row, or
 *       its M sub-embeddings: the RecJPQ decode is fused into the gather) and reduces the dot
 *       product. Backward: dH by one thread per (r, j) over the row's columns in order; the
 *       item-side gradient by float atomics, or, when {@link CudaOps#deterministic()}, by the
 *       ordered kernel (each output element owned by one thread adding the (r, c) entries in order,
 *       with the multiply and the add rounded separately, so the bits equal the CPU engine's).
 *   <li><b>BCE / gBCE and sampled softmax</b>: one warp per row computes the row's loss (double, as
 *       the CPU) and its dScores in one pass; the host sums the per-row losses in row order.
 * </ul>
 *
 * <h2>The full cross-entropy (details in {@link CudaFullCrossEntropy})</h2>
 *
 * <p>Exact softmax over all N items in two streaming passes (online log-sum-exp, then the gradient
 * recomputed), never rows × N logits. Two tile strategies: <b>look-ups</b> (RecJPQ: per row block,
 * sub-id score tables h_k · C_kᵀ by a strided-batched GEMM, then M shared-memory look-ups per (row,
 * item) fused with the softmax, dSub accumulated in shared memory, dH and dCodebooks from dSub by
 * two more batched GEMMs) and <b>decode-then-GEMM</b> (per tile: decode the tile's embeddings,
 * score by GEMM, softmax gradient in place, dH and the tile's gradient by GEMMs, scattered into
 * dCodebooks by code; the dense table is this without the decode, its gradient a GEMM with beta =
 * 1). A dense table always uses the second; RecJPQ picks by a cost model in {@link
 * CudaFullCrossEntropy#choose} (look-ups unless sub-embeddings are tiny, or when the look-up
 * kernels' shared memory does not fit the device). <b>The cost model's constants are first guesses
 * from data-sheet figures, to be measured on a GPU.</b> Memory: the decode-then-GEMM scores are
 * bounded by B·T ≤ 64M floats and a decoded tile by T·D ≤ 16M floats; the look-up tables by B·M·256
 * ≤ 16M floats (and the same for dSub); plus O(V·D) for the compacted rows. In deterministic mode
 * no float atomics are used (64-bit fixed-point shared-memory sums for dSub, one owner thread per
 * element for the tile scatter).
 *
 * <p>The host downloads the targets (R ints) of each loss call to count the rows with a target (the
 * 1/rows of the mean) and to check them; item ids in {@code items} are not checked on the device
 * (an id at or beyond the table's rows is undefined behaviour, where the CPU throws).
 */
public final class CudaLosses {
  private CudaLosses() {}

  /**
   * An item table on the device: dense (N, dim) or RecJPQ codes (N, splits) + codebooks (splits,
   * 256, subDim).
   */
  public record Items(
      CudaBuf table, CudaByteBuf codes, CudaBuf codebooks, int splits, int subDim, int dim) {
    static Items dense(CudaBuf table, int dim) {
      return new Items(table, null, null, 0, 0, dim);
    }

    public static Items jpq(CudaByteBuf codes, CudaBuf codebooks, int splits, int subDim) {
      return new Items(null, codes, codebooks, splits, subDim, splits * subDim);
    }

    boolean isJpq() {
      return codes != null;
    }

    /** How many items the table holds: its rows (dense) or its codes' rows (RecJPQ). */
    long capacity() {
      return isJpq() ? codes.size / splits : table.size / dim;
    }

    /** The buffer kernels read embeddings from: the table, or the codebooks. */
    CudaBuf weights() {
      return isJpq() ? codebooks : table;
    }

    /** The codes, or null (a null pointer: "dense") for a dense table. */
    CudaByteBuf codesOrNull() {
      return isJpq() ? codes : null;
    }

    /**
     * Checks the shapes, and the sizes of the table and of its gradient (when not null) for {@code
     * items} items.
     */
    void check(CudaBuf grad, long items) {
      if (dim <= 0) {
        throw new IllegalArgumentException("the embedding size must be positive, got " + dim + ".");
      }
      if (isJpq()) {
        if (splits <= 0 || subDim <= 0) {
          throw new IllegalArgumentException(
              "RecJPQ needs at least one split and sub-embedding size, got "
                  + splits
                  + " and "
                  + subDim
                  + ".");
        }
        if (codes.size < items * splits) {
          throw new IllegalArgumentException(
              "codes hold "
                  + codes.size
                  + " bytes, expected at least "
                  + items
                  + " items × "
                  + splits
                  + " splits = "
                  + items * splits
                  + ".");
        }
        need("codebooks", codebooks, 256L * dim);
        if (grad != null) {
          need("dCodebooks", grad, 256L * dim);
        }
      } else {
        need("the item table", table, items * dim);
        if (grad != null) {
          need("dTable", grad, items * dim);
        }
      }
    }
  }

  /** Warps per block of the one-warp-per-row (or per entry) kernels. */
  private static final int WARPS = CudaOps.THREADS / 32;

  /**
   * Partitions of the ordered (deterministic) scatter: warps per group of 32 columns, so that about
   * this many warps, times the column groups, share the work (capped by the 256 codes of a split).
   */
  static final int ORDERED_WARPS = 2048;

  // ---- sampled scores ----------------------------------------------------------------------

  static void sampledScores(
      CudaOps ops,
      CudaBuf scores,
      CudaBuf h,
      CudaIntBuf items,
      CudaIntBuf targets,
      Items table,
      int rows,
      int cols) {
    checkSampled(scores, h, items, targets, table, null, rows, cols);
    long entries = (long) rows * cols;
    if (entries == 0) {
      return;
    }
    ops.module()
        .launch(
            Kernels.LOSS_SAMPLED_SCORES,
            warpBlocks(entries),
            CudaOps.THREADS,
            0,
            rows,
            cols,
            table.dim(),
            table.splits(),
            table.subDim(),
            scores,
            h,
            items,
            targets,
            table.weights(),
            table.codesOrNull());
  }

  static void sampledScoresBackward(
      CudaOps ops,
      CudaBuf dH,
      CudaBuf dTable,
      CudaBuf dScores,
      CudaBuf h,
      CudaIntBuf items,
      CudaIntBuf targets,
      Items table,
      int rows,
      int cols) {
    checkSampled(dScores, h, items, targets, table, dTable, rows, cols);
    int d = table.dim();
    need("dH", dH, (long) rows * d);
    if (rows == 0) {
      return;
    }
    int m = table.splits();
    int s = table.subDim();
    ops.launchFlat(
        Kernels.LOSS_SAMPLED_SCORES_DH,
        (long) rows * d,
        rows,
        cols,
        d,
        m,
        s,
        dH,
        dScores,
        items,
        targets,
        table.weights(),
        table.codesOrNull());
    if (cols == 0) {
      return;
    }
    if (ops.deterministic()) {
      int groups = (d + 31) / 32;
      int parts = orderedParts(groups, table.isJpq() ? 256 : table.capacity());
      long warps = (long) groups * parts;
      ops.module()
          .launch(
              Kernels.LOSS_SAMPLED_SCORES_DTABLE_ORDERED,
              warpBlocks(warps),
              CudaOps.THREADS,
              0,
              rows,
              cols,
              d,
              m,
              s,
              parts,
              dTable,
              dScores,
              h,
              items,
              targets,
              table.codesOrNull());
    } else {
      ops.launchFlat(
          Kernels.LOSS_SAMPLED_SCORES_DTABLE_ATOMIC,
          (long) rows * cols * d,
          rows,
          cols,
          d,
          m,
          s,
          dTable,
          dScores,
          h,
          items,
          targets,
          table.codesOrNull());
    }
  }

  /**
   * Partitions of an ordered scatter over {@code groups} column groups and {@code owners} possible
   * owners.
   */
  static int orderedParts(int groups, long owners) {
    return (int) Math.max(1, Math.min(owners, Math.max(1, ORDERED_WARPS / groups)));
  }

  // ---- sampled losses ----------------------------------------------------------------------

  static double bce(
      CudaOps ops,
      CudaBuf dScores,
      CudaBuf scores,
      CudaIntBuf targets,
      int rows,
      int negatives,
      float beta) {
    int cols = checkLoss(dScores, scores, targets, rows, negatives);
    int valid = countValid(ops, targets, rows);
    if (rows == 0) {
      return 0;
    }
    // d row_loss / d s, with the 1/(n+1) of the row and the 1/valid of the mean folded in
    double norm = valid == 0 ? 0 : 1.0 / ((double) valid * cols);
    CudaBuf rowLoss = ops.workspace("loss.sampled.rowloss", 2L * rows); // (R) doubles
    ops.module()
        .launch(
            Kernels.LOSS_BCE,
            warpBlocks(rows),
            CudaOps.THREADS,
            0,
            rows,
            cols,
            beta,
            norm,
            dScores,
            DevicePointer.doubles(rowLoss, 0),
            scores,
            targets);
    return meanOfDoubles(ops, rowLoss, rows, valid);
  }

  static double sampledSoftmax(
      CudaOps ops,
      CudaBuf dScores,
      CudaBuf scores,
      CudaBuf logQ,
      CudaIntBuf targets,
      int rows,
      int negatives) {
    int cols = checkLoss(dScores, scores, targets, rows, negatives);
    need("logQ", logQ, (long) rows * cols);
    int valid = countValid(ops, targets, rows);
    if (rows == 0) {
      return 0;
    }
    double inv = valid == 0 ? 0 : 1.0 / valid;
    CudaBuf rowLoss = ops.workspace("loss.sampled.rowloss", 2L * rows); // (R) doubles
    ops.module()
        .launch(
            Kernels.LOSS_SAMPLED_SOFTMAX,
            warpBlocks(rows),
            CudaOps.THREADS,
            0,
            rows,
            cols,
            inv,
            dScores,
            DevicePointer.doubles(rowLoss, 0),
            scores,
            logQ,
            targets);
    return meanOfDoubles(ops, rowLoss, rows, valid);
  }

  // ---- full cross-entropy ------------------------------------------------------------------

  static double fullCrossEntropy(
      CudaOps ops,
      CudaBuf dH,
      CudaBuf dTable,
      CudaBuf dBias,
      CudaBuf h,
      CudaIntBuf targets,
      Items table,
      CudaBuf bias,
      int rows,
      int numItems) {
    return CudaFullCrossEntropy.run(
            ops, dH, dTable, dBias, h, targets, table, bias, rows, numItems, null, 0, 0)
        .loss();
  }

  // ---- helpers -----------------------------------------------------------------------------

  /**
   * Blocks of {@link CudaOps#THREADS} threads for one warp per unit of work, capped (the kernels
   * stride).
   */
  static int warpBlocks(long warps) {
    return (int) Math.max(1, Math.min(CudaOps.MAX_BLOCKS, (warps + WARPS - 1) / WARPS));
  }

  /** Rows with a target among the first {@code rows} (one download of R ints). */
  static int countValid(CudaOps ops, CudaIntBuf targets, int rows) {
    return validRows(hostTargets(ops, targets, rows), Long.MAX_VALUE).length;
  }

  /** The first {@code rows} targets, downloaded. */
  static int[] hostTargets(CudaOps ops, CudaIntBuf targets, int rows) {
    int[] t = new int[rows];
    if (rows > 0) {
      ops.download(t, targets.slice(0, rows));
    }
    return t;
  }

  /**
   * The indices of the rows with a target, in order, checking that no target reaches {@code
   * numItems}.
   */
  static int[] validRows(int[] targets, long numItems) {
    int[] valid = new int[targets.length];
    int v = 0;
    for (int r = 0; r < targets.length; r++) {
      if (targets[r] >= numItems) {
        throw new IllegalArgumentException(
            "target "
                + targets[r]
                + " of row "
                + r
                + " is outside the catalogue of "
                + numItems
                + " items.");
      }
      if (targets[r] >= 0) {
        valid[v++] = r;
      }
    }
    return Arrays.copyOf(valid, v);
  }

  /** Downloads {@code n} doubles stored in a float buffer of 2n elements. */
  static double[] downloadDoubles(CudaOps ops, CudaBuf buf, int n) {
    float[] raw = new float[2 * n];
    ops.download(raw, buf.slice(0, 2L * n));
    double[] out = new double[n];
    for (int i = 0; i < n; i++) {
      long bits =
          (Integer.toUnsignedLong(Float.floatToRawIntBits(raw[2 * i + 1])) << 32)
              | Integer.toUnsignedLong(Float.floatToRawIntBits(raw[2 * i]));
      out[i] = Double.longBitsToDouble(bits);
    }
    return out;
  }

  /** Σ of n per-row losses (doubles on the device) in row order, / valid; 0 without valid rows. */
  static double meanOfDoubles(CudaOps ops, CudaBuf rowLoss, int n, int valid) {
    if (valid == 0) {
      return 0;
    }
    double sum = 0;
    for (double l : downloadDoubles(ops, rowLoss, n)) {
      sum += l;
    }
    return sum / valid;
  }

  private static void checkSampled(
      CudaBuf scores,
      CudaBuf h,
      CudaIntBuf items,
      CudaIntBuf targets,
      Items t,
      CudaBuf grad,
      int rows,
      int cols) {
    if (rows < 0 || cols < 0) {
      throw new IllegalArgumentException(
          "rows and cols must not be negative, got " + rows + " and " + cols + ".");
    }
    t.check(grad, t.capacity());
    need("scores", scores, (long) rows * cols);
    need("h", h, (long) rows * t.dim());
    needInts("items", items, (long) rows * cols);
    needInts("targets", targets, rows);
  }

  private static int checkLoss(
      CudaBuf dScores, CudaBuf scores, CudaIntBuf targets, int rows, int negatives) {
    if (rows < 0 || negatives < 0) {
      throw new IllegalArgumentException(
          "rows and negatives must not be negative, got " + rows + " and " + negatives + ".");
    }
    int cols = negatives + 1;
    need("scores", scores, (long) rows * cols);
    need("dScores", dScores, (long) rows * cols);
    needInts("targets", targets, rows);
    return cols;
  }

  static void need(String what, CudaBuf x, long n) {
    if (x == null) {
      throw new IllegalArgumentException(what + " is null.");
    }
    if (x.size < n) {
      throw new IllegalArgumentException(
          what + " holds " + x.size + " floats, expected at least " + n + ".");
    }
  }

  static void needInts(String what, CudaIntBuf x, long n) {
    if (x == null) {
      throw new IllegalArgumentException(what + " is null.");
    }
    if (x.size < n) {
      throw new IllegalArgumentException(
          what + " holds " + x.size + " ints, expected at least " + n + ".");
    }
  }
}
