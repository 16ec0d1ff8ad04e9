package org.recjpq.codes;

import org.ejml.data.DMatrixRMaj;
import org.ejml.dense.row.factory.DecompositionFactory_DDRM;
import org.ejml.interfaces.decomposition.QRDecomposition;
import org.recjpq.util.Parallel;

/**
 * Thin QR of a tall, skinny matrix by TSQR (tall-skinny QR): the rows are cut into fixed blocks,
 * each block is factored by EJML's Householder QR (in parallel), the stacked small R factors are
 * factored once more, and each block's Q is multiplied by its slice of that second Q. Stable like
 * Householder QR, parallel, and in place: memory beyond the matrix is one block and the small
 * factors. The block bounds depend only on the shape, so the result does not depend on the number
 * of threads.
 */
final class Tsqr {
  /** Rows per block. */
  static final int BLOCK_ROWS = 32_768;

  private Tsqr() {}

  /*
   * EJML's Householder QR returns false when a column is exactly zero on and below the diagonal once
   * the earlier reflections are applied (a rank-deficient matrix: duplicate users, a tiny or
   * degenerate training matrix). It then uses the identity for that step (gamma 0), so Q is still
   * orthonormal and A = Q R still holds, with a zero on R's diagonal: the "orthonormal completion"
   * promised below. The result is used as it is.
   */

  /**
   * Replaces {@code a} (rows × cols, row-major, rows ≥ cols) by an orthonormal basis Q of its
   * column space (Householder QR; columns beyond the rank are an orthonormal completion), and
   * returns R (cols × cols) with {@code a = Q R}.
   */
  static DMatrixRMaj orthonormalize(double[] a, int rows, int cols, int threads) {
    if (rows < cols) {
      throw new IllegalArgumentException("TSQR needs rows >= cols, found " + rows + " x " + cols);
    }
    int blocks =
        Math.max(1, rows / BLOCK_ROWS); // the last block takes the remainder (>= cols rows)
    DMatrixRMaj stacked = new DMatrixRMaj(blocks * cols, cols);
    Parallel.forRange(
        blocks,
        threads,
        1,
        (from, to) -> {
          for (int b = from; b < to; b++) {
            int r0 = b * BLOCK_ROWS;
            int r1 = b == blocks - 1 ? rows : r0 + BLOCK_ROWS;
            DMatrixRMaj block = new DMatrixRMaj(r1 - r0, cols);
            System.arraycopy(a, r0 * cols, block.data, 0, (r1 - r0) * cols);
            QRDecomposition<DMatrixRMaj> qr = DecompositionFactory_DDRM.qr(r1 - r0, cols);
            qr.decompose(block); // false only for a rank-deficient block (see above)
            DMatrixRMaj q = qr.getQ(null, true);
            DMatrixRMaj r = qr.getR(null, true);
            System.arraycopy(q.data, 0, a, r0 * cols, (r1 - r0) * cols);
            synchronized (stacked) {
              System.arraycopy(r.data, 0, stacked.data, b * cols * cols, cols * cols);
            }
          }
        });
    if (blocks == 1) {
      return firstR(stacked, cols);
    }
    QRDecomposition<DMatrixRMaj> qr = DecompositionFactory_DDRM.qr(stacked.numRows, cols);
    DMatrixRMaj copy = stacked.copy();
    qr.decompose(copy); // false only for a rank-deficient matrix, as above
    DMatrixRMaj q2 = qr.getQ(null, true); // (blocks·cols) × cols
    DMatrixRMaj r = qr.getR(null, true);
    Parallel.forRange(
        blocks,
        threads,
        1,
        (from, to) -> {
          double[] row = new double[cols];
          for (int b = from; b < to; b++) {
            int r0 = b * BLOCK_ROWS;
            int r1 = b == blocks - 1 ? rows : r0 + BLOCK_ROWS;
            int s = b * cols; // this block's slice of q2
            for (int i = r0; i < r1; i++) {
              int o = i * cols;
              for (int j = 0; j < cols; j++) {
                double sum = 0;
                for (int k = 0; k < cols; k++) {
                  sum += a[o + k] * q2.data[(s + k) * cols + j];
                }
                row[j] = sum;
              }
              System.arraycopy(row, 0, a, o, cols);
            }
          }
        });
    return r;
  }

  private static DMatrixRMaj firstR(DMatrixRMaj stacked, int cols) {
    DMatrixRMaj r = new DMatrixRMaj(cols, cols);
    System.arraycopy(stacked.data, 0, r.data, 0, cols * cols);
    return r;
  }
}
