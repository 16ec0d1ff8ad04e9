package org.recjpq.serve;

/**
 * PQTopK (docs/method.md §4, §9): the sub-id score table once per query (m × 256 dot products of
 * d/m), then every item's score from m look-ups, items in order, kept by a heap of K. With m = 8 an
 * item's codes are one packed long, and over large catalogues the table is widened once more into
 * sums of split pairs ({@link JpqHead#pairTables}, 4 look-ups an item, the same scores bit for
 * bit), plus the item's offset when the model has them. Cost ∝ N·m look-ups; nothing proportional
 * to N·d.
 */
public final class PqTopKScorer implements TopKScorer {
  private final JpqHead head;
  private final ThreadLocal<float[]> tables;
  private final ThreadLocal<float[]> pairTables;

  /**
   * From this many items on (m = 8), the pair tables' 262,144 additions per query pay for
   * themselves.
   */
  static final int PAIR_MIN_ITEMS = 1 << 17;

  private final int pairMinItems;

  public PqTopKScorer(JpqHead head) {
    this(head, PAIR_MIN_ITEMS);
  }

  /**
   * As {@link #PqTopKScorer(JpqHead)}, taking the pair tables from {@code pairMinItems} items on
   * (tests).
   */
  PqTopKScorer(JpqHead head, int pairMinItems) {
    this.head = head;
    this.pairMinItems = pairMinItems;
    this.tables = ThreadLocal.withInitial(() -> new float[head.queryFloats()]);
    this.pairTables = ThreadLocal.withInitial(() -> new float[JpqHead.PAIR_FLOATS]);
  }

  @Override
  public String name() {
    return "pqtopk";
  }

  @Override
  public void topK(float[] h, ItemFilter filter, TopK out) {
    float[] t = tables.get();
    head.prepare(h, t);
    int n = head.n;
    float thr = out.threshold();
    long[] packed = head.packed;
    if (packed != null) {
      boolean pairs = n >= pairMinItems;
      float[] pt = pairs ? pairTables.get() : null;
      if (pairs) {
        JpqHead.pairTables(t, pt);
      }
      for (int i = 0; i < n; i++) {
        float s =
            head.biased(
                pairs ? JpqHead.scorePairs(pt, packed[i]) : JpqHead.score8(t, packed[i]), i);
        if (s >= thr && out.accepts(i, s) && !filter.excluded(i)) {
          out.offer(i, s);
          thr = out.threshold();
        }
      }
    } else {
      for (int i = 0; i < n; i++) {
        float s = head.score(t, i);
        if (s >= thr && out.accepts(i, s) && !filter.excluded(i)) {
          out.offer(i, s);
          thr = out.threshold();
        }
      }
    }
  }
}
