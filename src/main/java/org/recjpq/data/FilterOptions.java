package org.recjpq.data;

import org.recjpq.UsageException;

/**
 * Which users and items to keep.
 *
 * <p>Users with fewer than {@code minUserInteractions} interactions are dropped (default 5, as in
 * the RecJPQ paper). When {@code minItemInteractions} is above 1, items with fewer interactions are
 * dropped too, and the two filters are applied again and again until both hold (a k-core), since
 * dropping items can shorten users and vice versa. Items left with no interaction disappear from
 * the vocabulary.
 */
public record FilterOptions(int minUserInteractions, int minItemInteractions) {
  public static final FilterOptions DEFAULT = new FilterOptions(5, 0);
  public static final FilterOptions NONE = new FilterOptions(1, 0);

  public FilterOptions {
    if (minUserInteractions < 1) {
      throw new UsageException(
          "The minimum number of interactions per user must be at least 1, found "
              + minUserInteractions
              + ".");
    }
    if (minItemInteractions < 0) {
      throw new UsageException(
          "The minimum number of interactions per item must be 0 or more, found "
              + minItemInteractions
              + ".");
    }
  }
}
