package org.recjpq.serve;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.recjpq.RecjpqException;
import org.recjpq.backend.Activation;
import org.recjpq.backend.cpu.CpuOps;
import org.recjpq.checkpoint.Checkpoint;
import org.recjpq.codes.ItemCodes;
import org.recjpq.data.Vocabulary;
import org.recjpq.eval.HistoryBatch;
import org.recjpq.model.ModelConfig;
import org.recjpq.model.SequenceModel;
import org.recjpq.train.ModelScorer;

class RecommenderTest {
  static final int N = 400;

  /** A randomly initialised model over items with external ids 1000, 1003, 1006, ... */
  static Checkpoint checkpoint(boolean jpq, long seed) {
    return checkpoint(ModelConfig.Backbone.SASREC, jpq, seed);
  }

  static Checkpoint checkpoint(ModelConfig.Backbone backbone, boolean jpq, long seed) {
    ModelConfig c =
        new ModelConfig(
            backbone,
            N,
            16,
            2,
            2,
            12,
            0.2f,
            32,
            Activation.GELU,
            jpq ? ModelConfig.EmbeddingKind.JPQ : ModelConfig.EmbeddingKind.DENSE,
            4,
            true,
            ModelConfig.BlockStyle.PRE_LN,
            1e-8f);
    return checkpoint(c, seed);
  }

  static Checkpoint checkpoint(ModelConfig c, long seed) {
    boolean jpq = c.isJpq();
    Random rnd = new Random(seed);
    ItemCodes codes = null;
    if (jpq) {
      byte[] raw = new byte[N * 4];
      rnd.nextBytes(raw);
      codes = new ItemCodes(N, 4, raw);
    }
    SequenceModel model = SequenceModel.create(c, new CpuOps(1), codes);
    model.initialize(seed);
    float[] p = new float[(int) model.layout().size()];
    model.ops().download(p, model.params());
    long[] ids = new long[N];
    int[] counts = new int[N];
    for (int i = 0; i < N; i++) {
      ids[i] = 1000 + 3L * i;
      counts[i] = (i * 7919) % 50;
    }
    return new Checkpoint(
        c,
        new Vocabulary.Numeric(ids),
        codes,
        p,
        null,
        null,
        null,
        new ObjectMapper().createObjectNode(),
        counts);
  }

  static String ext(int i) {
    return Long.toString(1000 + 3L * i);
  }

  static List<String> history(Random rnd, int len) {
    List<String> h = new ArrayList<>();
    for (int t = 0; t < len; t++) {
      h.add(ext(rnd.nextInt(N)));
    }
    return h;
  }

  @Test
  void bert4RecWithTheOutputTransformSurvivesTheCheckpointFile(@TempDir Path dir) {
    ModelConfig c =
        new ModelConfig(
            ModelConfig.Backbone.BERT4REC,
            N,
            16,
            2,
            2,
            12,
            0.2f,
            32,
            Activation.GELU,
            ModelConfig.EmbeddingKind.JPQ,
            4,
            true,
            ModelConfig.BlockStyle.PRE_LN,
            1e-8f,
            true);
    Checkpoint ck = checkpoint(c, 3);
    Path file = dir.resolve("bert.ckpt");
    ck.write(file, SequenceModel.create(c, new CpuOps(1), ck.codes()).layout());
    Checkpoint back = Checkpoint.read(file);
    assertEquals(c, back.config());
    assertTrue(back.config().headTransform());
    List<String> h = history(new Random(4), 7);
    RecommendOptions all = RecommendOptions.defaults().withFilterSeen(false);
    Recommendations a = Recommender.of(ck, Recommender.Scoring.DENSE, 1).recommend(h, 10, all);
    assertEquals(
        a, same(a, Recommender.of(back, Recommender.Scoring.AUTO, 1).recommend(h, 10, all)));
    // the transform is BERT4Rec's only
    assertThrows(
        RecjpqException.class,
        () ->
            new ModelConfig(
                ModelConfig.Backbone.SASREC,
                N,
                16,
                2,
                2,
                12,
                0.2f,
                32,
                Activation.GELU,
                ModelConfig.EmbeddingKind.JPQ,
                4,
                true,
                ModelConfig.BlockStyle.PRE_LN,
                1e-8f,
                true));
  }

  @ParameterizedTest
  @EnumSource(ModelConfig.Backbone.class)
  void everyScoringGivesTheSameAnswerAndItMatchesTheEvaluationScorer(
      ModelConfig.Backbone backbone) {
    Checkpoint ck = checkpoint(backbone, true, 1);
    Recommender dense = Recommender.of(ck, Recommender.Scoring.DENSE, 2);
    Recommender pq = Recommender.of(ck, Recommender.Scoring.PQTOPK, 2);
    Recommender pruned = Recommender.of(ck, Recommender.Scoring.AUTO, 2);
    assertEquals("pruned", pruned.scorerName());
    // the evaluation path (batched backbone, GEMM scores) on the same model
    SequenceModel model = SequenceModel.create(ck.config(), new CpuOps(1), ck.codes());
    model.ops().upload(model.params(), ck.params());
    ModelScorer eval = new ModelScorer(model, 128);
    Random rnd = new Random(5);
    for (int len : new int[] {1, 5, 12, 30}) {
      List<String> h = history(rnd, len);
      Recommendations a = dense.recommend(h, 10, RecommendOptions.defaults().withFilterSeen(false));
      assertEquals(
          a, same(a, pq.recommend(h, 10, RecommendOptions.defaults().withFilterSeen(false))));
      assertEquals(
          a, same(a, pruned.recommend(h, 10, RecommendOptions.defaults().withFilterSeen(false))));
      assertEquals("model", a.source());
      assertEquals(evaluationTop10(eval, h), a.items(), "history length " + len);
    }
  }

  @ParameterizedTest
  @org.junit.jupiter.params.provider.ValueSource(booleans = {true, false})
  void itemBiasesSurviveTheFileEveryScoringAddsThemAndMatchesTheEvaluationScorer(
      boolean jpq, @TempDir Path dir) {
    ModelConfig c =
        new ModelConfig(
            ModelConfig.Backbone.SASREC,
            N,
            16,
            2,
            2,
            12,
            0.2f,
            32,
            Activation.GELU,
            jpq ? ModelConfig.EmbeddingKind.JPQ : ModelConfig.EmbeddingKind.DENSE,
            4,
            true,
            ModelConfig.BlockStyle.PRE_LN,
            1e-8f,
            false,
            true);
    Checkpoint plain = checkpoint(c, 8);
    SequenceModel shape = SequenceModel.create(c, new CpuOps(1), plain.codes());
    var entry = shape.layout().entry("item.bias");
    assertEquals(N, entry.size());
    float[] p = plain.params().clone();
    Random rnd = new Random(9);
    for (int i = 0; i < N; i++) {
      assertEquals(0f, p[(int) entry.offset() + i]); // biases start at 0
      p[(int) entry.offset() + i] = (float) (3 * rnd.nextGaussian());
    }
    Checkpoint ck =
        new Checkpoint(
            c,
            plain.items(),
            plain.codes(),
            p,
            null,
            null,
            null,
            plain.state(),
            plain.itemCounts());
    Path file = dir.resolve("bias.ckpt");
    ck.write(file, shape.layout());
    Checkpoint back = Checkpoint.read(file);
    assertTrue(back.config().itemBias());
    SequenceModel model = SequenceModel.create(back.config(), new CpuOps(1), back.codes());
    model.ops().upload(model.params(), back.params());
    ModelScorer eval = new ModelScorer(model, 128);
    List<Recommender> recs = new ArrayList<>();
    recs.add(Recommender.of(back, Recommender.Scoring.DENSE, 2));
    if (jpq) {
      recs.add(Recommender.of(back, Recommender.Scoring.PQTOPK, 2));
      recs.add(Recommender.of(back, Recommender.Scoring.AUTO, 2));
    }
    Recommender withoutBiases = Recommender.of(plain, Recommender.Scoring.DENSE, 2);
    RecommendOptions all = RecommendOptions.defaults().withFilterSeen(false);
    int differ = 0;
    for (int len : new int[] {1, 6, 12}) {
      List<String> h = history(rnd, len);
      Recommendations a = recs.get(0).recommend(h, 10, all);
      for (Recommender r : recs) {
        assertEquals(a, same(a, r.recommend(h, 10, all)));
      }
      assertEquals(evaluationTop10(eval, h), a.items(), "history length " + len);
      if (!a.items().equals(withoutBiases.recommend(h, 10, all).items())) {
        differ++;
      }
    }
    assertTrue(differ > 0, "the biases change the recommendations");
  }

  /**
   * The top 10 of the evaluation scorer (batched backbone, GEMM scores) for a history, ties to the
   * lower id.
   */
  private static List<String> evaluationTop10(ModelScorer eval, List<String> h) {
    int[] internal = h.stream().mapToInt(id -> (Integer.parseInt(id) - 1000) / 3).toArray();
    float[] s = new float[N];
    var batch = eval.batch(new HistoryBatch(internal, new int[] {0}, new int[] {internal.length}));
    for (int from = 0; from < N; from += 128) {
      int to = Math.min(N, from + 128);
      float[] part = new float[to - from];
      batch.score(from, to, part);
      System.arraycopy(part, 0, s, from, part.length);
    }
    return IntStream.range(0, N)
        .boxed()
        .sorted(Comparator.comparingDouble((Integer i) -> -s[i]).thenComparing(i -> i))
        .limit(10)
        .map(RecommenderTest::ext)
        .toList();
  }

  /** Records hold float[] scores, which equals() compares by identity: compare fields, return a. */
  private static Recommendations same(Recommendations a, Recommendations b) {
    assertEquals(a.items(), b.items());
    assertArrayEquals(a.scores(), b.scores());
    assertEquals(a.unknownItems(), b.unknownItems());
    assertEquals(a.source(), b.source());
    return a;
  }

  @Test
  void unknownIdsAreSkippedAndAnEmptyHistoryFallsBackToPopularity() {
    Recommender rec = Recommender.of(checkpoint(true, 2), Recommender.Scoring.AUTO, 1);
    Recommendations r = rec.recommend(List.of(ext(3), "nope", "1001", ext(9)), 5);
    assertEquals(List.of("nope", "1001"), r.unknownItems());
    assertEquals("model", r.source());
    Recommendations same = rec.recommend(List.of(ext(3), ext(9)), 5);
    assertEquals(r.items(), same.items());
    Recommendations pop = rec.recommend(List.of("x", "y"), 4);
    assertEquals("popularity", pop.source());
    assertEquals(List.of("x", "y"), pop.unknownItems());
    // counts (i * 7919) % 50: the most popular items have count 49, lower id first
    int[] byCount =
        IntStream.range(0, N)
            .boxed()
            .sorted(
                Comparator.comparingInt((Integer i) -> -((i * 7919) % 50)).thenComparing(i -> i))
            .mapToInt(Integer::intValue)
            .toArray();
    assertEquals(
        List.of(ext(byCount[0]), ext(byCount[1]), ext(byCount[2]), ext(byCount[3])), pop.items());
    assertEquals(49f, pop.scores()[0]);
    assertEquals("popularity", rec.recommend(List.of(), 3).source());
  }

  @Test
  void seenExcludedAndAllowedItems() {
    Recommender rec = Recommender.of(checkpoint(true, 3), Recommender.Scoring.AUTO, 1);
    Random rnd = new Random(9);
    List<String> h = history(rnd, 8);
    Recommendations open = rec.recommend(h, N, RecommendOptions.defaults().withFilterSeen(false));
    assertEquals(N, open.items().size());
    Recommendations filtered = rec.recommend(h, N);
    assertEquals(N - Set.copyOf(h).size(), filtered.items().size());
    assertTrue(filtered.items().stream().noneMatch(h::contains));
    String top = filtered.items().get(0);
    Recommendations excluded =
        rec.recommend(h, 10, RecommendOptions.defaults().withExclude(Set.of(top, "zzz")));
    assertFalse(excluded.items().contains(top));
    assertEquals(filtered.items().subList(1, 11), excluded.items());
    Set<String> allow = Set.of(ext(1), ext(2), ext(3), h.get(0), "unknown");
    Recommendations allowed = rec.recommend(h, 10, RecommendOptions.defaults().withAllow(allow));
    assertTrue(allow.containsAll(allowed.items()));
    assertFalse(allowed.items().contains(h.get(0)));
    List<String> wantOrder = filtered.items().stream().filter(allow::contains).toList();
    assertEquals(wantOrder, allowed.items());
  }

  @Test
  void batchesGiveTheSingleAnswersWithEitherStrategy() {
    for (boolean jpq : new boolean[] {true, false}) {
      Recommender rec = Recommender.of(checkpoint(jpq, 4), Recommender.Scoring.AUTO, 2);
      Random rnd = new Random(10);
      List<List<String>> hs = new ArrayList<>();
      for (int u = 0; u < 9; u++) {
        hs.add(u == 4 ? List.of("unknown") : history(rnd, 1 + rnd.nextInt(20)));
      }
      RecommendOptions o = RecommendOptions.defaults().withExclude(Set.of(ext(5)));
      for (BatchScorer.Strategy st :
          List.of(BatchScorer.Strategy.GEMM, BatchScorer.Strategy.LOOKUP)) {
        List<Recommendations> batch = rec.recommendBatch(hs, 7, o, st);
        for (int u = 0; u < hs.size(); u++) {
          same(rec.recommend(hs.get(u), 7, o), batch.get(u));
        }
      }
      List<Recommendations> allowed =
          rec.recommendBatch(hs, 3, o.withAllow(Set.of(ext(1), ext(2), ext(7))));
      for (int u = 0; u < hs.size(); u++) {
        same(
            rec.recommend(hs.get(u), 3, o.withAllow(Set.of(ext(1), ext(2), ext(7)))),
            allowed.get(u));
      }
    }
  }

  @Test
  void gpuBatchesWithoutAGpuFailWithTheReason() {
    org.recjpq.backend.Availability a = org.recjpq.backend.cuda.CudaAvailability.check();
    org.junit.jupiter.api.Assumptions.assumeFalse(
        a.available(), "a GPU is present (RecommenderGpuTest covers it)");
    var e =
        assertThrows(
            org.recjpq.RecjpqException.class,
            () -> Recommender.of(checkpoint(true, 4), Recommender.Scoring.AUTO, 2, true));
    assertTrue(
        e.getMessage().startsWith("GPU batch scoring was asked for, but there is no usable GPU: "),
        e.getMessage());
    assertThrows(
        IllegalStateException.class,
        () ->
            Recommender.of(checkpoint(true, 4), Recommender.Scoring.AUTO, 2)
                .recommendBatch(
                    List.of(List.of(ext(1))),
                    3,
                    RecommendOptions.defaults(),
                    BatchScorer.Strategy.GPU));
  }

  @Test
  void concurrentCallersGetTheSequentialAnswers() throws Exception {
    Recommender rec = Recommender.of(checkpoint(true, 5), Recommender.Scoring.AUTO, 2);
    Random rnd = new Random(12);
    List<List<String>> hs = new ArrayList<>();
    for (int u = 0; u < 60; u++) {
      hs.add(history(rnd, 1 + rnd.nextInt(30)));
    }
    List<List<String>> want = hs.stream().map(h -> rec.recommend(h, 10).items()).toList();
    ExecutorService pool = Executors.newFixedThreadPool(4);
    try {
      List<Future<Boolean>> fs = new ArrayList<>();
      for (int t = 0; t < 4; t++) {
        int offset = t;
        fs.add(
            pool.submit(
                () -> {
                  for (int rep = 0; rep < 3; rep++) {
                    for (int u = 0; u < hs.size(); u++) {
                      int x = (u + offset * 7) % hs.size();
                      if (!rec.recommend(hs.get(x), 10).items().equals(want.get(x))) {
                        return false;
                      }
                    }
                  }
                  return true;
                }));
      }
      for (Future<Boolean> f : fs) {
        assertTrue(f.get());
      }
    } finally {
      pool.shutdown();
    }
  }

  @Test
  void badRequestsAndScorings() {
    Recommender rec = Recommender.of(checkpoint(true, 6), Recommender.Scoring.AUTO, 1);
    assertThrows(IllegalArgumentException.class, () -> rec.recommend(List.of(ext(1)), 0));
    assertThrows(
        IllegalArgumentException.class,
        () -> rec.recommend(List.of(ext(1)), Recommender.MAX_K + 1));
    assertThrows(IllegalArgumentException.class, () -> rec.recommend(null, 5));
    assertEquals(N - 1, rec.recommend(List.of(ext(1)), Recommender.MAX_K).items().size());
    RecjpqException e =
        assertThrows(
            RecjpqException.class,
            () -> Recommender.of(checkpoint(false, 6), Recommender.Scoring.PQTOPK, 1));
    assertTrue(e.getMessage().contains("needs RecJPQ item embeddings"), e.getMessage());
    Checkpoint old = checkpoint(true, 6);
    Checkpoint noCounts =
        new Checkpoint(
            old.config(),
            old.items(),
            old.codes(),
            old.params(),
            null,
            null,
            null,
            old.state(),
            null);
    RecjpqException p =
        assertThrows(
            RecjpqException.class,
            () -> Recommender.of(noCounts, Recommender.Scoring.AUTO, 1).recommend(List.of(), 5));
    assertTrue(p.getMessage().contains("records no training popularity"), p.getMessage());
  }
}
