package org.recjpq.util;

import java.util.Arrays;
import java.util.function.IntUnaryOperator;

/** Seeded sampling without replacement. */
public final class Sampling {
  private Sampling() {}

  /**
   * {@code count} of {@code items} drawn without replacement by a partial Fisher–Yates shuffle of a
   * copy, returned in ascending order; {@code nextInt} maps a bound to a uniform draw in [0,
   * bound). All of them (the same array) when there are no more than {@code count}.
   */
  public static int[] sortedSample(int[] items, int count, IntUnaryOperator nextInt) {
    if (items.length <= count) {
      return items;
    }
    int[] copy = items.clone();
    for (int i = 0; i < count; i++) {
      int j = i + nextInt.applyAsInt(copy.length - i);
      int t = copy[i];
      copy[i] = copy[j];
      copy[j] = t;
    }
    int[] chosen = Arrays.copyOf(copy, count);
    Arrays.sort(chosen);
    return chosen;
  }
}
