package org.recjpq.serve;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.recjpq.serve.RecommenderTest.checkpoint;
import static org.recjpq.serve.RecommenderTest.ext;
import static org.recjpq.serve.RecommenderTest.history;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.recjpq.backend.Availability;
import org.recjpq.backend.cuda.CudaAvailability;

/**
 * Batches scored on the GPU give the single-request (CPU) answers; skipped, with the reason,
 * without CUDA.
 */
@Tag("gpu")
class RecommenderGpuTest {
  @Test
  void gpuBatchesGiveTheSingleAnswers() {
    Availability a = CudaAvailability.check();
    org.junit.jupiter.api.Assumptions.assumeTrue(a.available(), a.description());
    for (boolean jpq : new boolean[] {true, false}) {
      Recommender rec = Recommender.of(checkpoint(jpq, 4), Recommender.Scoring.AUTO, 2, true);
      Random rnd = new Random(10);
      List<List<String>> hs = new ArrayList<>();
      for (int u = 0; u < 9; u++) {
        hs.add(u == 4 ? List.of("unknown") : history(rnd, 1 + rnd.nextInt(20)));
      }
      RecommendOptions o = RecommendOptions.defaults().withExclude(Set.of(ext(5)));
      List<Recommendations> batch = rec.recommendBatch(hs, 7, o);
      for (int u = 0; u < hs.size(); u++) {
        Recommendations one = rec.recommend(hs.get(u), 7, o);
        assertEquals(one.items(), batch.get(u).items(), "user " + u);
        assertArrayEquals(one.scores(), batch.get(u).scores(), "user " + u);
      }
    }
  }
}
