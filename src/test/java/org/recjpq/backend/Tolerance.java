package org.recjpq.backend;

/**
 * The one tolerance policy of the engine contract tests (docs/architecture.md §3): an engine's
 * value {@code a} agrees with the CPU reference {@code ref} when {@code |a - ref| <= atol +
 * rtol·|ref|}. Every contract test picks one of these constants; the reason for each value is next
 * to it.
 */
public record Tolerance(String name, double atol, double rtol) {
  /**
   * Index-heavy ops on small-integer inputs (gathers, scatter-adds, masks, dropout, ids): float
   * sums of small integers are exact in any order, so engines must agree bit for bit.
   */
  public static final Tolerance EXACT = new Tolerance("exact", 0, 0);

  /**
   * Element-wise float arithmetic (activations, Adam, residual adds): one or two roundings per
   * element, but a GPU may fuse a multiply-add (one rounding instead of two) and use its own
   * exp/erf: a few ulps.
   */
  public static final Tolerance ELEMENTWISE = new Tolerance("elementwise", 1e-6, 1e-5);

  /**
   * Reductions and GEMMs over up to a few hundred terms (layer norm, linear layers, attention,
   * sampled scores): the summation order differs between engines (blocked GEMMs, warp trees), which
   * moves a length-k sum by up to about k·6e-8 of the sum of |terms|; the golden files' output
   * budget (1e-5, 1e-4) covers it with room.
   */
  public static final Tolerance REDUCTION = new Tolerance("reduction", 1e-5, 1e-4);

  /**
   * Gradients, and losses over whole catalogues (full softmax CE: an online logsumexp over
   * thousands of items, then sums of softmax minus one-hot over items and rows): longer chains and
   * more cancellation, so 10× the reduction budget, as in the golden files' gradient row.
   */
  public static final Tolerance GRADIENT = new Tolerance("gradient", 1e-4, 1e-3);

  /** Whether {@code a} agrees with {@code ref}. */
  public boolean accepts(double a, double ref) {
    if (Double.isNaN(ref) || Double.isNaN(a)) {
      return Double.isNaN(ref) && Double.isNaN(a);
    }
    if (atol == 0 && rtol == 0) {
      return Double.doubleToLongBits(a) == Double.doubleToLongBits(ref) || (a == 0 && ref == 0);
    }
    return Math.abs(a - ref) <= atol + rtol * Math.abs(ref);
  }
}
