package org.recjpq.serve;

import org.recjpq.backend.cpu.CpuBuf;

/**
 * The item side of a trained model on the host, for top-K scoring: N items of dimension d and the
 * canonical score of an item for a query representation h. Every scorer ranks by exactly this score
 * (bit for bit), so they all return the same top-K; a scorer that computes scores another way (a
 * BLAS product) uses them only to find candidates and re-scores those canonically.
 */
public abstract sealed class ServingHead permits JpqHead, DenseHead {
  final int n;
  final int d;
  final float[] bias; // per-item score offsets (N), or null
  final double maxAbsBias; // the largest |b_i| (rounding windows); 0 without offsets

  ServingHead(int n, int d, float[] bias) {
    this.n = n;
    this.d = d;
    if (bias != null && bias.length != n) {
      throw new IllegalArgumentException(
          "item biases hold " + bias.length + " floats for " + n + " items");
    }
    this.bias = bias;
    double abs = 0;
    if (bias != null) {
      for (float b : bias) {
        abs = Math.max(abs, Math.abs(b));
      }
    }
    this.maxAbsBias = abs;
  }

  /**
   * Whether items carry score offsets: the canonical score is then {@code h · e_i + b_i}, the
   * offset added last.
   */
  public boolean hasItemBias() {
    return bias != null;
  }

  /** {@code s + b_item} in float (the last step of a canonical score), or s without offsets. */
  final float biased(float s, int item) {
    return bias == null ? s : s + bias[item];
  }

  public int numItems() {
    return n;
  }

  public int dim() {
    return d;
  }

  /** Floats of the prepared query ({@link #prepare}). */
  abstract int queryFloats();

  /** Prepares the query for {@link #score}: RecJPQ sub-id score tables, or a copy of h. */
  abstract void prepare(float[] h, float[] query);

  /** The canonical score of {@code item} for a prepared query (its offset included). */
  abstract float score(float[] query, int item);

  /** The largest item-embedding norm, for rounding-error bounds. */
  abstract double maxNorm();

  /**
   * The embeddings of items {@code [from, from + count)} as a (count, d) matrix: decoded into
   * {@code scratch} (RecJPQ) or a view of the table (dense).
   */
  abstract CpuBuf embeddings(int from, int count, CpuBuf scratch);

  /**
   * A bound on |BLAS dot − canonical score| for a query of norm {@code hNorm}: each differs from
   * the exact dot by at most γ·|h|·|e| with γ = (terms)·2⁻²⁴ (the standard bound, with any order of
   * summation, FMA or not); doubled, with room to spare. With item offsets the bound covers scores
   * of d + 1 terms (an offset as one more product, as a device GEMM over rows with an extra column
   * forms it) and one more rounding after the canonical sum: |h|·|e| + max|b_i| in place of
   * |h|·|e|, and γ widened by two units.
   */
  double roundingWindow(double hNorm) {
    double gamma = (2.0 * d + 16) * 0x1p-24;
    if (bias == null) {
      return 4 * gamma * hNorm * maxNorm() * 1.01 + Float.MIN_NORMAL;
    }
    return 4 * (gamma + 2 * 0x1p-24) * (hNorm * maxNorm() + maxAbsBias) * 1.01 + Float.MIN_NORMAL;
  }
}
