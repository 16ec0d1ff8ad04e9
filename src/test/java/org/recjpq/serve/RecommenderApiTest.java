package org.recjpq.serve;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The public API checks its arguments and its state: clear exceptions instead of NPEs or silent
 * fixes.
 */
class RecommenderApiTest {
  @Test
  void argumentsAndStateAreChecked() {
    assertTrue(
        assertThrows(
                IllegalArgumentException.class,
                () ->
                    Recommender.of(
                        RecommenderTest.checkpoint(true, 4), Recommender.Scoring.AUTO, 0))
            .getMessage()
            .contains("threads must be at least 1"));
    Recommender rec =
        Recommender.of(RecommenderTest.checkpoint(true, 4), Recommender.Scoring.AUTO, 2);
    String known = RecommenderTest.ext(1);
    assertTrue(
        assertThrows(
                IllegalArgumentException.class, () -> rec.recommend(Arrays.asList(known, null), 3))
            .getMessage()
            .contains("null item id at position 1"));
    assertThrows(IllegalArgumentException.class, () -> rec.recommend(null, 3));
    assertThrows(IllegalArgumentException.class, () -> rec.recommend(List.of(known), 3, null));
    assertThrows(
        IllegalArgumentException.class,
        () -> rec.recommendBatch(null, 3, RecommendOptions.defaults()));
    assertThrows(IllegalArgumentException.class, () -> rec.recommend(List.of(known), 0));
    HashSet<String> withNull = new HashSet<>(Arrays.asList(known, null));
    assertTrue(
        assertThrows(
                IllegalArgumentException.class,
                () -> RecommendOptions.defaults().withExclude(withNull))
            .getMessage()
            .contains("exclude set holds a null"));
    rec.recommend(List.of(known), 3); // fine before close
    rec.close();
    assertTrue(
        assertThrows(IllegalStateException.class, () -> rec.recommend(List.of(known), 3))
            .getMessage()
            .contains("closed"));
    assertThrows(
        IllegalStateException.class,
        () -> rec.recommendBatch(List.of(List.of(known)), 3, RecommendOptions.defaults()));
  }
}
