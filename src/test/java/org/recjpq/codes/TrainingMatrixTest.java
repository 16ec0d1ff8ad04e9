package org.recjpq.codes;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

class TrainingMatrixTest {
  /** 3 users × 4 items, counts; item 3 has no interaction. */
  private static TrainingMatrix small() {
    int[] rowPtr = {0, 2, 5, 6};
    int[] cols = {0, 1, 0, 1, 2, 2};
    float[] vals = {1, 2, 3, 1, 1, 4};
    return TrainingMatrix.ofCsr(3, 4, rowPtr, cols, vals);
  }

  private static double[][] dense(TrainingMatrix a) {
    // Columns of A are A^T e_u: read them through both products, so the CSR and the CSC copies are
    // checked.
    double[][] out = new double[a.numUsers()][a.numItems()];
    double[][] viaRows = new double[a.numUsers()][a.numItems()];
    for (int i = 0; i < a.numItems(); i++) {
      double[] x = new double[a.numItems()];
      x[i] = 1;
      double[] col = new double[a.numUsers()];
      a.multiply(x, col, 1, 2);
      for (int u = 0; u < a.numUsers(); u++) {
        viaRows[u][i] = col[u];
      }
    }
    for (int u = 0; u < a.numUsers(); u++) {
      double[] y = new double[a.numUsers()];
      y[u] = 1;
      a.multiplyTransposed(y, out[u], 1, 2);
      for (int i = 0; i < a.numItems(); i++) {
        assertEquals(
            viaRows[u][i], out[u][i], 0.0, "CSR and CSC disagree at (" + u + ", " + i + ")");
      }
    }
    return out;
  }

  @Test
  void degreeNormalisationDividesEachCountByTheRootsOfItsRowAndColumnSums() {
    TrainingMatrix a = small();
    double[][] before = dense(a);
    double[][] after = dense(a.degreeNormalised());
    double[] rowSum = {3, 5, 4};
    double[] colSum = {4, 3, 5, 0};
    for (int u = 0; u < 3; u++) {
      for (int i = 0; i < 4; i++) {
        double expected = before[u][i] == 0 ? 0 : before[u][i] / Math.sqrt(rowSum[u] * colSum[i]);
        assertEquals(expected, after[u][i], 1e-7, "(" + u + ", " + i + ")");
      }
    }
    assertEquals(2 / Math.sqrt(3.0 * 3.0), after[0][1], 1e-7);
    assertEquals(a.nonZeros(), a.degreeNormalised().nonZeros());
    assertEquals(a.interactions(), a.degreeNormalised().interactions());
  }
}
