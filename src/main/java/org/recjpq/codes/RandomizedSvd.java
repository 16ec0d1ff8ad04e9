package org.recjpq.codes;

import org.ejml.data.DMatrixRMaj;
import org.ejml.dense.row.CommonOps_DDRM;
import org.ejml.dense.row.SingularOps_DDRM;
import org.ejml.dense.row.factory.DecompositionFactory_DDRM;
import org.ejml.interfaces.decomposition.SingularValueDecomposition_F64;
import org.recjpq.util.Parallel;
import org.recjpq.util.Progress;
import org.recjpq.util.SplitMix64;

/**
 * Randomized truncated SVD (Halko, Martinsson and Tropp 2011, algorithms 4.4 and 5.1) of the sparse
 * user × item matrix A, for its top right singular vectors (the item factors).
 *
 * <p>With l = rank + oversampling columns: a Gaussian test matrix G (users × l) gives the
 * item-space sample {@code Q = orth(Aᵀ G)}; each power iteration replaces it by {@code orth(Aᵀ
 * orth(A Q))}, re-orthonormalising on both sides so the small singular values are not lost to
 * rounding. Then {@code A Q = Q_b R} (TSQR), and since {@code Qᵀ Aᵀ = Rᵀ Q_bᵀ}, the SVD of the l ×
 * l matrix {@code Rᵀ = Û Σ Wᵀ} gives the singular values Σ and the right singular vectors of A as
 * {@code Q Û}. All large products are sparse × dense and parallel; the only dense factorizations
 * are EJML's (Householder QR of row blocks and of stacked l × l factors; SVD of one l × l matrix).
 * Deterministic for a seed, whatever the thread count (G is drawn per user row from its own
 * stream). Each output column's sign is fixed so that its largest-magnitude entry is positive.
 */
final class RandomizedSvd {
  /** Result: {@code vectors} is N × rank row-major; {@code values} descending. */
  record Result(double[] vectors, double[] values, int rank) {}

  private RandomizedSvd() {}

  static Result compute(
      TrainingMatrix a,
      int rank,
      int oversampling,
      int powerIterations,
      long seed,
      int threads,
      Progress progress) {
    int n = a.numItems;
    int u = a.numUsers;
    int l = Math.min(rank + oversampling, Math.min(n, u));
    if ((long) n * l > Integer.MAX_VALUE - 8 || (long) u * l > Integer.MAX_VALUE - 8) {
      throw new org.recjpq.RecjpqException(
          "The SVD sample of "
              + n
              + " items x "
              + l
              + " columns exceeds one Java array; lower --splits"
              + " or --oversampling.");
    }
    double[] g = new double[u * l]; // users × l, reused for every user-side matrix
    Parallel.forRange(
        u,
        threads,
        4096,
        (from, to) -> {
          for (int r = from; r < to; r++) {
            SplitMix64 rng = SplitMix64.keyed(seed, 0x5bd1e995L, r);
            for (int j = 0; j < l; j++) {
              g[r * l + j] = rng.nextGaussian();
            }
          }
        });
    double[] q = new double[n * l]; // items × l
    a.multiplyTransposed(g, q, l, threads);
    Tsqr.orthonormalize(q, n, l, threads);
    progress.step(1);
    for (int it = 0; it < powerIterations; it++) {
      a.multiply(q, g, l, threads);
      Tsqr.orthonormalize(g, u, l, threads);
      a.multiplyTransposed(g, q, l, threads);
      Tsqr.orthonormalize(q, n, l, threads);
      progress.step(1);
    }
    a.multiply(q, g, l, threads); // A Q = Q_b R
    DMatrixRMaj r = Tsqr.orthonormalize(g, u, l, threads);
    DMatrixRMaj rt = new DMatrixRMaj(l, l);
    CommonOps_DDRM.transpose(r, rt);
    SingularValueDecomposition_F64<DMatrixRMaj> svd =
        DecompositionFactory_DDRM.svd(l, l, true, true, false);
    if (!svd.decompose(rt)) {
      throw new IllegalStateException("SVD of the " + l + " x " + l + " projected matrix failed");
    }
    DMatrixRMaj uHat = svd.getU(null, false);
    DMatrixRMaj w = svd.getW(null);
    DMatrixRMaj v = svd.getV(null, false);
    SingularOps_DDRM.descendingOrder(uHat, false, w, v, false);
    int k = Math.min(rank, l);
    double[] values = new double[k];
    for (int j = 0; j < k; j++) {
      values[j] = w.get(j, j);
    }
    double[] vectors = new double[n * k]; // Q Û[:, :k]
    Parallel.forRange(
        n,
        threads,
        4096,
        (from, to) -> {
          for (int i = from; i < to; i++) {
            for (int j = 0; j < k; j++) {
              double s = 0;
              for (int t = 0; t < l; t++) {
                s += q[i * l + t] * uHat.get(t, j);
              }
              vectors[i * k + j] = s;
            }
          }
        });
    fixSigns(vectors, n, k);
    progress.step(1);
    return new Result(vectors, values, k);
  }

  /** Makes each column's largest-magnitude entry positive (lowest row on ties). */
  static void fixSigns(double[] v, int rows, int cols) {
    for (int j = 0; j < cols; j++) {
      double best = 0;
      for (int i = 0; i < rows; i++) {
        if (Math.abs(v[i * cols + j]) > Math.abs(best)) {
          best = v[i * cols + j];
        }
      }
      if (best < 0) {
        for (int i = 0; i < rows; i++) {
          v[i * cols + j] = -v[i * cols + j];
        }
      }
    }
  }
}
