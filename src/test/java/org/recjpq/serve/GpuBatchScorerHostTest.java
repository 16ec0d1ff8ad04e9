package org.recjpq.serve;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.recjpq.serve.ScorersAgreeTest.randomH;
import static org.recjpq.serve.ScorersAgreeTest.randomHead;

import java.util.Random;
import org.junit.jupiter.api.Test;
import org.recjpq.backend.cpu.CpuOps;

/**
 * The GPU batch scorer's algorithm (running k'-th bounds, rounding windows, candidate lists, their
 * overflow and the CPU fallback, canonical re-scoring) on the CPU engine, with the selection's host
 * specification in place of the kernels and small tiles so that a catalogue spans many of them. The
 * kernels themselves are checked against the same specification in {@link GpuBatchScorerTest},
 * where CUDA runs.
 */
class GpuBatchScorerHostTest {
  private static final CpuOps OPS = new CpuOps(2);

  private static GpuBatchScorer scorer(ServingHead head, int tile, boolean keepCatalogue) {
    return new GpuBatchScorer(
        head,
        OPS,
        TileSelector.host(OPS),
        GpuBatchScorerTest.fallbackOf(head),
        tile,
        keepCatalogue ? Long.MAX_VALUE : 0);
  }

  @Test
  void recJpqHeadsMatchTheCanonicalTopKOverManyTiles() {
    Random rnd = new Random(31);
    for (int n : new int[] {1, 7, 5_000, 12_345}) {
      for (int m : new int[] {1, 8}) {
        for (boolean coarse : new boolean[] {false, true}) {
          JpqHead head = randomHead(rnd, n, m, 4, coarse);
          boolean keep = n % 2 == 1; // tiles kept on the engine, or uploaded per batch
          GpuBatchScorerTest.compare(
              scorer(head, 1000, keep),
              head,
              rnd,
              coarse,
              new int[] {1, 10, n + 3},
              "jpq n "
                  + n
                  + " m "
                  + m
                  + (coarse ? " coarse" : "")
                  + (keep ? " kept" : " uploaded"));
        }
      }
    }
  }

  @Test
  void denseHeadsMatchTheCanonicalTopKOverManyTiles() {
    Random rnd = new Random(37);
    for (int n : new int[] {3, 4_321}) {
      int d = 24;
      float[] table = new float[n * d];
      for (int i = 0; i < table.length; i++) {
        table[i] = (float) rnd.nextGaussian();
      }
      DenseHead head = DenseHead.of(table, n, d);
      GpuBatchScorerTest.compare(
          scorer(head, 500, true), head, rnd, false, new int[] {1, 10, 100}, "dense n " + n);
    }
  }

  /**
   * A zero query scores every item 0, so every item is a candidate: the lists overflow, and the
   * fallback must give the K lowest ids.
   */
  @Test
  void overflowingCandidateListsGoToTheFallbackWithTheSameAnswers() {
    Random rnd = new Random(41);
    JpqHead head = randomHead(rnd, 20_000, 8, 2, false);
    GpuBatchScorer gpu = scorer(head, 1000, true);
    int queries = 3;
    int d = head.dim();
    float[] hs = new float[queries * d];
    System.arraycopy(randomH(rnd, d, false), 0, hs, 2 * d, d); // the third query is an ordinary one
    ItemFilter[] filters = new ItemFilter[queries];
    TopK[] outs = new TopK[queries];
    for (int b = 0; b < queries; b++) {
      filters[b] = ItemFilter.of(new int[] {b, 100 + b});
      outs[b] = new TopK(10);
    }
    GpuBatchScorerTest.answerAndCheck(gpu, head, hs, filters, outs, "zero queries");
    assertEquals(2, gpu.fallbackRows());
    assertEquals(1, outs[0].sorted(new float[10])[0], "ties go to the lower id, item 0 excluded");
  }

  @Test
  void longExclusionListsGoToTheFallbackWithTheSameAnswers() {
    Random rnd = new Random(43);
    JpqHead head = randomHead(rnd, 12_000, 8, 2, false);
    GpuBatchScorerTest.longExclusionLists(scorer(head, 4096, false), head, rnd);
  }

  /**
   * The host specification orders scores as the kernels' keys do: −0 below +0, infinities at the
   * ends.
   */
  @Test
  void orderKeysFollowTheScoreOrderAndRoundTrip() {
    float[] ascending = {
      Float.NEGATIVE_INFINITY,
      -3.5f,
      -Float.MIN_VALUE,
      -0f,
      0f,
      Float.MIN_VALUE,
      1f,
      2e30f,
      Float.POSITIVE_INFINITY
    };
    for (int i = 0; i < ascending.length; i++) {
      int key = TileSelector.orderKey(ascending[i]);
      assertEquals(
          Float.floatToRawIntBits(ascending[i]),
          Float.floatToRawIntBits(TileSelector.fromOrderKey(key)));
      if (i > 0) {
        assertTrue(
            TileSelector.orderKey(ascending[i - 1]) < key,
            ascending[i - 1] + " before " + ascending[i]);
      }
    }
  }
}
