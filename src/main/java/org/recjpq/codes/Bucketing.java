package org.recjpq.codes;

import java.util.Arrays;
import org.recjpq.util.SplitMix64;

/**
 * Turns item factors into codes (docs/method.md §3): for split k, rank all items by their value in
 * factor k and cut the ranking into {@link ItemCodes#SUB_IDS} equal buckets, {@code c_k(i) =
 * floor(256 · rank_k(i) / N)}, so bucket sizes differ by at most one. Ties (equal values after
 * rounding to float, e.g. every item never seen in training, whose factor is exactly 0) are broken
 * by a seeded random permutation drawn separately for each split, so tied items spread evenly over
 * the buckets their ranks cover and do not share one code across splits.
 */
final class Bucketing {
  /** RNG stream of the tie-breaking permutations. */
  static final long STREAM_TIES = 0x7153L;

  private Bucketing() {}

  /**
   * Writes split {@code split} of {@code codes} (item-major, {@code splits} bytes an item) from
   * column {@code column} of {@code factors} (N × cols, row-major); a column index ≥ cols means an
   * all-zero factor (then the split is the tie-breaking permutation alone).
   */
  static void bucket(
      double[] factors,
      int cols,
      int column,
      int numItems,
      int split,
      int splits,
      long seed,
      byte[] codes) {
    int n = numItems;
    int[] perm = new int[n];
    for (int i = 0; i < n; i++) {
      perm[i] = i;
    }
    SplitMix64.keyed(seed, STREAM_TIES, split).shuffle(perm, 0, n);
    int[] itemAt = new int[n]; // perm value -> item
    long[] keys = new long[n];
    for (int i = 0; i < n; i++) {
      double v = column < cols ? factors[i * cols + column] : 0.0;
      if (Double.isNaN(v)) {
        throw new IllegalStateException("item factor " + i + " of column " + column + " is NaN");
      }
      keys[i] = ((long) sortableBits((float) v) << 32) | perm[i];
      itemAt[perm[i]] = i;
    }
    Arrays.parallelSort(keys);
    for (int r = 0; r < n; r++) {
      int item = itemAt[(int) keys[r]];
      codes[item * splits + split] = (byte) ((long) ItemCodes.SUB_IDS * r / n);
    }
  }

  /** An int whose signed order is the float's order (-0.0 and 0.0 made equal). */
  static int sortableBits(float v) {
    int bits = Float.floatToIntBits(v == 0.0f ? 0.0f : v);
    return bits < 0 ? bits ^ 0x7fffffff : bits;
  }
}
