package org.recjpq.codes;

import org.recjpq.UsageException;

/**
 * The N × m code table: item {@code i}'s sub-id in split {@code k} is {@code code(i, k)} in
 * 0..{@link #SUB_IDS}-1. Stored item-major ({@code m} bytes an item, contiguous), the layout the
 * scorers read: an item's m look-ups touch one cache line.
 */
public final class ItemCodes {
  /** Sub-ids per split, b in the paper: one byte. */
  public static final int SUB_IDS = 256;

  /** The most splits a code can have. */
  public static final int MAX_SPLITS = 256;

  private final int numItems;
  private final int splits;
  private final byte[] codes; // (N, m)

  /** Wraps {@code codes} (not copied) of {@code numItems} items × {@code splits} bytes. */
  public ItemCodes(int numItems, int splits, byte[] codes) {
    checkSplits(splits);
    if ((long) numItems * splits != codes.length) {
      throw new IllegalArgumentException(
          "expected "
              + (long) numItems * splits
              + " code bytes for "
              + numItems
              + " items x "
              + splits
              + " splits, found "
              + codes.length);
    }
    this.numItems = numItems;
    this.splits = splits;
    this.codes = codes;
  }

  /** Fails with a clear message unless 1 ≤ m ≤ 256. */
  public static void checkSplits(int splits) {
    if (splits < 1 || splits > MAX_SPLITS) {
      throw new UsageException(
          "The number of splits m must be between 1 and " + MAX_SPLITS + ", found " + splits + ".");
    }
  }

  /** Fails with a clear message unless {@code splits} divides {@code dim} (when dim > 0). */
  public static void checkDivides(int splits, int dim) {
    checkSplits(splits);
    if (dim > 0 && dim % splits != 0) {
      throw new UsageException(
          "The embedding size d = "
              + dim
              + " is not divisible by the number of splits m = "
              + splits
              + "; each split holds d/m dimensions. Choose m among the divisors of "
              + dim
              + ".");
    }
  }

  public int numItems() {
    return numItems;
  }

  /** m, the number of splits (code bytes per item). */
  public int splits() {
    return splits;
  }

  /** Sub-id of item {@code item} in split {@code split}, 0..255. */
  public int code(int item, int split) {
    return codes[item * splits + split] & 0xff;
  }

  /** The raw table, item-major (shared; do not modify). */
  public byte[] raw() {
    return codes;
  }
}
