package org.recjpq.eval;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.Arrays;
import java.util.HashSet;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.recjpq.RecjpqException;
import org.recjpq.data.DatasetBuilder;
import org.recjpq.data.LeaveOneOut;
import org.recjpq.data.LeaveOneOut.Phase;
import org.recjpq.data.SequenceDataset;

class EvaluatorTest {

  /**
   * Scores = a small-integer hash of (history, item): many ties, deterministic, history-dependent.
   */
  static final class HashScorer implements Scorer {
    final int numItems;
    final int levels;
    final boolean nanForItemZero;

    HashScorer(int numItems, int levels, boolean nanForItemZero) {
      this.numItems = numItems;
      this.levels = levels;
      this.nanForItemZero = nanForItemZero;
    }

    float score(int[] items, int start, int length, int item) {
      if (nanForItemZero && item == 0) {
        return Float.NaN;
      }
      long h = 1469598103934665603L;
      for (int k = 0; k < length; k++) {
        h = (h ^ items[start + k]) * 1099511628211L;
      }
      h = (h ^ item) * 0x9E3779B97F4A7C15L;
      return (float) Math.floorMod(h >>> 17, levels);
    }

    @Override
    public String name() {
      return "hash";
    }

    @Override
    public int numItems() {
      return numItems;
    }

    @Override
    public ScoreBatch batch(HistoryBatch h) {
      return (from, to, out) -> {
        for (int r = 0; r < h.rows(); r++) {
          for (int i = from; i < to; i++) {
            out[r * (to - from) + i - from] = score(h.items(), h.starts()[r], h.lengths()[r], i);
          }
        }
      };
    }
  }

  /** Rank by sorting every candidate: (score desc, id asc); NaN scores sort last. */
  static int bruteForceRank(
      SequenceDataset ds, HashScorer s, Phase phase, int u, boolean filterSeen) {
    int len = phase.historyLength(ds, u);
    int target = phase.target(ds, u);
    Set<Integer> seen = new HashSet<>();
    for (int k = 0; k < len; k++) {
      seen.add(ds.item(u, k));
    }
    Integer[] cands = new Integer[ds.numItems()];
    int n = 0;
    for (int i = 0; i < ds.numItems(); i++) {
      if (!filterSeen || i == target || !seen.contains(i)) {
        cands[n++] = i;
      }
    }
    Integer[] sorted = Arrays.copyOf(cands, n);
    float[] sc = new float[ds.numItems()];
    for (int i = 0; i < sc.length; i++) {
      sc[i] = s.score(ds.flatItems(), ds.offset(u), len, i);
    }
    Arrays.sort(
        sorted,
        (a, b) -> {
          float x = Float.isNaN(sc[a]) ? Float.NEGATIVE_INFINITY : sc[a];
          float y = Float.isNaN(sc[b]) ? Float.NEGATIVE_INFINITY : sc[b];
          if (x != y) {
            return x > y ? -1 : 1;
          }
          if (Float.isNaN(sc[a]) != Float.isNaN(sc[b])) {
            return Float.isNaN(sc[a]) ? 1 : -1;
          }
          return Integer.compare(a, b);
        });
    if (Float.isNaN(sc[target])) {
      return n; // a NaN target is ranked last
    }
    return Arrays.asList(sorted).indexOf(target) + 1;
  }

  static SequenceDataset randomDataset(Random rnd, int users, int items) {
    int[][] seqs = new int[users][];
    for (int u = 0; u < users; u++) {
      seqs[u] = new int[2 + rnd.nextInt(12)];
      for (int k = 0; k < seqs[u].length; k++) {
        seqs[u][k] = rnd.nextInt(items); // repeats allowed, so the target may be in the history
      }
    }
    return DatasetBuilder.fromSequences(seqs);
  }

  @Test
  void ranksMatchABruteForceSortForEveryTileBatchAndThreadCount() {
    Random rnd = new Random(11);
    for (int trial = 0; trial < 6; trial++) {
      SequenceDataset ds = randomDataset(rnd, 40 + rnd.nextInt(40), 20 + rnd.nextInt(60));
      HashScorer scorer = new HashScorer(ds.numItems(), 2 + trial, trial % 3 == 2);
      for (Phase phase : Phase.values()) {
        int[] users = LeaveOneOut.evaluableUsers(ds, phase);
        for (boolean filter : new boolean[] {true, false}) {
          int[] expected =
              Arrays.stream(users).map(u -> bruteForceRank(ds, scorer, phase, u, filter)).toArray();
          for (int tile : new int[] {1, 7, ds.numItems(), 1000}) {
            for (int batch : new int[] {1, 5, 200}) {
              EvalOptions o =
                  new EvalOptions(new int[] {1, 10}, filter, batch, tile, 1 + (batch % 3));
              EvaluationResult r = Evaluator.evaluate(ds, scorer, phase, users, o);
              int[] ranks = new int[users.length];
              for (int i = 0; i < ranks.length; i++) {
                ranks[i] = r.rank(i);
              }
              assertArrayEquals(
                  expected,
                  ranks,
                  () ->
                      "trial "
                          + " tile "
                          + tile
                          + " batch "
                          + batch
                          + " filter "
                          + filter
                          + " "
                          + phase);
            }
          }
        }
      }
    }
  }

  @Test
  void aggregatesAreMeansOfPerUserMetrics() {
    Random rnd = new Random(3);
    SequenceDataset ds = randomDataset(rnd, 30, 15);
    HashScorer scorer = new HashScorer(ds.numItems(), 4, false);
    EvaluationResult r =
        Evaluator.evaluate(ds, scorer, Phase.TEST, EvalOptions.defaults().withKs(1, 5));
    double ndcg5 = 0;
    double recall1 = 0;
    double mrr = 0;
    for (int i = 0; i < r.users(); i++) {
      ndcg5 += Metrics.ndcg(r.rank(i), 5);
      recall1 += Metrics.recall(r.rank(i), 1);
      mrr += 1.0 / r.rank(i);
    }
    assertEquals(ndcg5 / r.users(), r.ndcg(5), 1e-12);
    assertEquals(recall1 / r.users(), r.recall(1), 1e-12);
    assertEquals(mrr / r.users(), r.mrr(), 1e-12);
    assertEquals(r.ndcg(5), r.toJson().get("ndcg@5").asDouble());
    assertEquals(30, r.toJson().get("users").asInt());
  }

  @Test
  void handCheckedMostPopRanks() {
    // item ids 1..4 -> internal 0..3. Test targets: 4, 1, 2. Training = everything before them.
    SequenceDataset ds =
        DatasetBuilder.fromSequences(new int[][] {{1, 2, 3, 4}, {2, 2, 1}, {3, 1, 2}});
    MostPopular pop = MostPopular.fit(ds, Phase.TEST);
    // counts: item1 = 2 (u0, u2), item2 = 3 (u0, u1 twice), item3 = 2 (u0, u2), item4 = 0
    assertEquals(2f, pop.count(0));
    assertEquals(3f, pop.count(1));
    assertEquals(2f, pop.count(2));
    assertEquals(0f, pop.count(3));
    EvaluationResult unfiltered =
        Evaluator.evaluate(ds, pop, Phase.TEST, EvalOptions.defaults().withFilterSeen(false));
    // order: 2 (3), 1 (2, lower id), 3 (2), 4 (0)
    assertEquals(4, unfiltered.rank(0)); // target 4
    assertEquals(2, unfiltered.rank(1)); // target 1
    assertEquals(1, unfiltered.rank(2)); // target 2
    EvaluationResult filtered = Evaluator.evaluate(ds, pop, Phase.TEST, EvalOptions.defaults());
    assertEquals(1, filtered.rank(0)); // 1, 2, 3 were seen
    assertEquals(1, filtered.rank(1)); // 2 was seen
    assertEquals(1, filtered.rank(2)); // 2 is the target (kept), 1 and 3 seen
  }

  @Test
  void markovScoresTransitionsThenPopularity() {
    SequenceDataset ds =
        DatasetBuilder.fromSequences(new int[][] {{1, 2, 3, 9}, {1, 3, 1, 3, 9}, {2, 1, 9}});
    MarkovChain mc = MarkovChain.fit(ds, Phase.TEST);
    float[] out = new float[ds.numItems()];
    mc.batch(HistoryBatch.of(0)).score(0, ds.numItems(), out); // after item "1"
    // transitions from 1: 1->2 once (u0), 1->3 twice (u1), popularity adds < 1
    assertEquals(2, (int) out[ds.items().indexOf("3")]);
    assertEquals(1, (int) out[ds.items().indexOf("2")]);
    assertEquals(0, (int) out[ds.items().indexOf("1")]);
    float[] tile = new float[2];
    mc.batch(HistoryBatch.of(0)).score(1, 3, tile);
    assertEquals(out[1], tile[0]);
    assertEquals(out[2], tile[1]);
  }

  @Test
  void aModelForAnotherCatalogueIsRejected() {
    SequenceDataset ds = DatasetBuilder.fromSequences(new int[][] {{1, 2, 3}});
    RecjpqException e =
        assertThrows(
            RecjpqException.class,
            () ->
                Evaluator.evaluate(
                    ds, new HashScorer(99, 3, false), Phase.TEST, EvalOptions.defaults()));
    assertEquals(
        "The model 'hash' ranks 99 items but the dataset has 3; it was trained on another dataset.",
        e.getMessage());
  }
}
