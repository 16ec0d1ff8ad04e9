package org.recjpq.serve;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.recjpq.serve.ScorersAgreeTest.bruteForce;
import static org.recjpq.serve.ScorersAgreeTest.check;
import static org.recjpq.serve.ScorersAgreeTest.randomH;
import static org.recjpq.serve.ScorersAgreeTest.randomHead;

import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.recjpq.backend.cuda.CudaOps;
import org.recjpq.backend.cuda.CudaTestEngines;

/**
 * The GPU batch scorer against the brute-force canonical top-K (the CPU scorers' specification),
 * bit for bit, on random RecJPQ and dense heads: one tile and several, exclusion filters of both
 * kinds, K from 1 to past N, coarse values with many tied scores (long candidate lists), and the
 * CPU fallback for long exclusion lists. Skipped, with the reason, where CUDA cannot run.
 */
@Tag("gpu")
class GpuBatchScorerTest {
  private static CudaOps ops;

  /** The engine, opened by the first test; each test is skipped, with the reason, without CUDA. */
  private static CudaOps ops() {
    if (ops == null) {
      ops = CudaTestEngines.open();
    }
    return ops;
  }

  @AfterAll
  static void close() {
    if (ops != null) {
      ops.close();
    }
  }

  private static void compare(ServingHead head, Random rnd, boolean coarse, int[] ks, String what) {
    int n = head.numItems();
    int d = head.dim();
    GpuBatchScorer gpu = new GpuBatchScorer(head, ops(), head instanceof JpqHead j ? new PqTopKScorer(j)
        : new DenseScorer(head, (DenseHead) head));
    int queries = 7;
    for (int k : ks) {
      float[] hs = new float[queries * d];
      ItemFilter[] filters = new ItemFilter[queries];
      TopK[] outs = new TopK[queries];
      for (int b = 0; b < queries; b++) {
        System.arraycopy(randomH(rnd, d, coarse), 0, hs, b * d, d);
        if (b % 2 == 0) {
          filters[b] = new ItemFilter(n);
          for (int x = 0; x < Math.min(300, n / 10); x++) {
            filters[b].exclude(rnd.nextInt(n));
          }
        } else {
          int[] ex = new int[Math.min(50, n / 3)];
          for (int x = 0; x < ex.length; x++) {
            ex[x] = rnd.nextInt(n);
          }
          filters[b] = ItemFilter.of(ex);
        }
        outs[b] = new TopK(k);
      }
      gpu.topK(hs, queries, filters, outs);
      for (int b = 0; b < queries; b++) {
        float[] h = new float[d];
        System.arraycopy(hs, b * d, h, 0, d);
        float[] want = new float[k];
        int[] ids = bruteForce(head, h, filters[b], k, want);
        check(what + " k " + k + " query " + b, ids, want, outs[b]);
      }
    }
  }

  @Test
  void recJpqHeadsMatchTheCanonicalTopK() {
    Random rnd = new Random(17);
    for (int n : new int[] {1, 7, 5_000, 3 * GpuBatchScorer.TILE + 123}) {
      for (int m : new int[] {1, 8}) {
        for (boolean coarse : new boolean[] {false, true}) {
          JpqHead head = randomHead(rnd, n, m, 4, coarse);
          compare(head, rnd, coarse, new int[] {1, 10, n + 3}, "jpq n " + n + " m " + m + (coarse ? " coarse" : ""));
        }
      }
    }
  }

  @Test
  void denseHeadsMatchTheCanonicalTopK() {
    Random rnd = new Random(19);
    for (int n : new int[] {3, 2 * GpuBatchScorer.TILE + 5}) {
      int d = 24;
      float[] table = new float[n * d];
      for (int i = 0; i < table.length; i++) {
        table[i] = (float) rnd.nextGaussian();
      }
      compare(DenseHead.of(table, n, d), rnd, false, new int[] {1, 10, 100}, "dense n " + n);
    }
  }

  @Test
  void longExclusionListsGoToTheCpuFallbackWithTheSameAnswers() {
    Random rnd = new Random(23);
    int n = 20_000;
    JpqHead head = randomHead(rnd, n, 8, 2, false);
    GpuBatchScorer gpu = new GpuBatchScorer(head, ops(), new PqTopKScorer(head));
    int queries = 4;
    float[] hs = new float[queries * head.dim()];
    ItemFilter[] filters = new ItemFilter[queries];
    TopK[] outs = new TopK[queries];
    for (int b = 0; b < queries; b++) {
      System.arraycopy(randomH(rnd, head.dim(), false), 0, hs, b * head.dim(), head.dim());
      filters[b] = new ItemFilter(n);
      int excluded = b < 2 ? GpuBatchScorer.MAX_KPRIME + 1 : 10; // two rows past the device's k'
      for (int x = 0; x < excluded; x++) {
        filters[b].exclude(x);
      }
      outs[b] = new TopK(10);
    }
    gpu.topK(hs, queries, filters, outs);
    assertEquals(2, gpu.fallbackRows());
    for (int b = 0; b < queries; b++) {
      float[] h = new float[head.dim()];
      System.arraycopy(hs, b * head.dim(), h, 0, head.dim());
      float[] want = new float[10];
      int[] ids = bruteForce(head, h, filters[b], 10, want);
      check("fallback query " + b, ids, want, outs[b]);
    }
  }
}
