package org.recjpq.codes;

import org.recjpq.util.Parallel;
import org.recjpq.util.Progress;
import org.recjpq.util.SplitMix64;

/**
 * BPR matrix factorisation (Rendle et al., UAI 2009) by stochastic gradient ascent on {@code ln
 * σ(x_ui − x_uj)} with L2 regularisation: each step samples an observed (user, item) training pair
 * uniformly and an item the user has not interacted with uniformly, and updates the three factor
 * rows. An epoch is as many steps as there are distinct training pairs.
 *
 * <p>With one thread the result depends only on the seed. With several, threads update the shared
 * factors without locks (Hogwild!, Recht et al. 2011): faster, and as good in practice, but the
 * interleaving (and so the exact codes) varies from run to run.
 */
final class BprFactorizer {
  static final long STREAM_INIT_USERS = 0xb1L;
  static final long STREAM_INIT_ITEMS = 0xb2L;
  static final long STREAM_STEPS = 0xb3L;

  /** Standard deviation of the initial factors. */
  static final double INIT_STD = 0.1;

  private static final int MAX_NEGATIVE_DRAWS = 32;

  private BprFactorizer() {}

  /** Item factors, N × factors row-major. */
  static double[] itemFactors(
      TrainingMatrix a,
      int factors,
      int epochs,
      double lr,
      double reg,
      long seed,
      int threads,
      Progress progress) {
    int m = factors;
    double[] user = init(a.numUsers, m, seed, STREAM_INIT_USERS);
    double[] item = init(a.numItems, m, seed, STREAM_INIT_ITEMS);
    long steps = a.nonZeros();
    for (int epoch = 0; epoch < epochs; epoch++) {
      int e = epoch;
      int workers = (int) Math.max(1, Math.min(threads, steps));
      Parallel.forRange(
          workers,
          workers,
          1,
          (from, to) -> {
            for (int w = from; w < to; w++) {
              long share = steps / workers + (w < steps % workers ? 1 : 0);
              SplitMix64 rng = SplitMix64.keyed(seed, STREAM_STEPS, (long) e * 65_536 + w);
              run(a, user, item, m, share, lr, reg, rng);
            }
          });
      progress.step(1);
    }
    return item;
  }

  private static void run(
      TrainingMatrix a,
      double[] user,
      double[] item,
      int m,
      long steps,
      double lr,
      double reg,
      SplitMix64 rng) {
    int nnz = a.cols.length;
    int n = a.numItems;
    for (long s = 0; s < steps; s++) {
      int p = rng.nextInt(nnz);
      int u = rowOf(a.rowPtr, p);
      int i = a.cols[p];
      int j = -1;
      for (int t = 0; t < MAX_NEGATIVE_DRAWS; t++) {
        int c = rng.nextInt(n);
        if (!contains(a.cols, a.rowPtr[u], a.rowPtr[u + 1], c)) {
          j = c;
          break;
        }
      }
      if (j < 0) {
        continue; // the user has (nearly) every item: no negative to learn from
      }
      int uo = u * m;
      int io = i * m;
      int jo = j * m;
      double x = 0;
      for (int k = 0; k < m; k++) {
        x += user[uo + k] * (item[io + k] - item[jo + k]);
      }
      double g = 1.0 / (1.0 + Math.exp(x)); // σ(−x) = ∂ ln σ(x) / ∂x
      for (int k = 0; k < m; k++) {
        double wu = user[uo + k];
        double hi = item[io + k];
        double hj = item[jo + k];
        user[uo + k] = wu + lr * (g * (hi - hj) - reg * wu);
        item[io + k] = hi + lr * (g * wu - reg * hi);
        item[jo + k] = hj + lr * (-g * wu - reg * hj);
      }
    }
  }

  private static double[] init(int rows, int m, long seed, long stream) {
    double[] f = new double[rows * m];
    for (int r = 0; r < rows; r++) {
      SplitMix64 rng = SplitMix64.keyed(seed, stream, r);
      for (int k = 0; k < m; k++) {
        f[r * m + k] = INIT_STD * rng.nextGaussian();
      }
    }
    return f;
  }

  /** The row holding entry {@code p}: the last u with rowPtr[u] ≤ p. */
  static int rowOf(int[] rowPtr, int p) {
    int lo = 0;
    int hi = rowPtr.length - 2;
    while (lo < hi) {
      int mid = (lo + hi + 1) >>> 1;
      if (rowPtr[mid] <= p) {
        lo = mid;
      } else {
        hi = mid - 1;
      }
    }
    return lo;
  }

  private static boolean contains(int[] sorted, int from, int to, int key) {
    return java.util.Arrays.binarySearch(sorted, from, to, key) >= 0;
  }
}
