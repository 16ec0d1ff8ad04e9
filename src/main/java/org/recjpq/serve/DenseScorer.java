package org.recjpq.serve;

import org.recjpq.backend.cpu.Blas;
import org.recjpq.backend.cpu.CpuBuf;
import org.recjpq.codes.ItemCodes;

/**
 * Dense scoring, the baseline: h against every row of a full item table with OpenBLAS (SGEMV in
 * tiles of {@link #TILE} items, one thread). For a RecJPQ model the table is decoded once, up front
 * ({@link #predecode}: N × d floats, which is the point of comparison, not something the other
 * scorers need).
 *
 * <p>Exact: BLAS rounds differently from the canonical score, so the product only selects
 * candidates. A second heap keeps the K best BLAS scores; an item is re-scored canonically when its
 * BLAS score is within the rounding window ({@link ServingHead#roundingWindow}) of that heap's
 * current K-th best, and the canonical scores decide. The K-th best BLAS score only rises, and an
 * item of the canonical top-K scores at least the final K-th best BLAS score minus the window, so
 * none is missed; in practice a handful of items beyond K are re-scored.
 */
public final class DenseScorer implements TopKScorer {
  static final int TILE = 4096;
  private final ServingHead canonical;
  private final DenseHead table;
  private final ThreadLocal<Scratch> scratch;

  /**
   * Scores with {@code table}'s rows; {@code canonical} defines the exact score (the table itself
   * when dense).
   */
  public DenseScorer(ServingHead canonical, DenseHead table) {
    if (canonical.numItems() != table.numItems() || canonical.dim() != table.dim()) {
      throw new IllegalArgumentException("the table's shape differs from the head's");
    }
    this.canonical = canonical;
    this.table = table;
    this.scratch = ThreadLocal.withInitial(() -> new Scratch(canonical, table.dim()));
  }

  /** A RecJPQ head's full decoded table (N × d floats, off-heap). */
  public static DenseHead predecode(JpqHead head) {
    int m = head.m;
    int sub = head.sub;
    return new DenseHead(
        head.n,
        head.d,
        (item, out) -> {
          for (int k = 0; k < m; k++) {
            System.arraycopy(
                head.codebooks,
                (k * ItemCodes.SUB_IDS + (head.codes[item * m + k] & 0xff)) * sub,
                out,
                k * sub,
                sub);
          }
        });
  }

  @Override
  public String name() {
    return "dense";
  }

  private static final class Scratch {
    final float[] query;
    final CpuBuf h;
    final CpuBuf scores = CpuBuf.allocate(TILE);
    final CpuBuf tile;
    final float[] s = new float[TILE];
    final TopK approx = new TopK(10);

    Scratch(ServingHead head, int d) {
      query = new float[head.queryFloats()];
      h = CpuBuf.allocate(d);
      tile = CpuBuf.allocate((long) TILE * d);
    }
  }

  @Override
  public void topK(float[] h, ItemFilter filter, TopK out) {
    Scratch w = scratch.get();
    int d = table.dim();
    int n = table.numItems();
    canonical.prepare(h, w.query);
    w.h.write(0, h, 0, d);
    double norm = 0;
    for (int j = 0; j < d; j++) {
      norm += (double) h[j] * h[j];
    }
    double window = canonical.roundingWindow(Math.sqrt(norm));
    TopK approx = w.approx;
    approx.reset(out.capacity());
    for (int from = 0; from < n; from += TILE) {
      int nt = Math.min(TILE, n - from);
      CpuBuf e = table.embeddings(from, nt, w.tile);
      Blas.sgemv(nt, d, e, d, w.h, w.scores);
      w.scores.read(0, w.s, 0, nt);
      double lim = approx.threshold() - window;
      for (int i = 0; i < nt; i++) {
        int item = from + i;
        float a = canonical.biased(w.s[i], item);
        if (a >= lim) {
          if (filter.excluded(item)) {
            continue;
          }
          approx.offer(item, a);
          out.offer(item, canonical.score(w.query, item));
          lim = approx.threshold() - window;
        }
      }
    }
  }
}
