package org.recjpq.eval;

/**
 * A batch of query histories, as slices of one shared array (no copy): row {@code r} is {@code
 * items[starts[r] .. starts[r] + lengths[r])}, oldest first, internal item ids.
 */
public record HistoryBatch(int[] items, int[] starts, int[] lengths) {

  public HistoryBatch {
    if (starts.length != lengths.length) {
      throw new IllegalArgumentException("starts and lengths differ in length");
    }
  }

  /** Number of rows. */
  public int rows() {
    return starts.length;
  }

  /** Length of row {@code r}. */
  public int length(int r) {
    return lengths[r];
  }

  /** Item {@code k} (0 = oldest) of row {@code r}. */
  public int item(int r, int k) {
    return items[starts[r] + k];
  }

  /** The most recent item of row {@code r}, or -1 for an empty history. */
  public int last(int r) {
    return lengths[r] == 0 ? -1 : items[starts[r] + lengths[r] - 1];
  }

  /** A batch of one history. */
  public static HistoryBatch of(int... history) {
    return new HistoryBatch(history, new int[] {0}, new int[] {history.length});
  }
}
