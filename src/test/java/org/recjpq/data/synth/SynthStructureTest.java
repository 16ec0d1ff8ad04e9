package org.recjpq.data.synth;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The planted structure: heavy-tailed popularity, and transitions that beat popularity. */
class SynthStructureTest {
  /** The configuration of the learnability check (README): defaults, seed 42. */
  private static final SynthConfig CONFIG = SynthConfig.defaults(2_000, 5_000, 100_000, 42);

  private static int[] userStart; // (U + 1) first position of each user in items
  private static int[] items; // (I) every user's items in time order, users in order

  @BeforeAll
  static void generate() {
    items = new int[(int) CONFIG.interactions()];
    userStart = new int[CONFIG.users() + 1];
    int[] at = {0};
    SyntheticGenerator.generate(
        CONFIG,
        (user, item) -> {
          userStart[user] = at[0] + 1; // becomes the end of user, i.e. start of user + 1
          items[at[0]++] = item;
        });
  }

  private static int start(int user) {
    return user == 1 ? 0 : userStart[user - 1];
  }

  private static int end(int user) {
    return userStart[user];
  }

  /** Item counts over every user's history except the last (held-out) item. */
  private static long[] trainingCounts() {
    long[] counts = new long[CONFIG.items() + 1];
    for (int u = 1; u <= CONFIG.users(); u++) {
      for (int p = start(u); p < end(u) - 1; p++) {
        counts[items[p]]++;
      }
    }
    return counts;
  }

  private static Integer[] byCountDescending(long[] counts) {
    Integer[] order = new Integer[CONFIG.items()];
    for (int i = 0; i < order.length; i++) {
      order[i] = i + 1;
    }
    Arrays.sort(
        order, (a, b) -> counts[a] != counts[b] ? Long.compare(counts[b], counts[a]) : a - b);
    return order;
  }

  @Test
  void popularityIsHeavyTailed() {
    long[] counts = new long[CONFIG.items() + 1];
    for (int item : items) {
      counts[item]++;
    }
    Integer[] order = byCountDescending(counts);
    long top = 0;
    for (int i = 0; i < CONFIG.items() / 100; i++) {
      top += counts[order[i]];
    }
    double share = top / (double) items.length;
    System.out.printf("top 1%% of items: %.1f%% of interactions%n", 100 * share);
    assertTrue(share > 0.15, "top 1% of items should get a large share, got " + share);
    // The popular items all occur: every cluster head (the C most popular items) is used.
    SynthWorld world = new SynthWorld(CONFIG);
    for (int c = 0; c < world.clusters; c++) {
      int head = world.clusterItems(c)[0];
      assertTrue(counts[head] > 0, "head of cluster " + c + " never occurs");
    }
  }

  @Test
  void usersMoveAlongTheSparseChain() {
    SynthWorld world = new SynthWorld(CONFIG);
    int[] clusterOf = new int[CONFIG.items() + 1];
    for (int c = 0; c < world.clusters; c++) {
      for (int item : world.clusterItems(c)) {
        clusterOf[item] = c;
      }
    }
    long steps = 0;
    long stays = 0;
    long alongChain = 0;
    for (int u = 1; u <= CONFIG.users(); u++) {
      for (int p = start(u) + 1; p < end(u); p++) {
        int from = clusterOf[items[p - 1]];
        int to = clusterOf[items[p]];
        steps++;
        stays += from == to ? 1 : 0;
        alongChain +=
            from == to || Arrays.stream(world.successors(from)).anyMatch(s -> s == to) ? 1 : 0;
      }
    }
    double stayRate = stays / (double) steps;
    double chainRate = alongChain / (double) steps;
    assertEquals(0.6, stayRate, 0.02, "stay probability");
    assertTrue(chainRate > 0.97, "all but the ~2% random jumps follow the chain: " + chainRate);
  }

  @Test
  void transitionsBeatPopularityByAWideMargin() {
    // Train on every user's history but the last item; predict the last from the one before.
    Integer[] popular = byCountDescending(trainingCounts());
    Map<Integer, Map<Integer, Integer>> next = new HashMap<>();
    for (int u = 1; u <= CONFIG.users(); u++) {
      for (int p = start(u); p + 1 < end(u) - 1; p++) {
        next.computeIfAbsent(items[p], k -> new HashMap<>()).merge(items[p + 1], 1, Integer::sum);
      }
    }
    int popularityHits = 0;
    int transitionHits = 0;
    for (int u = 1; u <= CONFIG.users(); u++) {
      int target = items[end(u) - 1];
      int last = items[end(u) - 2];
      List<Integer> top10 = Arrays.asList(popular).subList(0, 10);
      popularityHits += top10.contains(target) ? 1 : 0;
      List<Map.Entry<Integer, Integer>> seen =
          new ArrayList<>(next.getOrDefault(last, Map.of()).entrySet());
      seen.sort(
          (a, b) ->
              !a.getValue().equals(b.getValue())
                  ? b.getValue() - a.getValue()
                  : a.getKey() - b.getKey());
      List<Integer> predicted = new ArrayList<>();
      for (int i = 0; i < seen.size() && predicted.size() < 10; i++) {
        predicted.add(seen.get(i).getKey());
      }
      for (int i = 0; predicted.size() < 10; i++) { // fill up with popular items
        if (!predicted.contains(popular[i])) {
          predicted.add(popular[i]);
        }
      }
      transitionHits += predicted.contains(target) ? 1 : 0;
    }
    double popularityHr = popularityHits / (double) CONFIG.users();
    double transitionHr = transitionHits / (double) CONFIG.users();
    System.out.printf(
        "HR@10 on the last item: MostPop %.4f, item-to-item transitions %.4f (%.1fx)%n",
        popularityHr, transitionHr, transitionHr / popularityHr);
    assertTrue(popularityHr > 0.01, "MostPop is a real baseline: " + popularityHr);
    assertTrue(
        transitionHr >= 3 * popularityHr,
        "transitions " + transitionHr + " should beat MostPop " + popularityHr + " by 3x");
  }
}
