package org.recjpq.backend.cpu;

/**
 * The exponentials of the softmax loops ({@link CpuFullCrossEntropy}), over arrays, in a form that
 * HotSpot's C2 compiles to SIMD code with no flags: only loads, stores, multiply-adds and max on
 * double[]. {@link Math#exp} is a scalar call (about 9 ns a value here in a sum, 25 ns when the
 * result is stored) and was most of the time of a full cross-entropy; this is about 2.5 ns.
 *
 * <p>Method: {@code exp(x) = exp(x / 1024)^1024}. For {@code x} in [-87, 0], {@code z = x/1024}
 * (exact) lies in [-0.085, 0], where the degree-8 Taylor polynomial of exp is accurate to 7e-16;
 * ten squarings multiply that relative error by 1024 and add ~2e-13 of rounding, so the result is
 * within about 1e-12 relative of exp(x) (measured 7e-13): far below float precision, which is what
 * every caller rounds to or adds up in double. Arguments below -87 are clamped there: they give
 * exp(-87) ≈ 1.6e-38 instead of something smaller, an absolute error under 2e-38, invisible next to
 * the softmax denominators (at least 1) and in float gradients. The callers' arguments are {@code
 * score − max} or {@code score − lse}, so never above 0 by more than rounding; the formula stays
 * accurate to about 1e-9 up to x = 20 all the same. NaN stays NaN.
 */
final class CpuExp {
  /** Arguments are clamped to at least this (exp(-87) is still a normal float). */
  static final double MIN_ARG = -87.0;

  private CpuExp() {}

  /** {@code t[i] = exp(t[i] - shift)} for i in [0, n). */
  static void expShifted(double[] t, int n, double shift) {
    for (int i = 0; i < n; i++) {
      t[i] = pow1024(taylor(Math.max(t[i] - shift, MIN_ARG) * (1.0 / 1024)));
    }
  }

  /** {@code exp(x)} for one value, by the same formula. */
  static double exp(double x) {
    return pow1024(taylor(Math.max(x, MIN_ARG) * (1.0 / 1024)));
  }

  /** {@code t[0] + ... + t[n-1]} in a fixed order: four interleaved partial sums, then combined. */
  static double sum(double[] t, int n) {
    double a0 = 0;
    double a1 = 0;
    double a2 = 0;
    double a3 = 0;
    int i = 0;
    for (; i + 3 < n; i += 4) {
      a0 += t[i];
      a1 += t[i + 1];
      a2 += t[i + 2];
      a3 += t[i + 3];
    }
    for (; i < n; i++) {
      a0 += t[i];
    }
    return (a0 + a1) + (a2 + a3);
  }

  /** exp(z) for |z| ≤ 0.085: Taylor to degree 8, Horner. */
  private static double taylor(double z) {
    double p = 1.0 / 40320;
    p = p * z + 1.0 / 5040;
    p = p * z + 1.0 / 720;
    p = p * z + 1.0 / 120;
    p = p * z + 1.0 / 24;
    p = p * z + 1.0 / 6;
    p = p * z + 0.5;
    p = p * z + 1.0;
    return p * z + 1.0;
  }

  private static double pow1024(double p) {
    p *= p;
    p *= p;
    p *= p;
    p *= p;
    p *= p;
    p *= p;
    p *= p;
    p *= p;
    p *= p;
    return p * p;
  }
}
