package org.recjpq.serve;

import org.recjpq.backend.cpu.CpuBuf;

/**
 * A dense item table on the host (N × d, off-heap, in chunks of a power-of-two number of items, at
 * most {@link #CHUNK} and fewer when d is so wide that {@link #CHUNK} rows would pass one buffer's
 * 2 GB, so that tables beyond one buffer fit). Canonical score: {@code Σ_j h[j]·e_i[j]}, j in
 * order, in float, plus the item's offset when there are offsets.
 */
public final class DenseHead extends ServingHead {
  static final int CHUNK = 1 << 20;
  private final int chunk; // items a chunk, a power of two
  private final CpuBuf[] chunks;
  private double maxNorm = -1;

  /** Copies rows {@code [0, n)} of a row-major (n, d) table that {@code row} reads item by item. */
  public DenseHead(int n, int d, RowSource rows) {
    this(n, d, chunkItems(d), rows, null);
  }

  /** As above with per-item score offsets (N floats, or null), added to each dot product. */
  public DenseHead(int n, int d, RowSource rows, float[] bias) {
    this(n, d, chunkItems(d), rows, bias);
  }

  /** As above with {@code chunk} items a chunk (a power of two; tests use small ones). */
  DenseHead(int n, int d, int chunk, RowSource rows) {
    this(n, d, chunk, rows, null);
  }

  private DenseHead(int n, int d, int chunk, RowSource rows, float[] bias) {
    super(n, d, bias);
    if (Integer.bitCount(chunk) != 1 || (long) chunk * d > CpuBuf.MAX_FLOATS) {
      throw new IllegalArgumentException("chunk of " + chunk + " items at d = " + d);
    }
    this.chunk = chunk;
    chunks = new CpuBuf[(int) (((long) n + chunk - 1) / chunk)];
    float[] row = new float[d];
    for (int c = 0; c < chunks.length; c++) {
      int from = c * chunk;
      int count = Math.min(chunk, n - from);
      chunks[c] = CpuBuf.allocate((long) count * d);
      for (int i = 0; i < count; i++) {
        rows.read(from + i, row);
        chunks[c].write(i * d, row, 0, d);
      }
    }
  }

  /**
   * Items a chunk holds at width {@code d}: the largest power of two ≤ {@link #CHUNK} whose rows
   * fit one buffer.
   */
  static int chunkItems(int d) {
    return Integer.highestOneBit(
        (int) Math.max(1, Math.min(CHUNK, CpuBuf.MAX_FLOATS / Math.max(1, d))));
  }

  /** Supplies one item's embedding. */
  @FunctionalInterface
  public interface RowSource {
    void read(int item, float[] out);
  }

  /** A dense table given as one row-major array. */
  public static DenseHead of(float[] table, int n, int d) {
    return new DenseHead(n, d, (i, out) -> System.arraycopy(table, i * d, out, 0, d));
  }

  @Override
  int queryFloats() {
    return d;
  }

  @Override
  void prepare(float[] h, float[] query) {
    System.arraycopy(h, 0, query, 0, d);
  }

  @Override
  float score(float[] h, int item) {
    CpuBuf c = chunks[item / chunk];
    int base = (item % chunk) * d;
    float acc = 0f;
    for (int j = 0; j < d; j++) {
      acc += h[j] * c.get(base + j);
    }
    return biased(acc, item);
  }

  @Override
  synchronized double maxNorm() {
    if (maxNorm < 0) {
      double best = 0;
      for (CpuBuf c : chunks) {
        for (long i = 0, rows = c.size() / d; i < rows; i++) {
          double a = 0;
          for (int j = 0; j < d; j++) {
            double v = c.get((int) i * d + j);
            a += v * v;
          }
          best = Math.max(best, a);
        }
      }
      maxNorm = Math.sqrt(best);
    }
    return maxNorm;
  }

  /**
   * A view of the table (a range never crosses a chunk when it starts at a multiple of its
   * power-of-two length ≤ the chunk's).
   */
  @Override
  CpuBuf embeddings(int from, int count, CpuBuf scratch) {
    CpuBuf c = chunks[from / chunk];
    int at = from % chunk;
    if (at + count <= c.size() / d) {
      return c.slice((long) at * d, (long) count * d);
    }
    float[] row = new float[d];
    CpuBuf out = scratch.slice(0, (long) count * d);
    for (int i = 0; i < count; i++) {
      CpuBuf src = chunks[(from + i) / chunk];
      src.read(((from + i) % chunk) * d, row, 0, d);
      out.write(i * d, row, 0, d);
    }
    return out;
  }
}
