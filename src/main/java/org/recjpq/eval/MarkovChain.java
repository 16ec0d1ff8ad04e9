package org.recjpq.eval;

import java.util.Arrays;
import org.recjpq.data.LeaveOneOut.Phase;
import org.recjpq.data.SequenceDataset;

/**
 * A first-order Markov chain over items: the score of item {@code j} after a history ending in
 * {@code i} is the number of times {@code j} directly followed {@code i} in the training histories
 * of the phase, plus {@code popularity(j) / (maxPopularity + 1)} (always below 1) so that items
 * never seen after {@code i} are ranked by popularity. It is the simplest model that learns
 * transitions, a sanity baseline between MostPop and the neural models.
 *
 * <p>Transitions are stored as CSR by source item: memory O(distinct transitions).
 */
public final class MarkovChain implements Scorer {
  private final float[] prior; // popularity / (max + 1), in [0, 1)
  private final int[] offsets; // (numItems + 1)
  private final int[] next; // successor items, ascending within a source
  private final float[] count; // transition counts

  private MarkovChain(float[] prior, int[] offsets, int[] next, float[] count) {
    this.prior = prior;
    this.offsets = offsets;
    this.next = next;
    this.count = count;
  }

  /** Counts transitions in every user's {@code phase} history. */
  public static MarkovChain fit(SequenceDataset ds, Phase phase) {
    float[] pop = MostPopular.popularity(ds, phase);
    float max = 0;
    for (float p : pop) {
      max = Math.max(max, p);
    }
    float[] prior = new float[pop.length];
    for (int i = 0; i < pop.length; i++) {
      prior[i] = pop[i] / (max + 1);
    }
    int[] flat = ds.flatItems();
    long pairs = 0;
    for (int u = 0; u < ds.numUsers(); u++) {
      pairs += Math.max(0, phase.historyLength(ds, u) - 1);
    }
    long[] keys = new long[Math.toIntExact(pairs)];
    int p = 0;
    for (int u = 0; u < ds.numUsers(); u++) {
      int start = ds.offset(u);
      for (int k = 1; k < phase.historyLength(ds, u); k++) {
        keys[p++] = ((long) flat[start + k - 1] << 32) | flat[start + k];
      }
    }
    Arrays.parallelSort(keys);
    int distinct = 0;
    for (int k = 0; k < keys.length; k++) {
      if (k == 0 || keys[k] != keys[k - 1]) {
        distinct++;
      }
    }
    int[] offsets = new int[ds.numItems() + 1];
    int[] next = new int[distinct];
    float[] count = new float[distinct];
    int d = -1;
    for (int k = 0; k < keys.length; k++) {
      if (k == 0 || keys[k] != keys[k - 1]) {
        d++;
        next[d] = (int) keys[k];
        offsets[(int) (keys[k] >>> 32) + 1]++;
      }
      count[d]++;
    }
    for (int i = 0; i < ds.numItems(); i++) {
      offsets[i + 1] += offsets[i];
    }
    return new MarkovChain(prior, offsets, next, count);
  }

  @Override
  public String name() {
    return "markov";
  }

  @Override
  public int numItems() {
    return prior.length;
  }

  @Override
  public ScoreBatch batch(HistoryBatch histories) {
    int rows = histories.rows();
    int[] last = new int[rows];
    for (int r = 0; r < rows; r++) {
      last[r] = histories.last(r);
    }
    return (from, to, out) -> {
      int w = to - from;
      for (int r = 0; r < rows; r++) {
        System.arraycopy(prior, from, out, r * w, w);
        int src = last[r];
        if (src < 0) {
          continue;
        }
        int lo = lowerBound(next, offsets[src], offsets[src + 1], from);
        for (int k = lo; k < offsets[src + 1] && next[k] < to; k++) {
          out[r * w + next[k] - from] += count[k];
        }
      }
    };
  }

  private static int lowerBound(int[] a, int from, int to, int key) {
    int lo = from;
    int hi = to;
    while (lo < hi) {
      int mid = (lo + hi) >>> 1;
      if (a[mid] < key) {
        lo = mid + 1;
      } else {
        hi = mid;
      }
    }
    return lo;
  }
}
