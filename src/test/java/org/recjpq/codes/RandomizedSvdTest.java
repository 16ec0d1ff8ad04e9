package org.recjpq.codes;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import org.ejml.data.DMatrixRMaj;
import org.ejml.dense.row.CommonOps_DDRM;
import org.ejml.dense.row.SingularOps_DDRM;
import org.ejml.dense.row.factory.DecompositionFactory_DDRM;
import org.ejml.interfaces.decomposition.QRDecomposition;
import org.ejml.interfaces.decomposition.SingularValueDecomposition_F64;
import org.junit.jupiter.api.Test;
import org.recjpq.util.Progress;

/** The randomized SVD against an exact dense SVD (EJML) on small matrices. */
class RandomizedSvdTest {

  /** A (users × items) = U diag(s) Vᵀ + small noise, with orthonormal random U and V. */
  static double[] lowRankPlusNoise(int users, int items, double[] s, double noise, long seed) {
    Random rnd = new Random(seed);
    DMatrixRMaj u = orthonormal(users, s.length, rnd);
    DMatrixRMaj v = orthonormal(items, s.length, rnd);
    double[] a = new double[users * items];
    for (int i = 0; i < users; i++) {
      for (int j = 0; j < items; j++) {
        double x = noise * rnd.nextGaussian();
        for (int k = 0; k < s.length; k++) {
          x += u.get(i, k) * s[k] * v.get(j, k);
        }
        a[i * items + j] = (float) x; // the matrix stores floats
      }
    }
    return a;
  }

  static DMatrixRMaj orthonormal(int rows, int cols, Random rnd) {
    DMatrixRMaj g = new DMatrixRMaj(rows, cols);
    for (int i = 0; i < g.data.length; i++) {
      g.data[i] = rnd.nextGaussian();
    }
    QRDecomposition<DMatrixRMaj> qr = DecompositionFactory_DDRM.qr(rows, cols);
    qr.decompose(g);
    return qr.getQ(null, true);
  }

  static TrainingMatrix dense(double[] a, int users, int items) {
    int[] rowPtr = new int[users + 1];
    int[] cols = new int[users * items];
    float[] vals = new float[users * items];
    for (int i = 0; i < users; i++) {
      rowPtr[i + 1] = (i + 1) * items;
      for (int j = 0; j < items; j++) {
        cols[i * items + j] = j;
        vals[i * items + j] = (float) a[i * items + j];
      }
    }
    return TrainingMatrix.ofCsr(users, items, rowPtr, cols, vals);
  }

  @Test
  void matchesAnExactSvdUpToSign() {
    int users = 300;
    int items = 200;
    double[] s = {100, 60, 36, 21, 13, 8, 5, 3};
    double[] a = lowRankPlusNoise(users, items, s, 0.01, 1);
    TrainingMatrix m = dense(a, users, items);
    int rank = 6;
    RandomizedSvd.Result r = RandomizedSvd.compute(m, rank, 10, 5, 42, 2, Progress.none());

    DMatrixRMaj exact = new DMatrixRMaj(users, items, true, a);
    SingularValueDecomposition_F64<DMatrixRMaj> svd =
        DecompositionFactory_DDRM.svd(users, items, false, true, false);
    assertTrue(svd.decompose(exact));
    DMatrixRMaj w = svd.getW(null);
    DMatrixRMaj v = svd.getV(null, false);
    SingularOps_DDRM.descendingOrder(null, false, w, v, false);

    for (int k = 0; k < rank; k++) {
      assertEquals(w.get(k, k), r.values()[k], 1e-6 * w.get(k, k), "singular value " + k);
      double dot = 0;
      for (int j = 0; j < items; j++) {
        dot += v.get(j, k) * r.vectors()[j * rank + k];
      }
      assertEquals(1.0, Math.abs(dot), 1e-9, "vector " + k + " up to sign");
    }
    // Largest principal angle between the two rank-6 subspaces: acos(smallest singular value of
    // VᵀV̂).
    DMatrixRMaj vk = CommonOps_DDRM.extract(v, 0, items, 0, rank);
    DMatrixRMaj vhat = new DMatrixRMaj(items, rank, true, r.vectors());
    DMatrixRMaj c = new DMatrixRMaj(rank, rank);
    CommonOps_DDRM.multTransA(vk, vhat, c);
    double[] cos = SingularOps_DDRM.singularValues(c);
    double minCos = java.util.Arrays.stream(cos).min().orElseThrow();
    double angle = Math.acos(Math.min(1.0, minCos));
    assertTrue(angle < 1e-3, "largest principal angle " + angle);
  }

  @Test
  void sameSeedSameBitsWhateverTheThreadsAndSignsAreFixed() {
    double[] a = lowRankPlusNoise(120, 90, new double[] {9, 5, 2}, 0.1, 7);
    TrainingMatrix m = dense(a, 120, 90);
    RandomizedSvd.Result one = RandomizedSvd.compute(m, 3, 4, 2, 11, 1, Progress.none());
    RandomizedSvd.Result two = RandomizedSvd.compute(m, 3, 4, 2, 11, 2, Progress.none());
    assertArrayEquals(one.vectors(), two.vectors());
    for (int k = 0; k < 3; k++) {
      double best = 0;
      for (int j = 0; j < 90; j++) {
        double x = one.vectors()[j * 3 + k];
        if (Math.abs(x) > Math.abs(best)) {
          best = x;
        }
      }
      assertTrue(best > 0, "largest entry of vector " + k + " is positive");
    }
  }
}
