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
    exclude = exclude == null ? Set.of() : copyWithoutNulls(exclude, "exclude");
    allow = allow == null ? null : copyWithoutNulls(allow, "allow");
  }

  private static Set<String> copyWithoutNulls(Set<String> ids, String what) {
    for (String id : ids) {
      if (id == null) {
        throw new IllegalArgumentException("the " + what + " set holds a null item id");
      }
    }
    return Set.copyOf(ids);
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
