package org.recjpq.backend.cpu;

/**
 * Test-side double references of this package (the GRU of {@link CpuGruTest}, erf), for model tests
 * elsewhere.
 */
public final class CpuTestAccess {
  private CpuTestAccess() {}

  public static double[] reference(
      double[] x,
      double[] wih,
      double[] whh,
      double[] bih,
      double[] bhh,
      int[] ids,
      int batch,
      int len,
      int in,
      int hidden) {
    return CpuGruTest.reference(x, wih, whh, bih, bhh, ids, batch, len, in, hidden);
  }

  public static double erf(double x) {
    return CpuOpsGradientTest.erf(x);
  }
}
