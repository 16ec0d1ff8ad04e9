package org.recjpq.serve;

import java.util.Set;

/**
 * Per-request options.
 *
 * @param filterSeen leave the history's items out of the ranking (the default, as in evaluation)
 * @param exclude external ids never to recommend (unknown ids are ignored)
 * @param allow when not null, rank only these external ids (unknown ids are ignored)
 */
public record RecommendOptions(boolean filterSeen, Set<String> exclude, Set<String> allow) {
  public RecommendOptions {
    exclude = exclude == null ? Set.of() : Set.copyOf(exclude);
    allow = allow == null ? null : Set.copyOf(allow);
  }

  /** Filter seen items, nothing excluded, everything allowed. */
  public static RecommendOptions defaults() {
    return new RecommendOptions(true, Set.of(), null);
  }

  public RecommendOptions withFilterSeen(boolean filter) {
    return new RecommendOptions(filter, exclude, allow);
  }

  public RecommendOptions withExclude(Set<String> ids) {
    return new RecommendOptions(filterSeen, ids, allow);
  }

  public RecommendOptions withAllow(Set<String> ids) {
    return new RecommendOptions(filterSeen, exclude, ids);
  }
}
