package org.recjpq.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

class MetricsTest {
  @Test
  void handComputedValues() {
    assertEquals(1.0, Metrics.ndcg(1, 10), 1e-15);
    assertEquals(1 / 1.584962500721156, Metrics.ndcg(2, 10), 1e-15); // 1/log2(3)
    assertEquals(0.5, Metrics.ndcg(3, 10), 1e-15); // 1/log2(4)
    assertEquals(1 / 3.4594316186372973, Metrics.ndcg(10, 10), 1e-15); // 1/log2(11)
    assertEquals(0.0, Metrics.ndcg(11, 10));
    assertEquals(0.0, Metrics.ndcg(2, 1));
    assertEquals(1.0, Metrics.recall(10, 10));
    assertEquals(0.0, Metrics.recall(11, 10));
    assertEquals(0.25, Metrics.reciprocalRank(4));
  }
}
