package org.recjpq.backend;

import org.recjpq.util.SplitMix64;

/**
 * The counter-based random numbers both engines draw for dropout masks and negative samples
 * (DESIGN §3): a pure function of (seed, stream, index), so the CPU and the GPU draw identical
 * values whatever their thread layout. {@code stream} separates uses (for dropout: the training
 * step and the layer; for negatives: the step); {@code index} is the element.
 *
 * <pre>
 * bits(seed, stream, index) = SplitMix64.key(seed, stream, index)     // 64-bit, see SplitMix64
 * uniform(seed, stream, index) = (bits >>> 40) * 2^-24                // float in [0, 1), 24 bits
 * </pre>
 */
public final class CounterRng {
  private CounterRng() {}

  /** 64 random bits for (seed, stream, index). */
  public static long bits(long seed, long stream, long index) {
    return SplitMix64.key(seed, stream, index);
  }

  /** A float uniform in [0, 1) with 24 random bits. */
  public static float uniform(long seed, long stream, long index) {
    return (bits(seed, stream, index) >>> 40) * 0x1.0p-24f;
  }

  /** An int uniform in [0, bound) (multiply-high of 32 bits; bias below 2^-32 · bound). */
  public static int below(long seed, long stream, long index, int bound) {
    return (int) (((bits(seed, stream, index) >>> 32) * bound) >>> 32);
  }

  /** The stream of a training step and a layer (dropout). */
  public static long stream(long step, int layer) {
    return (step << 8) | (layer & 0xff);
  }
}
