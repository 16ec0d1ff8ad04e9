package org.recjpq.backend.cpu;

import org.recjpq.util.Parallel;

/**
 * GEMMs of the CPU engine, parallel in Java over fixed blocks of rows, with OpenBLAS running
 * single-threaded inside each block.
 *
 * <p>Why not OpenBLAS's own threads: its worker threads spin after each call, and on a machine with
 * few cores they starve the engine's Java threads running the element-wise ops in between (measured
 * on 2 cores: a SASRec step took 9.3 s with OpenBLAS on 2 threads, 1.6 s on 1). Fixed block bounds
 * (not derived from the thread count) keep results identical for any number of threads; the
 * reductions over rows (weight gradients) sum per-block partial products in block order.
 */
final class CpuGemm {
  /** Rows per block. */
  static final int BLOCK_ROWS = 2048;

  private CpuGemm() {}

  private static final CpuScratch PARTIALS = new CpuScratch();

  /** {@code c (m, n) = alpha · a (m, k) · op(b) + beta · c}, split over rows of a and c. */
  static void rows(
      CpuOps ops,
      boolean transB,
      int m,
      int n,
      int k,
      float alpha,
      CpuBuf a,
      int lda,
      CpuBuf b,
      int ldb,
      float beta,
      CpuBuf c,
      int ldc) {
    int blocks = (m + BLOCK_ROWS - 1) / BLOCK_ROWS;
    Parallel.forRange(
        blocks,
        ops.threads,
        1,
        (from, to) -> {
          for (int blk = from; blk < to; blk++) {
            int r0 = blk * BLOCK_ROWS;
            int mb = Math.min(BLOCK_ROWS, m - r0);
            Blas.sgemm(
                false,
                transB,
                mb,
                n,
                k,
                alpha,
                a.slice((long) r0 * lda, (long) (mb - 1) * lda + k),
                lda,
                b,
                ldb,
                beta,
                c.slice((long) r0 * ldc, (long) (mb - 1) * ldc + n),
                ldc);
          }
        });
  }

  /**
   * {@code c (k1, n) += aᵀ · b} where a is (rows, k1) and b (rows, n): the reduction over rows is
   * split into blocks whose partial products are summed in block order.
   */
  static void transposedReduce(
      CpuOps ops,
      int rows,
      int k1,
      int n,
      CpuBuf a,
      int lda,
      CpuBuf b,
      int ldb,
      CpuBuf c,
      int ldc) {
    int blocks = (rows + BLOCK_ROWS - 1) / BLOCK_ROWS;
    if (blocks == 1) {
      Blas.sgemm(true, false, k1, n, rows, 1f, a, lda, b, ldb, 1f, c, ldc);
      return;
    }
    CpuBuf partial = PARTIALS.get((long) blocks * k1 * n);
    Parallel.forRange(
        blocks,
        ops.threads,
        1,
        (from, to) -> {
          for (int blk = from; blk < to; blk++) {
            int r0 = blk * BLOCK_ROWS;
            int rb = Math.min(BLOCK_ROWS, rows - r0);
            Blas.sgemm(
                true,
                false,
                k1,
                n,
                rb,
                1f,
                a.slice((long) r0 * lda, (long) (rb - 1) * lda + k1),
                lda,
                b.slice((long) r0 * ldb, (long) (rb - 1) * ldb + n),
                ldb,
                0f,
                partial.slice((long) blk * k1 * n, (long) k1 * n),
                n);
          }
        });
    Parallel.forRange(
        k1,
        ops.threads,
        (from, to) -> {
          for (int i = from; i < to; i++) {
            for (int j = 0; j < n; j++) {
              float s = c.get(i * ldc + j);
              for (int blk = 0; blk < blocks; blk++) {
                s += partial.get((blk * k1 + i) * n + j);
              }
              c.set(i * ldc + j, s);
            }
          }
        });
  }

  /** {@code out[j] += Σ_rows x[r][j]} (rows, n), per-block partial sums added in block order. */
  static void columnSums(CpuOps ops, int rows, int n, CpuBuf x, CpuBuf out) {
    int blocks = (rows + BLOCK_ROWS - 1) / BLOCK_ROWS;
    float[] partial = new float[blocks * n];
    Parallel.forRange(
        blocks,
        ops.threads,
        1,
        (from, to) -> {
          float[] acc = new float[n];
          for (int blk = from; blk < to; blk++) {
            java.util.Arrays.fill(acc, 0f);
            for (int r = blk * BLOCK_ROWS, end = Math.min(rows, r + BLOCK_ROWS); r < end; r++) {
              int base = x.offset + r * n;
              for (int j = 0; j < n; j++) {
                acc[j] += x.data.get(base + j);
              }
            }
            System.arraycopy(acc, 0, partial, blk * n, n);
          }
        });
    for (int j = 0; j < n; j++) {
      float s = out.get(j);
      for (int blk = 0; blk < blocks; blk++) {
        s += partial[blk * n + j];
      }
      out.set(j, s);
    }
  }
}
