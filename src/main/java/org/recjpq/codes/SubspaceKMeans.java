package org.recjpq.codes;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.recjpq.util.Parallel;
import org.recjpq.util.Sampling;
import org.recjpq.util.SplitMix64;

/**
 * Product-quantisation codes of item factors (the {@code svd-pq} strategy): the factor columns are
 * dealt round-robin to the m splits (column j to split j mod m, so every split gets strong and weak
 * directions), and each split's sub-vectors are clustered into {@link ItemCodes#SUB_IDS} groups by
 * k-means; an item's sub-id is its nearest centroid. Items sharing a sub-id are close in a whole
 * subspace, not in one coordinate as with {@link Bucketing}.
 *
 * <p>Centroids start from k-means++ on a seeded sample and are refined by Lloyd iterations on a
 * larger seeded sample ({@link #FIT_SAMPLE} items); the final assignment covers every item. Items
 * whose factor row is all zero (never in the training part) get seeded random sub-ids, so they do
 * not all share one code. Deterministic for a seed whatever the thread count: the parallel loops
 * only write per-item results, and the sums are done in item order.
 */
final class SubspaceKMeans {
  /**
   * RNG streams: samples, k-means++ draws, codes of items without factors, empty-cluster reseeds.
   */
  static final long STREAM_SAMPLE = 0x5051L;

  static final long STREAM_SEEDING = 0x5052L;
  static final long STREAM_COLD = 0x5053L;
  static final long STREAM_RESEED = 0x5054L;

  /** Items the Lloyd iterations run on (a seeded sample when there are more). */
  static final int FIT_SAMPLE = 65_536;

  /** Items k-means++ draws its seeds from. */
  static final int SEED_SAMPLE = 16_384;

  /** Lloyd iterations (fewer when the assignment stops changing). */
  static final int ITERATIONS = 25;

  private SubspaceKMeans() {}

  /**
   * Writes split {@code split} of {@code codes} (item-major, {@code splits} bytes an item) from the
   * columns {@code split, split + splits, ...} of {@code factors} (N × cols, row-major) and returns
   * its centroids (row-major, one row of the split's width per sub-id), or null when the split has
   * no columns or no item with factors, whose items get random sub-ids.
   */
  static float[] assign(
      double[] factors,
      int cols,
      int numItems,
      int split,
      int splits,
      long seed,
      int threads,
      byte[] codes) {
    int n = numItems;
    int dim = 0;
    for (int j = split; j < cols; j += splits) {
      dim++;
    }
    float[] x = new float[Math.multiplyExact(n, Math.max(dim, 1))];
    boolean[] cold = new boolean[n];
    int warm = 0;
    for (int i = 0; i < n; i++) {
      boolean zero = true;
      int t = 0;
      for (int j = split; j < cols; j += splits) {
        float v = (float) factors[i * cols + j];
        x[i * dim + t++] = v;
        zero &= v == 0f;
      }
      cold[i] = zero;
      if (!zero) {
        warm++;
      }
    }
    int[] warmItems = new int[warm];
    for (int i = 0, w = 0; i < n; i++) {
      if (!cold[i]) {
        warmItems[w++] = i;
      }
    }
    SplitMix64 coldRng = SplitMix64.keyed(seed, STREAM_COLD, split);
    for (int i = 0; i < n; i++) {
      if (cold[i]) {
        codes[i * splits + split] = (byte) coldRng.nextInt(ItemCodes.SUB_IDS);
      }
    }
    if (warm == 0) { // no factors at all (or no columns for this split): random sub-ids only
      return null;
    }
    int k = Math.min(ItemCodes.SUB_IDS, warm);
    int[] fit =
        Sampling.sortedSample(
            warmItems, FIT_SAMPLE, SplitMix64.keyed(seed, STREAM_SAMPLE, split)::nextInt);
    int[] seeds =
        Sampling.sortedSample(
            fit, SEED_SAMPLE, SplitMix64.keyed(seed, STREAM_SAMPLE, 1000 + split)::nextInt);
    float[] centroids =
        seedPlusPlus(x, dim, seeds, k, SplitMix64.keyed(seed, STREAM_SEEDING, split));
    int[] label = new int[fit.length];
    Arrays.fill(label, -1);
    SplitMix64 reseed = SplitMix64.keyed(seed, STREAM_RESEED, split);
    for (int it = 0; it < ITERATIONS; it++) {
      int[] next = nearest(x, dim, fit, centroids, k, threads);
      boolean changed = !Arrays.equals(next, label);
      label = next;
      double[] sum = new double[k * dim];
      int[] count = new int[k];
      for (int s = 0; s < fit.length; s++) {
        int c = label[s];
        count[c]++;
        int row = fit[s] * dim;
        for (int t = 0; t < dim; t++) {
          sum[c * dim + t] += x[row + t];
        }
      }
      for (int c = 0; c < k; c++) {
        if (count[c] == 0) { // an empty cluster restarts at a random sample point
          int row = fit[reseed.nextInt(fit.length)] * dim;
          System.arraycopy(x, row, centroids, c * dim, dim);
          changed = true;
        } else {
          for (int t = 0; t < dim; t++) {
            centroids[c * dim + t] = (float) (sum[c * dim + t] / count[c]);
          }
        }
      }
      if (!changed) {
        break;
      }
    }
    int[] all = nearest(x, dim, warmItems, centroids, k, threads);
    for (int w = 0; w < warm; w++) {
      codes[warmItems[w] * splits + split] = (byte) all[w];
    }
    return centroids;
  }

  /**
   * Gives items that share a whole code with another item codes of their own where one sub-id
   * change allows it. Items with factors claim their codes in order of quantisation error (the
   * best-fitting first, then by id); an item whose code is taken moves to the cheapest free code
   * that differs in one split, the cost being how much farther the new centroid is. Items without
   * factors keep their random codes. Sequential, so deterministic. Returns the items moved.
   */
  static int deduplicate(
      double[] factors, int cols, int numItems, int splits, float[][] centroids, byte[] codes) {
    int n = numItems;
    double[] error = new double[n];
    boolean[] warm = new boolean[n];
    float[][] sub = new float[splits][];
    for (int i = 0; i < n; i++) {
      for (int j = 0; j < cols && !warm[i]; j++) {
        warm[i] = factors[i * cols + j] != 0;
      }
      if (!warm[i]) {
        continue;
      }
      for (int k = 0; k < splits; k++) {
        if (centroids[k] != null) {
          sub[k] = subVector(factors, cols, i, k, splits, sub[k]);
          error[i] +=
              distance(
                  sub[k],
                  0,
                  centroids[k],
                  (codes[i * splits + k] & 0xff) * sub[k].length,
                  sub[k].length);
        }
      }
    }
    Integer[] order = new Integer[n];
    for (int i = 0; i < n; i++) {
      order[i] = i;
    }
    Arrays.sort(
        order,
        (a, b) ->
            warm[a] != warm[b]
                ? (warm[a] ? -1 : 1)
                : error[a] != error[b]
                    ? Double.compare(error[a], error[b])
                    : Integer.compare(a, b));
    Set<ByteBuffer> taken = new HashSet<>();
    int moved = 0;
    for (int i : order) {
      byte[] code = Arrays.copyOfRange(codes, i * splits, (i + 1) * splits);
      if (taken.add(ByteBuffer.wrap(code)) || !warm[i]) {
        continue;
      }
      // Candidates: (extra distance, split, sub-id) for every one-split change, cheapest first.
      List<double[]> moves = new ArrayList<>();
      for (int k = 0; k < splits; k++) {
        if (centroids[k] == null) {
          continue;
        }
        float[] x = subVector(factors, cols, i, k, splits, sub[k]);
        int dim = x.length;
        int cur = code[k] & 0xff;
        double base = distance(x, 0, centroids[k], cur * dim, dim);
        for (int c = 0; c < centroids[k].length / dim; c++) {
          if (c != cur) {
            moves.add(new double[] {distance(x, 0, centroids[k], c * dim, dim) - base, k, c});
          }
        }
      }
      moves.sort(
          (a, b) ->
              a[0] != b[0]
                  ? Double.compare(a[0], b[0])
                  : a[1] != b[1] ? Double.compare(a[1], b[1]) : Double.compare(a[2], b[2]));
      for (double[] mv : moves) {
        byte[] next = code.clone();
        next[(int) mv[1]] = (byte) (int) mv[2];
        if (taken.add(ByteBuffer.wrap(next))) {
          System.arraycopy(next, 0, codes, i * splits, splits);
          moved++;
          break;
        }
      }
    }
    return moved;
  }

  /**
   * Item {@code i}'s sub-vector of split {@code split} (columns split, split + splits, ...), as
   * assign() sees it.
   */
  private static float[] subVector(
      double[] factors, int cols, int i, int split, int splits, float[] reuse) {
    int dim = 0;
    for (int j = split; j < cols; j += splits) {
      dim++;
    }
    float[] x = reuse != null && reuse.length == dim ? reuse : new float[dim];
    int t = 0;
    for (int j = split; j < cols; j += splits) {
      x[t++] = (float) factors[i * cols + j];
    }
    return x;
  }

  /**
   * k-means++ seeding (Arthur and Vassilvitskii 2007) over {@code items}: k distinct-by-draw
   * centroids.
   */
  private static float[] seedPlusPlus(float[] x, int dim, int[] items, int k, SplitMix64 rng) {
    float[] c = new float[k * dim];
    double[] d2 = new double[items.length];
    int first = items[rng.nextInt(items.length)];
    System.arraycopy(x, first * dim, c, 0, dim);
    Arrays.fill(d2, Double.POSITIVE_INFINITY);
    for (int j = 1; j <= k; j++) {
      double total = 0;
      for (int s = 0; s < items.length; s++) {
        d2[s] = Math.min(d2[s], distance(x, items[s] * dim, c, (j - 1) * dim, dim));
        total += d2[s];
      }
      if (j == k) {
        break;
      }
      int pick;
      if (total > 0) {
        double r = rng.nextDouble() * total;
        pick = items.length - 1;
        for (int s = 0; s < items.length; s++) {
          r -= d2[s];
          if (r < 0) {
            pick = s;
            break;
          }
        }
      } else { // every point is already a centroid
        pick = rng.nextInt(items.length);
      }
      System.arraycopy(x, items[pick] * dim, c, j * dim, dim);
    }
    return c;
  }

  /** The nearest centroid of each of {@code items} (lowest index on ties). */
  private static int[] nearest(
      float[] x, int dim, int[] items, float[] centroids, int k, int threads) {
    int[] out = new int[items.length];
    Parallel.forRange(
        items.length,
        threads,
        4096,
        (from, to) -> {
          for (int s = from; s < to; s++) {
            int row = items[s] * dim;
            int best = 0;
            double bestD = Double.POSITIVE_INFINITY;
            for (int c = 0; c < k; c++) {
              double d = distance(x, row, centroids, c * dim, dim);
              if (d < bestD) {
                bestD = d;
                best = c;
              }
            }
            out[s] = best;
          }
        });
    return out;
  }

  private static double distance(float[] x, int xOff, float[] c, int cOff, int dim) {
    double s = 0;
    for (int t = 0; t < dim; t++) {
      double diff = x[xOff + t] - c[cOff + t];
      s += diff * diff;
    }
    return s;
  }
}
