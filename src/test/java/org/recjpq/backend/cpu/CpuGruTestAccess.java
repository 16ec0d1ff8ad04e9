package org.recjpq.backend.cpu;

/** The double GRU reference of {@link CpuGruTest}, for the model tests in other packages. */
public final class CpuGruTestAccess {
  private CpuGruTestAccess() {}

  public static double[] reference(double[] x, double[] wih, double[] whh, double[] bih, double[] bhh, int[] ids,
      int batch, int len, int in, int hidden) {
    return CpuGruTest.reference(x, wih, whh, bih, bhh, ids, batch, len, in, hidden);
  }
}
