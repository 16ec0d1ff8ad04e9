package org.recjpq.serve;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.recjpq.serve.ScorersAgreeTest.bruteForce;
import static org.recjpq.serve.ScorersAgreeTest.check;
import static org.recjpq.serve.ScorersAgreeTest.randomH;
import static org.recjpq.serve.ScorersAgreeTest.run;

import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.recjpq.backend.cpu.CpuOps;
import org.recjpq.codes.ItemCodes;

/**
 * Heads with per-item score offsets (models trained with item biases): the canonical score is the
 * offset-free score plus the offset, in float; every scorer (PQTopK, both pruned paths with and
 * without pair tables, dense, both batch strategies, the GPU batch algorithm on the CPU engine)
 * returns exactly the brute-force top-K, ties included; pruning stays exact and still bites.
 */
class ItemBiasScorersTest {

  private static float[] offsets(Random rnd, int n, boolean coarse, double scale) {
    float[] b = new float[n];
    for (int i = 0; i < n; i++) {
      b[i] = coarse ? rnd.nextInt(3) - 1 : (float) (rnd.nextGaussian() * scale);
    }
    return b;
  }

  /** A random RecJPQ head with offsets, sharing its codes and codebooks with {@code plain}. */
  private static JpqHead withOffsets(JpqHead plain, float[] bias) {
    return new JpqHead(
        new ItemCodes(plain.n, plain.m, plain.codes), plain.codebooks, plain.sub, bias);
  }

  @Test
  void theCanonicalScoreIsThePlainScorePlusTheOffset() {
    Random rnd = new Random(2);
    for (int m : new int[] {3, 8}) {
      JpqHead plain = ScorersAgreeTest.randomHead(rnd, 200, m, 4, false);
      float[] b = offsets(rnd, 200, false, 2);
      JpqHead head = withOffsets(plain, b);
      float[] h = randomH(rnd, head.dim(), false);
      float[] q = new float[head.queryFloats()];
      head.prepare(h, q);
      for (int i = 0; i < 200; i++) {
        assertEquals(
            Float.floatToIntBits(plain.score(q, i) + b[i]), Float.floatToIntBits(head.score(q, i)));
      }
    }
    assertThrows(
        IllegalArgumentException.class,
        () -> withOffsets(ScorersAgreeTest.randomHead(rnd, 10, 2, 1, false), new float[9]));
  }

  @Test
  void everyScorerReturnsTheBruteForceTopK() {
    Random rnd = new Random(17);
    int cases = 0;
    for (int n : new int[] {1, 300, 5_000}) {
      for (int m : new int[] {3, 8}) {
        for (boolean coarse : new boolean[] {false, true}) {
          JpqHead head =
              withOffsets(
                  ScorersAgreeTest.randomHead(rnd, n, m, 2, coarse), offsets(rnd, n, coarse, 3));
          GpuBatchScorer gpuAlgorithm =
              new GpuBatchScorer(
                  head,
                  new CpuOps(2),
                  TileSelector.host(new CpuOps(2)),
                  new PqTopKScorer(head),
                  700,
                  n % 2 == 0 ? Long.MAX_VALUE : 0);
          cases +=
              ScorersAgreeTest.checkEveryScorer(
                  rnd,
                  head,
                  coarse,
                  new int[] {1, 10, n + 2},
                  3,
                  gpuAlgorithm,
                  "n " + n + " m " + m + (coarse ? " coarse" : ""));
        }
      }
    }
    assertEquals(3 * 2 * 2 * 3 * 3, cases);
  }

  @Test
  void denseHeadsWithOffsets() {
    Random rnd = new Random(23);
    int n = 6_000;
    int d = 16;
    float[] table = new float[n * d];
    for (int i = 0; i < table.length; i++) {
      table[i] = (float) rnd.nextGaussian();
    }
    float[] b = offsets(rnd, n, false, 4);
    DenseHead head = new DenseHead(n, d, (i, out) -> System.arraycopy(table, i * d, out, 0, d), b);
    DenseScorer scorer = new DenseScorer(head, head);
    BatchScorer batch = new BatchScorer(head, scorer, 2);
    GpuBatchScorer gpuAlgorithm =
        new GpuBatchScorer(
            head, new CpuOps(2), TileSelector.host(new CpuOps(2)), scorer, 1000, Long.MAX_VALUE);
    ItemFilter none = new ItemFilter(n);
    float[] hs = new float[2 * d];
    for (int r = 0; r < 2; r++) {
      System.arraycopy(randomH(rnd, d, false), 0, hs, r * d, d);
    }
    TopK[] gemm = {new TopK(10), new TopK(10)};
    TopK[] gpu = {new TopK(10), new TopK(10)};
    batch.topK(hs, 2, new ItemFilter[] {none, none}, gemm, BatchScorer.Strategy.GEMM);
    gpuAlgorithm.topK(hs, 2, new ItemFilter[] {none, none}, gpu);
    for (int r = 0; r < 2; r++) {
      float[] h = new float[d];
      System.arraycopy(hs, r * d, h, 0, d);
      float[] q = new float[d];
      head.prepare(h, q);
      float dot = 0;
      for (int j = 0; j < d; j++) {
        dot += h[j] * table[5 * d + j];
      }
      assertEquals(Float.floatToIntBits(dot + b[5]), Float.floatToIntBits(head.score(q, 5)));
      float[] want = new float[10];
      int[] ids = bruteForce(head, h, none, 10, want);
      check("dense " + r, ids, want, run(scorer, h, none, 10));
      check("dense batch " + r, ids, want, gemm[r]);
      check("dense gpu algorithm " + r, ids, want, gpu[r]);
    }
  }

  @Test
  void offsetsThatDominateTheScoresArePrunedByTheirOwnList() {
    // Offsets ten times the spread of the sub-id terms (a popularity-heavy model): the offset list
    // decides most of the top-K, items it scores turn up again in posting lists and must not be
    // offered twice, and the offset frontier ends the search early.
    Random rnd = new Random(29);
    int n = 20_000;
    for (boolean coarse : new boolean[] {false, true}) {
      JpqHead head =
          withOffsets(
              ScorersAgreeTest.randomHead(rnd, n, 8, 2, coarse), offsets(rnd, n, coarse, 10));
      List<PrunedScorer> pruned =
          List.of(
              new PrunedScorer(head),
              new PrunedScorer(head, 0),
              new PrunedScorer(head, PrunedScorer.DEFAULT_INLINE_BUDGET, 0));
      for (int q = 0; q < 4; q++) {
        float[] h = randomH(rnd, head.dim(), coarse);
        ItemFilter f = new ItemFilter(n);
        for (int x = 0; x < 300; x++) {
          f.exclude(rnd.nextInt(n));
        }
        for (int k : new int[] {1, 10, 100}) {
          float[] want = new float[k];
          int[] ids = bruteForce(head, h, f, k, want);
          for (PrunedScorer p : pruned) {
            check(
                "dominant offsets q " + q + " k " + k + (coarse ? " coarse" : ""),
                ids,
                want,
                run(p, h, f, k));
            if (!coarse) {
              assertTrue(p.lastVisited() < n / 2, "visited " + p.lastVisited() + " of " + n);
            }
          }
        }
      }
    }
  }

  @Test
  void pruningStaysExactAndStillBitesWithOffsets() {
    // Peaked sub-id scores (sub-ids 0..3 of every split strong) and offsets of about a tenth of the
    // scores' spread: the bounds carry the offset frontier, and few lists are still visited.
    Random rnd = new Random(3);
    int n = 100_000;
    int m = 8;
    int sub = 4;
    JpqHead head = ScorersAgreeTest.peakedHead(rnd, n, m, sub, offsets(new Random(4), n, false, 2));
    float[] h = new float[m * sub];
    java.util.Arrays.fill(h, 1f);
    ItemFilter none = new ItemFilter(n);
    float[] want = new float[10];
    int[] ids = bruteForce(head, h, none, 10, want);
    for (long budget : new long[] {PrunedScorer.DEFAULT_INLINE_BUDGET, 0}) {
      PrunedScorer pruned = new PrunedScorer(head, budget);
      check("peaked with offsets", ids, want, run(pruned, h, none, 10));
      assertTrue(pruned.lastVisited() < n / 4, "visited " + pruned.lastVisited() + " of " + n);
    }
  }
}
