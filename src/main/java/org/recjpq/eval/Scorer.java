package org.recjpq.eval;

/**
 * Scores catalogue items for query histories: what the evaluator (and later the batched
 * recommender) streams over. Implemented by the baselines here and by the trained models.
 *
 * <p>Contract: {@link #batch} may be called from several threads at once (one batch per thread); a
 * batch is used by one thread. Scores must be deterministic: the same history, item and tile bounds
 * always give the same float. Higher is better; ties are broken by the caller (lower internal id
 * first).
 */
public interface Scorer {

  /** Short model name, e.g. "mostpop". */
  String name();

  /** Number of items in the catalogue this scorer ranks. */
  int numItems();

  /** Prepares scoring for a batch of histories (e.g. runs the backbone once). */
  ScoreBatch batch(HistoryBatch histories);

  /** Items per tile this scorer works best with (the evaluator may use another size). */
  default int preferredTileSize() {
    return 8192;
  }

  /** Scores for one batch of histories, produced a tile of items at a time. */
  interface ScoreBatch {
    /**
     * Writes the scores of items {@code [from, to)} for every row of the batch into {@code out[r *
     * (to - from) + (i - from)]}.
     */
    void score(int from, int to, float[] out);
  }
}
