package org.recjpq.backend.cpu;

/** Scalar functions of the CPU engine. */
final class CpuMath {
  private static final double SQRT_HALF = Math.sqrt(0.5);
  private static final double INV_SQRT_2PI = 1.0 / Math.sqrt(2 * Math.PI);

  private CpuMath() {}

  /**
   * erf(x) from the complementary error function's Chebyshev fit of Press et al. (Numerical
   * Recipes, "erfcc"): fractional error of erfc below 1.2e-7 everywhere, so |error of erf| below
   * 2.4e-7, finer than float32 needs, with no iteration (Java has no Math.erf).
   */
  static double erf(double x) {
    double z = Math.abs(x);
    double t = 1.0 / (1.0 + 0.5 * z);
    double erfc =
        t
            * Math.exp(
                -z * z
                    - 1.26551223
                    + t
                        * (1.00002368
                            + t
                                * (0.37409196
                                    + t
                                        * (0.09678418
                                            + t
                                                * (-0.18628806
                                                    + t
                                                        * (0.27886807
                                                            + t
                                                                * (-1.13520398
                                                                    + t
                                                                        * (1.48851587
                                                                            + t
                                                                                * (-0.82215223
                                                                                    + t
                                                                                        * 0.17087277)))))))));
    return x >= 0 ? 1.0 - erfc : erfc - 1.0;
  }

  /** Exact-form GELU: 0.5 u (1 + erf(u / sqrt 2)). */
  static float gelu(float u) {
    return (float) (0.5 * u * (1.0 + erf(u * SQRT_HALF)));
  }

  /** GELU'(u) = Φ(u) + u φ(u). */
  static float geluGrad(float u) {
    double cdf = 0.5 * (1.0 + erf(u * SQRT_HALF));
    double pdf = INV_SQRT_2PI * Math.exp(-0.5 * (double) u * u);
    return (float) (cdf + u * pdf);
  }

  /** log(1 + exp(x)), stable for large |x|. */
  static double softplus(double x) {
    return x > 0 ? x + Math.log1p(Math.exp(-x)) : Math.log1p(Math.exp(x));
  }

  /** 1 / (1 + exp(-x)), stable. */
  static double sigmoid(double x) {
    if (x >= 0) {
      return 1.0 / (1.0 + Math.exp(-x));
    }
    double e = Math.exp(x);
    return e / (1.0 + e);
  }

  /**
   * The change Adam(W) makes to one parameter, {@code -lr·wd·p - lr·m̂/(sqrt(v̂) + eps)} with
   * {@code m̂ = m/c1}, {@code v̂ = v/c2} (c = 1 - β^t), in double; the golden files check it
   * directly.
   */
  static double adamDelta(
      float param,
      float mNew,
      float vNew,
      float lr,
      float eps,
      float weightDecay,
      double c1,
      double c2) {
    return -(lr * (double) weightDecay * param + lr * (mNew / c1) / (Math.sqrt(vNew / c2) + eps));
  }
}
