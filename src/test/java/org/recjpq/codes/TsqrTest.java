package org.recjpq.codes;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Random;
import org.ejml.data.DMatrixRMaj;
import org.junit.jupiter.api.Test;

class TsqrTest {
  @Test
  void multiBlockQrIsOrthonormalReproducesTheMatrixAndIgnoresThreadCount() {
    int rows = 2 * Tsqr.BLOCK_ROWS + 1234; // two blocks, the last with the remainder
    int cols = 7;
    Random rnd = new Random(5);
    double[] a = new double[rows * cols];
    for (int i = 0; i < a.length; i++) {
      a[i] = rnd.nextGaussian() * (1 + (i % cols)); // columns of different scales
    }
    double[] q1 = a.clone();
    DMatrixRMaj r1 = Tsqr.orthonormalize(q1, rows, cols, 1);
    double[] q2 = a.clone();
    DMatrixRMaj r2 = Tsqr.orthonormalize(q2, rows, cols, 3);
    assertArrayEquals(q1, q2, "the result must not depend on the thread count");
    assertArrayEquals(r1.data, r2.data);
    for (int j = 0; j < cols; j++) {
      for (int k = 0; k < cols; k++) {
        double dot = 0;
        for (int i = 0; i < rows; i++) {
          dot += q1[i * cols + j] * q1[i * cols + k];
        }
        assertEquals(j == k ? 1.0 : 0.0, dot, 1e-12, "QᵀQ[" + j + "][" + k + "]");
      }
    }
    for (int i = 0; i < rows; i += 997) {
      for (int j = 0; j < cols; j++) {
        double s = 0;
        for (int k = 0; k < cols; k++) {
          s += q1[i * cols + k] * r1.get(k, j);
        }
        assertEquals(a[i * cols + j], s, 1e-10 * (1 + Math.abs(a[i * cols + j])));
      }
    }
  }

  /**
   * A rank-deficient matrix (a zero column; a column equal to another) is factored, not refused: Q
   * is orthonormal and Q R is the matrix. Its QR used to be an internal error, so that SVD codes of
   * a tiny or degenerate dataset (two users with the same items) failed with exit code 3.
   */
  @Test
  void rankDeficientMatrixGetsAnOrthonormalCompletion() {
    int rows = 5;
    int cols = 3;
    double[] a = {
      1, 0, 1, 2, 0, 2, 3, 0, 3, 0, 0, 0, 1, 0, 1
    }; // column 1 is zero, column 2 equals column 0
    double[] q = a.clone();
    DMatrixRMaj r = Tsqr.orthonormalize(q, rows, cols, 1);
    for (int j = 0; j < cols; j++) {
      for (int k = 0; k < cols; k++) {
        double dot = 0;
        for (int i = 0; i < rows; i++) {
          dot += q[i * cols + j] * q[i * cols + k];
        }
        assertEquals(j == k ? 1.0 : 0.0, dot, 1e-12, "QᵀQ[" + j + "][" + k + "]");
      }
    }
    for (int i = 0; i < rows; i++) {
      for (int j = 0; j < cols; j++) {
        double s = 0;
        for (int k = 0; k < cols; k++) {
          s += q[i * cols + k] * r.get(k, j);
        }
        assertEquals(a[i * cols + j], s, 1e-12);
      }
    }
  }
}
