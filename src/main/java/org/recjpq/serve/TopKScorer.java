package org.recjpq.serve;

/**
 * Exact top-K over the whole catalogue for one query representation h (d floats): every
 * implementation returns the same items in the same order, ranked by the head's canonical score
 * ({@link ServingHead}), ties to the lower internal id. Implementations are thread-safe (their
 * scratch is per thread).
 */
public interface TopKScorer {
  /** Short name, as the benchmarks print it. */
  String name();

  /**
   * Collects into {@code out} (already reset to K) the best items for {@code h} not excluded by
   * {@code filter}.
   */
  void topK(float[] h, ItemFilter filter, TopK out);
}
