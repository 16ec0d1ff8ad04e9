package org.recjpq.tune;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class SuccessiveHalvingTest {
  @Test
  void planRungsAndCost() {
    SuccessiveHalving.Plan p = new SuccessiveHalving.Plan(27, 3, 2, 30);
    assertArrayEquals(new int[] {2, 6, 18, 30}, p.rungEpochs());
    assertArrayEquals(new int[] {27, 9, 3, 1}, p.rungSizes());
    assertEquals(27 * 2 + 9 * 4 + 3 * 12 + 12, p.epochs());
  }

  @Test
  void fitTakesTheLargestLadderStepWithinTheBudgetAndShortensRunsWhenNothingFits() {
    SuccessiveHalving.Plan p = SuccessiveHalving.Plan.fit(200, 3, 2, 30);
    assertTrue(p.epochs() <= 200, p.toString());
    SuccessiveHalving.Plan bigger = new SuccessiveHalving.Plan(next(p.configs()), 3, 2, 30);
    assertTrue(bigger.epochs() > 200, bigger + " would fit too");
    SuccessiveHalving.Plan tight = SuccessiveHalving.Plan.fit(20, 3, 2, 30);
    assertTrue(tight.epochs() <= 20 && tight.configs() >= 3, tight.toString());
    assertTrue(tight.maxEpochs() < 30, tight.toString());
  }

  @Test
  void fitCountsEachConfigurationsSetUp() {
    // a dense twin of 3/4 the full length before each configuration's first rung
    java.util.function.IntToDoubleFunction twin = full -> Math.max(1, full * 3 / 4);
    SuccessiveHalving.Plan p = SuccessiveHalving.Plan.fit(51, 3, 1, 15, twin);
    assertTrue(p.epochs() + p.configs() * twin.applyAsDouble(p.maxEpochs()) <= 51, p.toString());
    SuccessiveHalving.Plan without = SuccessiveHalving.Plan.fit(51, 3, 1, 15);
    assertTrue(
        p.configs() * p.maxEpochs() < without.configs() * without.maxEpochs(),
        p + " vs " + without);
    SuccessiveHalving.Plan none = SuccessiveHalving.Plan.fit(4, 3, 2, 30, full -> 10);
    assertEquals(1, none.configs(), none.toString());
  }

  private static int next(int n) {
    int[] ladder = {3, 4, 6, 9, 12, 18, 27, 36, 54, 81, 108, 162, 243};
    for (int x : ladder) {
      if (x > n) {
        return x;
      }
    }
    return n * 2;
  }

  /**
   * Trials whose score after e epochs is a known curve; the winner must be the best at the full
   * length.
   */
  @Test
  void keepsTheBestTrialsAndTrainsEachOnlyForward() {
    double[] quality = {0.10, 0.30, 0.20, 0.25, 0.05, 0.28, 0.15, 0.12, 0.22};
    Map<Integer, Integer> trainedTo = new HashMap<>();
    List<SuccessiveHalving.Result> seen = new ArrayList<>();
    SuccessiveHalving.Outcome o =
        SuccessiveHalving.run(
            new SuccessiveHalving.Plan(9, 3, 1, 9),
            i ->
                e -> {
                  int before = trainedTo.getOrDefault(i, 0);
                  assertTrue(e > before, "trial " + i + " went back from " + before + " to " + e);
                  trainedTo.put(i, e);
                  return quality[i] * (1 - Math.exp(-e / 3.0));
                },
            seen::add,
            () -> false);
    assertEquals(1, o.best());
    assertEquals(9 + 3 + 1, seen.size());
    assertEquals(
        java.util.Set.of(1, 3, 5),
        new java.util.HashSet<>(
            List.of(seen.get(9).trial(), seen.get(10).trial(), seen.get(11).trial())));
    assertEquals(9, trainedTo.get(1));
    assertEquals(1, trainedTo.get(0));
  }

  @Test
  void theBudgetStopsBetweenRungsAndTiesGoToTheLowerIndex() {
    int[] rungs = {0};
    SuccessiveHalving.Outcome o =
        SuccessiveHalving.run(
            new SuccessiveHalving.Plan(6, 2, 1, 8),
            i -> e -> 0.5,
            r -> rungs[0] = Math.max(rungs[0], r.rung()),
            () -> rungs[0] >= 1);
    assertTrue(o.stoppedByBudget());
    assertEquals(2, o.rungsRun());
    assertEquals(0, o.best());
  }
}
