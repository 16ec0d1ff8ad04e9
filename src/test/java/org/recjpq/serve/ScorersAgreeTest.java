package org.recjpq.serve;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.recjpq.codes.ItemCodes;

/**
 * Property test: on random models and catalogues every scorer returns exactly the brute-force top-K
 * of the canonical score (same ids, same order, same float scores), ties to the lower id — with
 * exact ties planted (coarsely quantised codebooks, duplicated codes), filters, K beyond N.
 */
class ScorersAgreeTest {

  /** Brute force: every canonical score, sorted by (score desc, id asc). */
  static int[] bruteForce(
      ServingHead head, float[] h, ItemFilter filter, int k, float[] outScores) {
    float[] q = new float[head.queryFloats()];
    head.prepare(h, q);
    List<Integer> items = new ArrayList<>();
    float[] s = new float[head.numItems()];
    for (int i = 0; i < head.numItems(); i++) {
      s[i] = head.score(q, i);
      if (!filter.excluded(i)) {
        items.add(i);
      }
    }
    items.sort((a, b) -> s[a] != s[b] ? Float.compare(s[b], s[a]) : Integer.compare(a, b));
    int n = Math.min(k, items.size());
    int[] ids = new int[n];
    for (int i = 0; i < n; i++) {
      ids[i] = items.get(i);
      outScores[i] = s[ids[i]];
    }
    return ids;
  }

  static JpqHead randomHead(Random rnd, int n, int m, int sub, boolean coarse) {
    byte[] codes = new byte[n * m];
    int used = 1 + rnd.nextInt(256); // sometimes few sub-ids, so many items share codes
    for (int i = 0; i < codes.length; i++) {
      codes[i] = (byte) rnd.nextInt(used);
    }
    float[] cb = new float[m * ItemCodes.SUB_IDS * sub];
    for (int i = 0; i < cb.length; i++) {
      cb[i] = coarse ? rnd.nextInt(5) - 2 : (float) rnd.nextGaussian();
    }
    return new JpqHead(new ItemCodes(n, m, codes), cb, sub);
  }

  static float[] randomH(Random rnd, int d, boolean coarse) {
    float[] h = new float[d];
    for (int j = 0; j < d; j++) {
      h[j] = coarse ? rnd.nextInt(3) - 1 : (float) rnd.nextGaussian();
    }
    return h;
  }

  @Test
  void everyScorerReturnsTheBruteForceTopKOnRandomRecJpqModels() {
    Random rnd = new Random(7);
    int cases = 0;
    for (int n : new int[] {1, 7, 300, 5_000}) {
      for (int m : new int[] {1, 3, 8}) {
        for (int sub : new int[] {1, 4}) {
          for (boolean coarse : new boolean[] {false, true}) {
            JpqHead head = randomHead(rnd, n, m, sub, coarse);
            cases +=
                checkEveryScorer(
                    rnd,
                    head,
                    coarse,
                    new int[] {1, 10, n + 3},
                    4,
                    null,
                    "n " + n + " m " + m + " s " + sub + (coarse ? " coarse" : ""));
          }
        }
      }
    }
    assertEquals(4 * 3 * 2 * 2 * 3 * 4, cases);
  }

  /**
   * Every RecJPQ scorer (PQTopK with and without pair tables, the pruned scorer on both paths and
   * with pair tables, dense scoring, both batch strategies, and {@code gpu} when given) against the
   * brute force on {@code queries} random queries with random exclusions, for each K; returns the
   * number of (query, K) cases checked.
   */
  static int checkEveryScorer(
      Random rnd,
      JpqHead head,
      boolean coarse,
      int[] ks,
      int queries,
      GpuBatchScorer gpu,
      String what) {
    int n = head.numItems();
    DenseHead decoded = DenseScorer.predecode(head);
    // the pruned scorer twice: codes inline in its posting lists (m = 8) and item stamps, and both
    // with split-pair tables (m = 8; over large catalogues only, forced on here)
    List<TopKScorer> scorers =
        List.of(
            new PqTopKScorer(head),
            new PrunedScorer(head),
            new PrunedScorer(head, 0),
            new DenseScorer(head, decoded),
            new PqTopKScorer(head, 0),
            new PrunedScorer(head, PrunedScorer.DEFAULT_INLINE_BUDGET, 0));
    BatchScorer batch = new BatchScorer(head, new PrunedScorer(head), 3);
    int cases = 0;
    for (int k : ks) {
      float[] hs = new float[queries * head.dim()];
      ItemFilter[] filters = new ItemFilter[queries];
      TopK[] gemmOut = new TopK[queries];
      TopK[] lookupOut = new TopK[queries];
      TopK[] gpuOut = new TopK[queries];
      for (int b = 0; b < queries; b++) {
        System.arraycopy(randomH(rnd, head.dim(), coarse), 0, hs, b * head.dim(), head.dim());
        filters[b] = new ItemFilter(n);
        for (int x = 0; x < n / 10; x++) {
          filters[b].exclude(rnd.nextInt(n));
        }
        gemmOut[b] = new TopK(k);
        lookupOut[b] = new TopK(k);
        gpuOut[b] = new TopK(k);
      }
      batch.topK(hs, queries, filters, gemmOut, BatchScorer.Strategy.GEMM);
      batch.topK(hs, queries, filters, lookupOut, BatchScorer.Strategy.LOOKUP);
      if (gpu != null) {
        gpu.topK(hs, queries, filters, gpuOut);
      }
      for (int b = 0; b < queries; b++) {
        float[] h = new float[head.dim()];
        System.arraycopy(hs, b * head.dim(), h, 0, head.dim());
        float[] want = new float[k];
        int[] ids = bruteForce(head, h, filters[b], k, want);
        String at = what + " k " + k;
        for (TopKScorer sc : scorers) {
          check(at + " " + sc.name(), ids, want, run(sc, h, filters[b], k));
        }
        check(at + " batch gemm", ids, want, gemmOut[b]);
        check(at + " batch lookup", ids, want, lookupOut[b]);
        if (gpu != null) {
          check(at + " gpu algorithm", ids, want, gpuOut[b]);
        }
        cases++;
      }
    }
    return cases;
  }

  @Test
  void denseTablesToo() {
    Random rnd = new Random(11);
    for (int n : new int[] {5, 4_097, 9_000}) {
      int d = 16;
      float[] table = new float[n * d];
      for (int i = 0; i < table.length; i++) {
        table[i] = i % 97 == 0 ? 0.5f : (float) rnd.nextGaussian();
      }
      System.arraycopy(
          table, 0, table, (n - 1) * d, d); // an exact tie between the first and last items
      DenseHead head = DenseHead.of(table, n, d);
      DenseScorer scorer = new DenseScorer(head, head);
      BatchScorer batch = new BatchScorer(head, scorer, 2);
      ItemFilter none = new ItemFilter(n);
      float[] hs = new float[3 * d];
      for (int b = 0; b < 3; b++) {
        System.arraycopy(randomH(rnd, d, false), 0, hs, b * d, d);
      }
      System.arraycopy(table, 0, hs, 0, d); // query = item 0: item 0 and n-1 tie at the top
      TopK[] outs = {new TopK(10), new TopK(10), new TopK(10)};
      batch.topK(hs, 3, new ItemFilter[] {none, none, none}, outs, BatchScorer.Strategy.GEMM);
      for (int b = 0; b < 3; b++) {
        float[] h = new float[d];
        System.arraycopy(hs, b * d, h, 0, d);
        float[] want = new float[10];
        int[] ids = bruteForce(head, h, none, 10, want);
        check("dense n " + n, ids, want, run(scorer, h, none, 10));
        check("dense batch n " + n, ids, want, outs[b]);
        if (b == 0 && n > 5) {
          assertEquals(0, ids[0]);
          assertEquals(n - 1, ids[1]);
        }
      }
    }
  }

  /**
   * Random codes, and codebooks whose sub-ids 0..3 of every split score about 3 per dimension for
   * an all-ones query and the rest about 0: peaked scores, as a trained model's are. {@code bias}
   * may be null.
   */
  static JpqHead peakedHead(Random rnd, int n, int m, int sub, float[] bias) {
    byte[] codes = new byte[n * m];
    rnd.nextBytes(codes);
    float[] cb = new float[m * 256 * sub];
    for (int k = 0; k < m; k++) {
      for (int j = 0; j < 256; j++) {
        for (int s = 0; s < sub; s++) {
          cb[(k * 256 + j) * sub + s] =
              (float) (j < 4 ? 3 + rnd.nextGaussian() * 0.1 : rnd.nextGaussian() * 0.1);
        }
      }
    }
    return new JpqHead(new ItemCodes(n, m, codes), cb, sub, bias);
  }

  @Test
  void pruningVisitsFewItemsWhenScoresArePeaked() {
    // Sub-ids 0..3 of every split score high for h, the rest low: the top items are those with
    // those
    // codes, and the bound falls below the K-th best after a few lists.
    Random rnd = new Random(3);
    int n = 100_000;
    int m = 8;
    int sub = 4;
    JpqHead head = peakedHead(rnd, n, m, sub, null);
    float[] h = new float[m * sub];
    java.util.Arrays.fill(h, 1f);
    ItemFilter none = new ItemFilter(n);
    float[] want = new float[10];
    int[] ids = bruteForce(head, h, none, 10, want);
    long[] visited = new long[2];
    for (int path = 0; path < 2; path++) {
      PrunedScorer pruned =
          new PrunedScorer(head, path == 0 ? PrunedScorer.DEFAULT_INLINE_BUDGET : 0);
      assertEquals(path == 0, pruned.inlineCodes());
      check("peaked", ids, want, run(pruned, h, none, 10));
      visited[path] = pruned.lastVisited();
      assertTrue(visited[path] < n / 4, "visited " + visited[path] + " of " + n);
    }
    assertTrue(
        visited[0] <= visited[1],
        "groups skip items: " + visited[0] + " vs " + visited[1] + " scored");
  }

  @Test
  void prunedPathsAgreeWithBruteForceWhenPruningBites() {
    // Skewed sub-id scores (a few strong sub-ids per split, some of them tied) so that both the
    // stopping rule and the group bounds of the streaming path cut most of the catalogue.
    Random rnd = new Random(5);
    int n = 40_000;
    int m = 8;
    int sub = 2;
    byte[] codes = new byte[n * m];
    rnd.nextBytes(codes);
    float[] cb = new float[m * ItemCodes.SUB_IDS * sub];
    for (int i = 0; i < cb.length; i++) {
      double v = rnd.nextGaussian() * 0.3;
      cb[i] = (float) (rnd.nextInt(40) == 0 ? 2 + Math.rint(v * 4) / 4 : v);
    }
    JpqHead head = new JpqHead(new ItemCodes(n, m, codes), cb, sub);
    PrunedScorer streaming = new PrunedScorer(head);
    PrunedScorer stamps = new PrunedScorer(head, 0);
    PrunedScorer pairs = new PrunedScorer(head, PrunedScorer.DEFAULT_INLINE_BUDGET, 0);
    assertTrue(streaming.inlineCodes());
    long scoredStreaming = 0;
    for (int q = 0; q < 12; q++) {
      float[] h = new float[m * sub];
      for (int j = 0; j < h.length; j++) {
        h[j] = 1f + (float) Math.rint(rnd.nextGaussian() * 4) / 8;
      }
      ItemFilter f = new ItemFilter(n);
      for (int x = 0; x < 500; x++) {
        f.exclude(rnd.nextInt(n));
      }
      for (int k : new int[] {1, 10, 100}) {
        float[] want = new float[k];
        int[] ids = bruteForce(head, h, f, k, want);
        check("streaming q " + q + " k " + k, ids, want, run(streaming, h, f, k));
        scoredStreaming += streaming.lastVisited();
        check("stamps q " + q + " k " + k, ids, want, run(stamps, h, f, k));
        check("pairs q " + q + " k " + k, ids, want, run(pairs, h, f, k));
        assertEquals(streaming.lastVisited(), pairs.lastVisited(), "the same items scored");
      }
    }
    assertTrue(
        scoredStreaming < 36L * n / 2, "pruning should bite: " + scoredStreaming + " items scored");
  }

  @Test
  void tablesNearOverflowFallBackToItemStamps() {
    // Items whose codes hit two table values of -2e38 score -inf by overflow, which the streaming
    // path would read as "already scored" and drop: the scorer must take the stamp path and rank
    // every item, those last.
    Random rnd = new Random(11);
    int n = 500;
    int m = 8;
    byte[] codes = new byte[n * m];
    for (int i = 0; i < codes.length; i++) {
      codes[i] = (byte) rnd.nextInt(4);
    }
    float[] cb = new float[m * ItemCodes.SUB_IDS];
    for (int i = 0; i < cb.length; i++) {
      cb[i] = (float) rnd.nextGaussian();
    }
    cb[0] = -2e38f; // split 0, sub-id 0
    cb[ItemCodes.SUB_IDS] = -2e38f; // split 1, sub-id 0
    JpqHead head = new JpqHead(new ItemCodes(n, m, codes), cb, 1);
    PrunedScorer pruned = new PrunedScorer(head);
    assertTrue(pruned.inlineCodes());
    float[] h = new float[m];
    java.util.Arrays.fill(h, 1f);
    ItemFilter none = new ItemFilter(n);
    float[] want = new float[n];
    int[] ids = bruteForce(head, h, none, n, want);
    assertEquals(Float.NEGATIVE_INFINITY, want[n - 1], "the test needs items that overflow");
    check("near overflow", ids, want, run(pruned, h, none, n));
  }

  static TopK run(TopKScorer sc, float[] h, ItemFilter f, int k) {
    TopK out = new TopK(k);
    sc.topK(h, f, out);
    return out;
  }

  static void check(String what, int[] ids, float[] scores, TopK got) {
    float[] gotScores = new float[got.size()];
    int[] gotIds = got.sorted(gotScores);
    assertArrayEquals(ids, gotIds, what + " ids");
    for (int i = 0; i < ids.length; i++) {
      assertEquals(
          Float.floatToIntBits(scores[i]),
          Float.floatToIntBits(gotScores[i]),
          what + " score " + i);
    }
  }
}
