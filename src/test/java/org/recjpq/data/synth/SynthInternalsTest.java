package org.recjpq.data.synth;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.recjpq.util.SplitMix64;

/** The building blocks: number formatting, user lengths, the RNG and the cluster draws. */
class SynthInternalsTest {

  @Test
  void digitsAndFormattingMatchIntegerToString() {
    int[] edges = {0, 1, 9, 10, 99, 100, 999, 1000, 99_999, 100_000, 9_999_999, 10_000_000};
    SplittableRandom random = new SplittableRandom(1);
    for (int i = 0; i < 20_000; i++) {
      int v = i < edges.length ? edges[i] : i < 40 ? Integer.MAX_VALUE - i : random.nextInt();
      v = v < 0 ? -(v + 1) : v;
      assertEquals(Integer.toString(v).length(), LineFormatter.digits(v), "digits of " + v);
      byte[] b = new byte[12];
      int end = LineFormatter.putDigits(b, 1, v);
      assertEquals(Integer.toString(v), new String(b, 1, end - 1, StandardCharsets.US_ASCII));
    }
  }

  @Test
  void linesAreUserSpaceItemNewline() {
    LineFormatter f = new LineFormatter(new byte[64]);
    f.user(1234);
    f.line(7);
    f.line(1_000_000);
    f.user(5);
    f.line(42);
    assertEquals(
        "1234 7\n1234 1000000\n5 42\n",
        new String(f.buffer, 0, f.position, StandardCharsets.US_ASCII));
    assertEquals(4 + 1 + 7 + 1, LineFormatter.maxLineBytes(1000, 9_999_999));
  }

  private static long[] lengths(SynthConfig config) {
    UserLengths lengths = new UserLengths(config);
    long[] all = new long[config.users()];
    for (int u = 0; u < all.length; u++) {
      assertEquals(u, lengths.nextUser());
      long peeked = lengths.peek();
      assertEquals(peeked, lengths.peek(), "peek does not move on");
      all[u] = lengths.next();
    }
    assertTrue(!lengths.hasNext());
    return all;
  }

  @Test
  void lengthsSumExactlyAndRespectTheMinimum() {
    long[] cases = {1, 1, 5, 3, 10, 1, 7, 1000, 123_457, 250, 1_000_003};
    for (int i = 0; i + 1 < cases.length; i += 2) {
      int users = (int) cases[i];
      long interactions = Math.max(cases[i + 1], users * 5L);
      for (double spread : new double[] {0, 1, 4}) {
        SynthConfig c =
            new SynthConfig(users, 10, interactions, 3, 50, 4, 0.5, 0.6, 0.02, 1, 5, spread);
        long[] l = lengths(c);
        assertEquals(interactions, Arrays.stream(l).sum());
        assertTrue(Arrays.stream(l).allMatch(x -> x >= 5));
      }
    }
  }

  @Test
  void lengthsWithoutSpreadAreEqualAndWithSpreadSkewed() {
    long[] flat = lengths(new SynthConfig(4, 10, 30, 3, 50, 4, 0.5, 0.6, 0.02, 1, 5, 0));
    assertTrue(Arrays.stream(flat).allMatch(x -> x == 7 || x == 8), Arrays.toString(flat));
    long[] skewed = lengths(SynthConfig.defaults(10_000, 1000, 1_000_000, 3));
    long max = Arrays.stream(skewed).max().orElseThrow();
    assertTrue(max >= 10 * 100, "some users are much longer than the mean of 100: " + max);
    assertArrayEquals(skewed, lengths(SynthConfig.defaults(10_000, 1000, 1_000_000, 3)));
  }

  @Test
  void keyedStreamsDifferAndRepeat() {
    assertEquals(SplitMix64.keyed(1, 2, 3).nextLong(), SplitMix64.keyed(1, 2, 3).nextLong());
    assertNotEquals(SplitMix64.keyed(1, 2, 3).nextLong(), SplitMix64.keyed(1, 2, 4).nextLong());
    assertNotEquals(SplitMix64.keyed(1, 2, 3).nextLong(), SplitMix64.keyed(1, 3, 3).nextLong());
    assertNotEquals(SplitMix64.keyed(1, 2, 3).nextLong(), SplitMix64.keyed(2, 2, 3).nextLong());
    SplitMix64 rng = new SplitMix64(9);
    int[] counts = new int[7];
    for (int i = 0; i < 70_000; i++) {
      counts[rng.nextInt(7)]++;
    }
    for (int count : counts) {
      assertTrue(Math.abs(count - 10_000) < 500, Arrays.toString(counts));
    }
  }

  /** Frequencies of items drawn from cluster 0 after {@code previous}, by item. */
  private static Map<Integer, Double> draw(SynthWorld world, int previous, int n) {
    SplitMix64 rng = new SplitMix64(5);
    Map<Integer, Integer> counts = new HashMap<>();
    for (int i = 0; i < n; i++) {
      int item = world.drawItem(0, previous, rng);
      assertNotEquals(previous, item);
      counts.merge(item, 1, Integer::sum);
    }
    Map<Integer, Double> freq = new HashMap<>();
    counts.forEach((k, v) -> freq.put(k, v / (double) n));
    return freq;
  }

  @Test
  void clusterDrawsFollowTheZipfWeightsExcludingThePreviousItem() {
    // One cluster of 4 items, ranks 0..3: weights 1, 1/2, 1/3, 1/4 (sum 25/12).
    SynthWorld world =
        new SynthWorld(new SynthConfig(1, 4, 5, 11, 4, 4, 0.5, 0.6, 0.02, 1.0, 5, 1.0));
    int[] items = world.clusterItems(0);
    int head = items[0];
    Map<Integer, Double> any = draw(world, 0, 400_000);
    assertShares(any, 12 / 25.0, 6 / 25.0, 4 / 25.0, 3 / 25.0);
    assertEquals(12 / 25.0, any.get(head), 0.005, "the head is the most popular item");
    // After the head: the tail renormalised, 6:4:3.
    assertShares(draw(world, head, 400_000), 6 / 13.0, 4 / 13.0, 3 / 13.0);
    // After the second most popular item: 12:4:3 over the others, the head first.
    int second =
        any.keySet().stream()
            .filter(i -> i != head)
            .max((a, b) -> Double.compare(any.get(a), any.get(b)))
            .orElseThrow();
    Map<Integer, Double> afterSecond = draw(world, second, 400_000);
    assertShares(afterSecond, 12 / 19.0, 4 / 19.0, 3 / 19.0);
    assertEquals(12 / 19.0, afterSecond.get(head), 0.005);
  }

  private static void assertShares(Map<Integer, Double> freq, double... expected) {
    double[] sorted = freq.values().stream().mapToDouble(x -> -x).sorted().map(x -> -x).toArray();
    assertEquals(expected.length, sorted.length, Arrays.toString(sorted));
    for (int i = 0; i < expected.length; i++) {
      assertEquals(expected[i], sorted[i], 0.005, "share " + i + " of " + Arrays.toString(sorted));
    }
  }

  @Test
  void successorsAreDistinctOtherClusters() {
    SynthWorld world = new SynthWorld(SynthConfig.defaults(10, 1000, 100, 2));
    for (int c = 0; c < world.clusters; c++) {
      int cluster = c;
      int[] next = world.successors(cluster);
      assertEquals(4, next.length);
      assertEquals(4, Arrays.stream(next).distinct().count());
      assertTrue(Arrays.stream(next).allMatch(x -> x != cluster && x >= 0 && x < 20));
    }
    // Two clusters: one successor each, the other one.
    SynthWorld two = new SynthWorld(SynthConfig.defaults(10, 100, 100, 2));
    assertArrayEquals(new int[] {1}, two.successors(0));
    assertArrayEquals(new int[] {0}, two.successors(1));
  }

  @Test
  void successorsStayWithinTheLocalityRadiusOnTheRing() {
    // 2,000 clusters, radius 3: every successor is 1..3 ring steps away, both ways, across the wrap
    SynthConfig local = new SynthConfig(10, 100_000, 100, 2, 50, 4, 0.5, 0.6, 0.02, 1.0, 5, 1.0, 3);
    SynthWorld world = new SynthWorld(local);
    int c0 = world.clusters;
    assertEquals(2000, c0);
    boolean before = false;
    boolean after = false;
    for (int c = 0; c < c0; c++) {
      int cluster = c;
      int[] next = world.successors(cluster);
      assertEquals(4, Arrays.stream(next).distinct().count());
      for (int x : next) {
        int step = Math.floorMod(x - cluster, c0);
        int dist = Math.min(step, c0 - step);
        assertTrue(dist >= 1 && dist <= 3, "cluster " + cluster + " successor " + x);
        before |= step > c0 / 2;
        after |= step <= c0 / 2;
      }
    }
    assertTrue(before && after, "successors on both sides");
    // radius 0 keeps the unconstrained draw: successors far away too
    SynthWorld anywhere = new SynthWorld(local.withSeed(2).withRadius(0));
    assertTrue(
        java.util.stream.IntStream.range(0, c0)
            .anyMatch(
                c ->
                    Arrays.stream(anywhere.successors(c))
                        .anyMatch(
                            x ->
                                Math.min(Math.floorMod(x - c, c0), Math.floorMod(c - x, c0)) > 3)));
  }

  @Test
  void everyItemBelongsToExactlyOneCluster() {
    SynthWorld world = new SynthWorld(SynthConfig.defaults(10, 1037, 100, 4));
    boolean[] seen = new boolean[1038];
    int total = 0;
    for (int c = 0; c < world.clusters; c++) {
      int[] items = world.clusterItems(c);
      assertTrue(items.length == 51 || items.length == 52, "cluster size " + items.length);
      for (int item : items) {
        assertTrue(!seen[item], "item " + item + " twice");
        seen[item] = true;
        total++;
      }
    }
    assertEquals(1037, total);
  }
}
