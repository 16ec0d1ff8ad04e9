package org.recjpq.backend;

import org.recjpq.util.SplitMix64;

/**
 * The counter-based random numbers both engines draw for dropout masks and negative samples
 * (docs/architecture.md §3): a pure function of (seed, stream, index), so the CPU and the GPU draw
 * identical values whatever their thread layout. {@code stream} separates uses (for dropout: the
 * training step and the layer; for negatives: the step); {@code index} is the element.
 *
 * <pre>
 * key(seed, stream)            = SplitMix64.key(seed, stream, 0)             // once per call
 * bits(seed, stream, index)    = mix(key + (index + 1) · 0x9E3779B97F4A7C15)  // the index-th SplitMix64 output
 * uniform(seed, stream, index) = (bits >>> 40) · 2^-24                       // float in [0, 1), 24 bits
 * </pre>
 *
 * One 64-bit mix per element: cheap on both engines, and the same numbers as the SplitMix64
 * sequence that starts at the stream's key.
 */
public final class CounterRng {
  private static final long GOLDEN = 0x9E3779B97F4A7C15L;

  private CounterRng() {}

  /** The key of a (seed, stream): compute once, then {@link #uniformAt} per element. */
  public static long key(long seed, long stream) {
    return SplitMix64.key(seed, stream, 0);
  }

  /** 64 random bits for (seed, stream, index). */
  public static long bits(long seed, long stream, long index) {
    return bitsAt(key(seed, stream), index);
  }

  /** 64 random bits of element {@code index} under a precomputed {@link #key}. */
  public static long bitsAt(long key, long index) {
    return SplitMix64.mix(key + (index + 1) * GOLDEN);
  }

  /** A float uniform in [0, 1) with 24 random bits. */
  public static float uniform(long seed, long stream, long index) {
    return uniformAt(key(seed, stream), index);
  }

  /** {@link #uniform} under a precomputed {@link #key}. */
  public static float uniformAt(long key, long index) {
    return (bitsAt(key, index) >>> 40) * 0x1.0p-24f;
  }

  /** An int uniform in [0, bound) (multiply-high of 32 bits; bias below 2^-32 · bound). */
  public static int below(long seed, long stream, long index, int bound) {
    return belowAt(key(seed, stream), index, bound);
  }

  /** {@link #below} under a precomputed {@link #key}. */
  public static int belowAt(long key, long index, int bound) {
    return (int) (((bitsAt(key, index) >>> 32) * bound) >>> 32);
  }

  /** The stream of a training step and a layer (dropout). */
  public static long stream(long step, int layer) {
    return (step << 8) | (layer & 0xff);
  }
}
