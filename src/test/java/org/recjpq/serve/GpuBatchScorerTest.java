package org.recjpq.serve;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.recjpq.serve.ScorersAgreeTest.bruteForce;
import static org.recjpq.serve.ScorersAgreeTest.check;
import static org.recjpq.serve.ScorersAgreeTest.randomH;
import static org.recjpq.serve.ScorersAgreeTest.randomHead;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.recjpq.backend.Buf;
import org.recjpq.backend.IntBuf;
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

  /** The CPU scorer a batch scorer of {@code head} falls back to. */
  static TopKScorer fallbackOf(ServingHead head) {
    return head instanceof JpqHead j
        ? new PqTopKScorer(j)
        : new DenseScorer(head, (DenseHead) head);
  }

  private static void compare(ServingHead head, Random rnd, boolean coarse, int[] ks, String what) {
    compare(new GpuBatchScorer(head, ops(), fallbackOf(head)), head, rnd, coarse, ks, what);
  }

  /**
   * {@code gpu}'s answers for 7 random queries (half with an exclusion filter, half with an
   * exclusion list) at each K of {@code ks}, against the brute-force canonical top-K, bit for bit.
   */
  static void compare(
      GpuBatchScorer gpu, ServingHead head, Random rnd, boolean coarse, int[] ks, String what) {
    int n = head.numItems();
    int d = head.dim();
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
      answerAndCheck(gpu, head, hs, filters, outs, what + " k " + k);
    }
  }

  /**
   * Runs {@code gpu} over the queries and checks each answer against the brute-force canonical
   * top-K.
   */
  static void answerAndCheck(
      GpuBatchScorer gpu,
      ServingHead head,
      float[] hs,
      ItemFilter[] filters,
      TopK[] outs,
      String what) {
    gpu.topK(hs, outs.length, filters, outs);
    int d = head.dim();
    for (int b = 0; b < outs.length; b++) {
      float[] h = new float[d];
      System.arraycopy(hs, b * d, h, 0, d);
      int k = outs[b].capacity();
      float[] want = new float[k];
      int[] ids = bruteForce(head, h, filters[b], k, want);
      check(what + " query " + b, ids, want, outs[b]);
    }
  }

  @Test
  void recJpqHeadsMatchTheCanonicalTopK() {
    Random rnd = new Random(17);
    for (int n : new int[] {1, 7, 5_000, 3 * GpuBatchScorer.TILE + 123}) {
      for (int m : new int[] {1, 8}) {
        for (boolean coarse : new boolean[] {false, true}) {
          JpqHead head = randomHead(rnd, n, m, 4, coarse);
          compare(
              head,
              rnd,
              coarse,
              new int[] {1, 10, n + 3},
              "jpq n " + n + " m " + m + (coarse ? " coarse" : ""));
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

  /**
   * From 8 threads at once, none of them the one that opened the engine (a CUDA context is current
   * only where it was made current), the CPU scorer's top-10, bit for bit; and closing the scorer
   * gives its device memory back.
   */
  @Test
  void eightThreadsAtOnceGetTheCpuScorersTopTen() throws Exception {
    long[] before = ops().memoryInfo();
    Random rnd = new Random(31);
    JpqHead head = randomHead(rnd, 20_000, 8, 4, false);
    TopKScorer cpu = new PqTopKScorer(head);
    GpuBatchScorer gpu = GpuBatchScorer.open(head, cpu, "the test");
    long[] open = ops().memoryInfo();
    assertTrue(
        before[0] - open[0] >= 20_000L * head.dim() * Float.BYTES,
        "the catalogue is on the device");
    ExecutorService pool = Executors.newFixedThreadPool(8);
    try {
      List<Future<Integer>> answers = new ArrayList<>();
      for (int t = 0; t < 8; t++) {
        long seed = 100 + t;
        answers.add(
            pool.submit(
                () -> {
                  Random r = new Random(seed);
                  int queries = 5;
                  int d = head.dim();
                  int checked = 0;
                  for (int round = 0; round < 3; round++) {
                    float[] hs = new float[queries * d];
                    ItemFilter[] filters = new ItemFilter[queries];
                    TopK[] outs = new TopK[queries];
                    for (int b = 0; b < queries; b++) {
                      System.arraycopy(randomH(r, d, false), 0, hs, b * d, d);
                      filters[b] = ItemFilter.of(new int[] {r.nextInt(20_000), r.nextInt(20_000)});
                      outs[b] = new TopK(10);
                    }
                    gpu.topK(hs, queries, filters, outs);
                    for (int b = 0; b < queries; b++) {
                      TopK want = new TopK(10);
                      cpu.topK(Arrays.copyOfRange(hs, b * d, (b + 1) * d), filters[b], want);
                      float[] ws = new float[10];
                      float[] gs = new float[10];
                      assertArrayEquals(
                          want.sorted(ws), outs[b].sorted(gs), "thread " + seed + " query " + b);
                      assertArrayEquals(ws, gs, "thread " + seed + " query " + b + " scores");
                      checked++;
                    }
                  }
                  return checked;
                }));
      }
      int total = 0;
      for (Future<Integer> f : answers) {
        total += f.get();
      }
      assertEquals(8 * 3 * 5, total);
    } finally {
      pool.shutdown();
      gpu.close();
    }
    long[] closed = ops().memoryInfo();
    assertTrue(
        closed[0] >= before[0] - (1L << 20),
        "closing the scorer frees its device memory: free "
            + before[0]
            + " before, "
            + open[0]
            + " open, "
            + closed[0]
            + " after close");
    org.junit.jupiter.api.Assertions.assertThrows(
        IllegalStateException.class,
        () ->
            gpu.topK(
                new float[head.dim()],
                1,
                new ItemFilter[] {ItemFilter.of(new int[0])},
                new TopK[] {new TopK(1)}));
  }

  @Test
  void longExclusionListsGoToTheCpuFallbackWithTheSameAnswers() {
    Random rnd = new Random(23);
    JpqHead head = randomHead(rnd, 20_000, 8, 2, false);
    longExclusionLists(new GpuBatchScorer(head, ops(), new PqTopKScorer(head)), head, rnd);
  }

  /**
   * Of 4 queries, the two that exclude more items than the device's k' allows, and only they, go to
   * {@code gpu}'s CPU fallback; all answers are checked.
   */
  static void longExclusionLists(GpuBatchScorer gpu, JpqHead head, Random rnd) {
    int queries = 4;
    int d = head.dim();
    float[] hs = new float[queries * d];
    ItemFilter[] filters = new ItemFilter[queries];
    TopK[] outs = new TopK[queries];
    for (int b = 0; b < queries; b++) {
      System.arraycopy(randomH(rnd, d, false), 0, hs, b * d, d);
      filters[b] = new ItemFilter(head.numItems());
      int excluded = b < 2 ? GpuBatchScorer.MAX_KPRIME + 1 : 10;
      for (int x = 0; x < excluded; x++) {
        filters[b].exclude(x);
      }
      outs[b] = new TopK(10);
    }
    answerAndCheck(gpu, head, hs, filters, outs, "long exclusion lists");
    assertEquals(2, gpu.fallbackRows());
  }

  /**
   * The kernels of {@code cuda/topk.cu} against their host specification ({@link
   * TileSelector#host}) on the same tile: rows with k' of 0, 1, 10, the tile size and past it;
   * running bounds and counts carried in from earlier tiles; Gaussian scores and coarse ones with
   * many ties and both signed zeros. Bounds and counts must match exactly, and each row's list that
   * did not overflow (device order is unspecified) as a sorted set.
   */
  @Test
  void selectionKernelsMatchTheirHostSpecification() {
    CudaOps ops = ops();
    Random rnd = new Random(29);
    int rows = 6;
    int nt = 3000;
    int cap = 400;
    int i0 = 70_000;
    for (boolean coarse : new boolean[] {false, true}) {
      float[] s = new float[rows * nt];
      for (int i = 0; i < s.length; i++) {
        s[i] =
            coarse ? (rnd.nextInt(9) == 0 ? -0f : rnd.nextInt(7) - 3) : (float) rnd.nextGaussian();
      }
      int[] kp = {0, 1, 10, nt, nt + 1, 37};
      float[] run = {
        Float.NEGATIVE_INFINITY, Float.NEGATIVE_INFINITY, 0.5f, Float.NEGATIVE_INFINITY, 2f, 9f
      };
      float[] win = {0.1f, 0f, 0.01f, 1f, 0.2f, 0f};
      int[] counts = {0, 3, 0, 0, 0, 1};
      int[] ids = new int[rows * cap];
      ids[cap] = 5;
      ids[cap + 1] = 6;
      ids[cap + 2] = 7;
      ids[5 * cap] = 11;
      float[][] runOut = new float[2][rows];
      int[][] countOut = new int[2][rows];
      int[][] idOut = new int[2][rows * cap];
      for (int v = 0; v < 2; v++) {
        Buf sb = ops.alloc(s.length);
        ops.upload(sb, s);
        IntBuf kb = ops.allocInts(rows);
        ops.upload(kb, kp);
        Buf rb = ops.alloc(rows);
        ops.upload(rb, run);
        Buf wb = ops.alloc(rows);
        ops.upload(wb, win);
        IntBuf cb = ops.allocInts(rows);
        ops.upload(cb, counts);
        IntBuf ib = ops.allocInts(rows * cap);
        ops.upload(ib, ids);
        TileSelector selector = v == 0 ? TileSelector.cuda(ops) : TileSelector.host(ops);
        selector.selectAndCollect(sb, rows, nt, i0, kb, rb, wb, cb, ib, cap);
        ops.download(runOut[v], rb);
        ops.download(countOut[v], cb);
        ops.download(idOut[v], ib);
      }
      for (int r = 0; r < rows; r++) {
        String what = (coarse ? "coarse" : "gaussian") + " row " + r;
        assertEquals(
            Float.floatToRawIntBits(runOut[1][r]),
            Float.floatToRawIntBits(runOut[0][r]),
            what + ": running bound " + runOut[0][r] + ", specification " + runOut[1][r]);
        assertEquals(countOut[1][r], countOut[0][r], what + ": count");
        if (countOut[1][r] <= cap) { // an overflowing list holds whichever items came first
          int[] got = Arrays.copyOfRange(idOut[0], r * cap, r * cap + countOut[1][r]);
          int[] want = Arrays.copyOfRange(idOut[1], r * cap, r * cap + countOut[1][r]);
          Arrays.sort(got);
          Arrays.sort(want);
          assertArrayEquals(want, got, what + ": candidate list");
        }
      }
    }
  }
}
