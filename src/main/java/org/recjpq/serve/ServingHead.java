package org.recjpq.serve;

import org.recjpq.backend.cpu.CpuBuf;

/**
 * The item side of a trained model on the host, for top-K scoring: N items of dimension d and the
 * canonical score of an item for a query representation h. Every scorer ranks by exactly this
 * score (bit for bit), so they all return the same top-K; a scorer that computes scores another
 * way (a BLAS product) uses them only to find candidates and re-scores those canonically.
 */
public abstract sealed class ServingHead permits JpqHead, DenseHead {
  final int n;
  final int d;

  ServingHead(int n, int d) {
    this.n = n;
    this.d = d;
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

  /** The canonical score of {@code item} for a prepared query. */
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
   * the exact dot by at most γ·|h|·|e| with γ = (terms)·2⁻²⁴ (the standard bound, with any order
   * of summation, FMA or not); doubled, with room to spare.
   */
  double roundingWindow(double hNorm) {
    double gamma = (2.0 * d + 16) * 0x1p-24;
    return 4 * gamma * hNorm * maxNorm() * 1.01 + Float.MIN_NORMAL;
  }
}
