package org.recjpq.serve;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.recjpq.data.Vocabulary;

/**
 * The item ids of a {@link Recommender}'s requests: histories resolved to internal ids, the items a
 * request excludes or allows, and answers back in external ids.
 */
final class RequestItems {
  private final Vocabulary items;
  private final int numItems;

  RequestItems(Vocabulary items, int numItems) {
    this.items = items;
    this.numItems = numItems;
  }

  int[] resolve(List<String> history, List<String> unknown) {
    if (history == null) {
      throw new IllegalArgumentException("the history must not be null (an empty list is allowed)");
    }
    int[] known = new int[history.size()];
    int n = 0;
    int position = 0;
    for (String id : history) {
      if (id == null) {
        throw new IllegalArgumentException(
            "the history holds a null item id at position " + position);
      }
      position++;
      int i = items.indexOf(id);
      if (i < 0) {
        unknown.add(id);
      } else {
        known[n++] = i;
      }
    }
    return Arrays.copyOf(known, n);
  }

  interface IntSink {
    void add(int item);
  }

  void exclusions(int[] known, RecommendOptions options, IntSink sink) {
    if (options.filterSeen()) {
      for (int i : known) {
        sink.add(i);
      }
    }
    for (String id : options.exclude()) {
      int i = items.indexOf(id);
      if (i >= 0) {
        sink.add(i);
      }
    }
  }

  /** The items outside the allow list, once per batch. */
  int[] notAllowed(RecommendOptions options) {
    boolean[] ok = new boolean[numItems];
    for (int item : allowed(options)) {
      ok[item] = true;
    }
    return java.util.stream.IntStream.range(0, ok.length).filter(i -> !ok[i]).toArray();
  }

  int[] allowed(RecommendOptions options) {
    return options.allow().stream()
        .mapToInt(items::indexOf)
        .filter(i -> i >= 0)
        .sorted()
        .distinct()
        .toArray();
  }

  Recommendations answer(
      TopK top, List<String> unknown, String source, double backboneMs, double scoringMs) {
    float[] scores = new float[top.size()];
    int[] ids = top.sorted(scores);
    List<String> ext = new ArrayList<>(ids.length);
    for (int i : ids) {
      ext.add(items.externalId(i));
    }
    return new Recommendations(
        List.copyOf(ext), scores, List.copyOf(unknown), source, backboneMs, scoringMs);
  }
}
