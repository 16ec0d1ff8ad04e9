package org.recjpq.backend;

/**
 * Scalar functions of {@link ReferenceOps} in double, accurate to far below float32 resolution: the
 * normal distribution for the exact GELU, softplus and sigmoid for the losses.
 */
final class ReferenceMath {
  private ReferenceMath() {}

  /**
   * erfc(x) for x ≥ 0: the Maclaurin series of erf below 3 (terms peak near 3^18/9! ≈ 1e3, so
   * cancellation costs at most 4 of double's 16 digits), and above 3 the continued fraction {@code
   * erfc x = exp(-x²)/√π · 1/(x + (1/2)/(x + 1/(x + (3/2)/(x + ...))))}, evaluated bottom-up from
   * 100 levels, which has converged to double precision there.
   */
  static double erfc(double x) {
    if (x < 0) {
      return 2 - erfc(-x);
    }
    if (x < 3) {
      double term = x; // (-1)^n x^(2n+1) / n!
      double sum = x;
      for (int n = 1; n < 200; n++) {
        term *= -x * x / n;
        double add = term / (2 * n + 1);
        sum += add;
        if (Math.abs(add) < 1e-17 * Math.abs(sum)) {
          break;
        }
      }
      return 1 - 2 / Math.sqrt(Math.PI) * sum;
    }
    double k = x;
    for (int n = 100; n >= 1; n--) {
      k = x + (n / 2.0) / k;
    }
    return Math.exp(-x * x) / (Math.sqrt(Math.PI) * k);
  }

  /** Φ(u), the standard normal distribution function: erfc(-u/√2)/2 (no cancellation for u < 0). */
  static double normalCdf(double u) {
    return 0.5 * erfc(-u / Math.sqrt(2));
  }

  /** φ(u), the standard normal density. */
  static double normalPdf(double u) {
    return Math.exp(-0.5 * u * u) / Math.sqrt(2 * Math.PI);
  }

  /** log(1 + exp(x)) without overflow. */
  static double softplus(double x) {
    return Math.max(x, 0) + Math.log1p(Math.exp(-Math.abs(x)));
  }

  /** 1 / (1 + exp(-x)) without overflow. */
  static double sigmoid(double x) {
    return x >= 0 ? 1 / (1 + Math.exp(-x)) : Math.exp(x) / (1 + Math.exp(x));
  }
}
