package org.recjpq.data;

import java.util.Arrays;

/**
 * Users' item sequences in time order, with contiguous internal ids.
 *
 * <p>Layout (CSR): user {@code u}'s items are {@code items[offsets[u] .. offsets[u+1])}, oldest
 * first. Items are internal ids 0..numItems-1; {@link #items()} and {@link #users()} map them to
 * external ids. Immutable; the arrays returned by {@link #flatItems()} and {@link #offsets()} are
 * shared, not copied, for zero-copy batching, and must not be modified.
 */
public final class SequenceDataset {
  private final Vocabulary users;
  private final Vocabulary items;
  private final int[] offsets; // (numUsers + 1)
  private final int[] flat; // (numInteractions)
  private final DatasetInfo info;

  /**
   * @param offsets numUsers + 1 non-decreasing offsets starting at 0 and ending at flat.length
   * @param flat every user's items, internal ids in [0, items.size())
   */
  public SequenceDataset(
      Vocabulary users, Vocabulary items, int[] offsets, int[] flat, DatasetInfo info) {
    this(users, items, offsets, flat, info, true);
  }

  private SequenceDataset(
      Vocabulary users,
      Vocabulary items,
      int[] offsets,
      int[] flat,
      DatasetInfo info,
      boolean validate) {
    if (validate) {
      validate(users, items, offsets, flat);
    }
    this.users = users;
    this.items = items;
    this.offsets = offsets;
    this.flat = flat;
    this.info = info;
  }

  private static void validate(Vocabulary users, Vocabulary items, int[] offsets, int[] flat) {
    if (offsets.length != users.size() + 1
        || offsets[0] != 0
        || offsets[users.size()] != flat.length) {
      throw new IllegalArgumentException(
          "offsets must have numUsers + 1 entries from 0 to the number of interactions");
    }
    for (int u = 0; u < users.size(); u++) {
      if (offsets[u] > offsets[u + 1]) {
        throw new IllegalArgumentException("offsets decrease at user " + u);
      }
    }
    int n = items.size();
    for (int i = 0; i < flat.length; i++) {
      if (flat[i] < 0 || flat[i] >= n) {
        throw new IllegalArgumentException(
            "item id " + flat[i] + " at position " + i + " is outside [0, " + n + ")");
      }
    }
  }

  public Vocabulary users() {
    return users;
  }

  public Vocabulary items() {
    return items;
  }

  public int numUsers() {
    return users.size();
  }

  public int numItems() {
    return items.size();
  }

  public int numInteractions() {
    return flat.length;
  }

  /** Where the data came from and how it was filtered. */
  public DatasetInfo info() {
    return info;
  }

  /** Number of items of user {@code u}. */
  public int length(int u) {
    return offsets[u + 1] - offsets[u];
  }

  /** Start of user {@code u}'s items in {@link #flatItems()}. */
  public int offset(int u) {
    return offsets[u];
  }

  /** The {@code pos}-th item (0 = oldest) of user {@code u}. */
  public int item(int u, int pos) {
    return flat[offsets[u] + pos];
  }

  /** A copy of user {@code u}'s items, oldest first. */
  public int[] sequence(int u) {
    return Arrays.copyOfRange(flat, offsets[u], offsets[u + 1]);
  }

  /** All users' items (shared; do not modify). */
  public int[] flatItems() {
    return flat;
  }

  /** User offsets into {@link #flatItems()} (shared; do not modify). */
  public int[] offsets() {
    return offsets;
  }

  /** The same data with other provenance (e.g. another default split). */
  public SequenceDataset withInfo(DatasetInfo newInfo) {
    return new SequenceDataset(users, items, offsets, flat, newInfo, false);
  }

  /** Longest sequence. */
  public int maxLength() {
    int m = 0;
    for (int u = 0; u < numUsers(); u++) {
      m = Math.max(m, length(u));
    }
    return m;
  }

  @Override
  public String toString() {
    return String.format(
        "%,d users, %,d items, %,d interactions (mean length %.1f)",
        numUsers(),
        numItems(),
        numInteractions(),
        numUsers() == 0 ? 0.0 : (double) numInteractions() / numUsers());
  }
}
