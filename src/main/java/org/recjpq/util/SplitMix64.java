package org.recjpq.util;

/**
 * SplitMix64 (Steele, Lea and Flood, OOPSLA 2014): a 64-bit counter passed through a strong mixing
 * function. Used here as a counter-based generator: {@link #key(long, long, long)} turns (seed,
 * stream, index) into an independent starting state, so each user's walk, each user's length and
 * each part of the hidden structure draw from their own stream, whatever the thread that runs them
 * and in whatever order.
 *
 * <p>Not thread-safe; one instance per thread.
 */
public final class SplitMix64 {
  private static final long GOLDEN = 0x9E3779B97F4A7C15L;

  private long state;

  public SplitMix64(long state) {
    this.state = state;
  }

  /** A starting state for stream {@code stream}, element {@code index}, under {@code seed}. */
  public static long key(long seed, long stream, long index) {
    return mix(mix(seed + GOLDEN * (stream + 1)) ^ mix(index * GOLDEN + stream));
  }

  /** A generator positioned at {@link #key(long, long, long)}. */
  public static SplitMix64 keyed(long seed, long stream, long index) {
    return new SplitMix64(key(seed, stream, index));
  }

  /** The SplitMix64 finaliser (a variant of MurmurHash3's fmix64). */
  public static long mix(long z) {
    z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
    z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
    return z ^ (z >>> 31);
  }

  /** Moves to a new state (reuses the object for the next user). */
  public void reset(long newState) {
    state = newState;
  }

  public long nextLong() {
    state += GOLDEN;
    return mix(state);
  }

  /** Uniform in [0, 1) with 53 random bits. */
  public double nextDouble() {
    return (nextLong() >>> 11) * 0x1.0p-53;
  }

  /** Uniform in [0, bound), bound > 0; bias below bound / 2^63 (multiply-high, no modulo). */
  public int nextInt(int bound) {
    return (int) Math.multiplyHigh(nextLong() >>> 1, (long) bound << 1);
  }

  /** Standard normal (Box-Muller; one of the pair, so each call uses two uniforms). */
  public double nextGaussian() {
    double u1 = 1.0 - nextDouble(); // (0, 1]: log is finite
    double u2 = nextDouble();
    return Math.sqrt(-2.0 * Math.log(u1)) * Math.cos(2.0 * Math.PI * u2);
  }

  /** Shuffles {@code a[from, to)} in place (Fisher-Yates). */
  public void shuffle(int[] a, int from, int to) {
    for (int i = to - 1; i > from; i--) {
      int j = from + nextInt(i - from + 1);
      int t = a[i];
      a[i] = a[j];
      a[j] = t;
    }
  }
}
