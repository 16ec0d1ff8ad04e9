package org.recjpq.serve;

import java.util.List;

/**
 * One answer: the recommended external item ids, best first, with their scores.
 *
 * @param items external ids, best first
 * @param scores their scores (model scores, or training counts for the popularity fallback)
 * @param unknownItems history ids the model does not know (skipped)
 * @param source {@code "model"}, or {@code "popularity"} when no known item was left in the history
 * @param backboneMs time to encode the history (0 for popularity)
 * @param scoringMs time to rank the catalogue
 */
public record Recommendations(
    List<String> items,
    float[] scores,
    List<String> unknownItems,
    String source,
    double backboneMs,
    double scoringMs) {}
