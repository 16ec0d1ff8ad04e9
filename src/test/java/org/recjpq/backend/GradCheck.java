package org.recjpq.backend;

import static org.junit.jupiter.api.Assertions.fail;

/**
 * Central finite differences in double precision: a test writes the forward of an op in double (a
 * plain reference), and {@link #numeric} differentiates it by perturbing each input element. The
 * engine's float32 backward is then compared with the result.
 */
public final class GradCheck {
  /** Relative step: h = STEP · max(1, |x|). */
  public static final double STEP = 1e-5;

  /** Float32 backward vs double finite differences: |a - fd| ≤ 1e-4 + 1e-3·|fd|. */
  public static final double ATOL = 1e-4;

  public static final double RTOL = 1e-3;

  private GradCheck() {}

  /** A scalar function of arrays that the check perturbs in place. */
  @FunctionalInterface
  public interface Scalar {
    double eval();
  }

  /** d f / d x by central differences, perturbing x in place (restored afterwards). */
  public static double[] numeric(double[] x, Scalar f) {
    double[] g = new double[x.length];
    for (int i = 0; i < x.length; i++) {
      double xi = x[i];
      double h = STEP * Math.max(1.0, Math.abs(xi));
      x[i] = xi + h;
      double up = f.eval();
      x[i] = xi - h;
      double down = f.eval();
      x[i] = xi;
      g[i] = (up - down) / (2 * h);
    }
    return g;
  }

  /** Asserts the analytic gradient matches the finite differences. */
  public static void assertMatches(String what, float[] analytic, double[] numeric) {
    Golden.assertClose(what + " vs finite differences", analytic, numeric, ATOL, RTOL);
  }

  /** Random doubles in [-scale, scale) from a seeded generator. */
  public static double[] random(java.util.Random rnd, int n, double scale) {
    double[] a = new double[n];
    for (int i = 0; i < n; i++) {
      a[i] = (2 * rnd.nextDouble() - 1) * scale;
    }
    return a;
  }

  /** Casts to float. */
  public static float[] toFloat(double[] a) {
    float[] f = new float[a.length];
    for (int i = 0; i < a.length; i++) {
      f[i] = (float) a[i];
    }
    return f;
  }

  /** Widens floats to doubles (so the double reference sees exactly the float inputs). */
  public static double[] toDouble(float[] a) {
    double[] d = new double[a.length];
    for (int i = 0; i < a.length; i++) {
      d[i] = a[i];
    }
    return d;
  }

  static void require(boolean ok, String message) {
    if (!ok) {
      fail(message);
    }
  }
}
