package org.recjpq.eval;

import org.recjpq.data.LeaveOneOut.Phase;
import org.recjpq.data.SequenceDataset;

/**
 * MostPop: every user gets the same ranking, items by how often they occur in the training
 * interactions of the phase (each user's history before the held-out target, so the targets
 * themselves never count). Scores are the counts, exact in float up to 2^24 occurrences.
 */
public final class MostPopular implements Scorer {
  private final float[] counts;

  private MostPopular(float[] counts) {
    this.counts = counts;
  }

  /** Counts item occurrences in every user's {@code phase} history. */
  public static MostPopular fit(SequenceDataset ds, Phase phase) {
    return new MostPopular(popularity(ds, phase));
  }

  /** Occurrences of each item in the users' histories for {@code phase}. */
  static float[] popularity(SequenceDataset ds, Phase phase) {
    long[] c = new long[ds.numItems()];
    int[] flat = ds.flatItems();
    for (int u = 0; u < ds.numUsers(); u++) {
      int start = ds.offset(u);
      int len = phase.historyLength(ds, u);
      for (int k = 0; k < len; k++) {
        c[flat[start + k]]++;
      }
    }
    float[] f = new float[c.length];
    for (int i = 0; i < c.length; i++) {
      f[i] = c[i];
    }
    return f;
  }

  @Override
  public String name() {
    return "mostpop";
  }

  @Override
  public int numItems() {
    return counts.length;
  }

  /** The popularity count of item {@code i}. */
  public float count(int i) {
    return counts[i];
  }

  @Override
  public ScoreBatch batch(HistoryBatch histories) {
    int rows = histories.rows();
    return (from, to, out) -> {
      int w = to - from;
      for (int r = 0; r < rows; r++) {
        System.arraycopy(counts, from, out, r * w, w);
      }
    };
  }
}
