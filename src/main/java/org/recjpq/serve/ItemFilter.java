package org.recjpq.serve;

import java.util.Arrays;

/**
 * Items to leave out of one ranking (the history when filtering seen items, an exclusion list). Two
 * forms: a stamp per item ({@link #ItemFilter(int)}), cleared in O(1) by moving to a new
 * generation, so a thread reuses one filter for every request without touching N entries; or a
 * sorted list ({@link #of}), small, for batches. Scorers ask only about items good enough to enter
 * the top-K, so either is cheap. Writing is not thread-safe; reading is.
 */
public final class ItemFilter {
  private final int[] stamp;
  private final int[] sorted;
  private int gen = 1;
  private int count; // distinct items excluded (stamp filters)

  /** An empty stamp filter over {@code numItems} items. */
  public ItemFilter(int numItems) {
    stamp = new int[numItems];
    sorted = null;
  }

  private ItemFilter(int[] sortedItems) {
    stamp = null;
    sorted = sortedItems;
  }

  /** A fixed filter excluding {@code items} (any order, repeats allowed). */
  public static ItemFilter of(int[] items) {
    return new ItemFilter(Arrays.stream(items).sorted().distinct().toArray());
  }

  /** Forgets every excluded item (stamp filters). */
  public void clear() {
    if (++gen == Integer.MAX_VALUE) {
      Arrays.fill(stamp, 0);
      gen = 1;
    }
    count = 0;
  }

  /** Excludes {@code item} (stamp filters). */
  public void exclude(int item) {
    if (stamp[item] != gen) {
      stamp[item] = gen;
      count++;
    }
  }

  /** How many distinct items are excluded. */
  public int excludedCount() {
    return stamp != null ? count : sorted.length;
  }

  public boolean excluded(int item) {
    return stamp != null ? stamp[item] == gen : Arrays.binarySearch(sorted, item) >= 0;
  }
}
