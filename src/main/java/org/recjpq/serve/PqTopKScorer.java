package org.recjpq.serve;

/**
 * PQTopK (METHOD §4, §9): the sub-id score table once per query (m × 256 dot products of d/m),
 * then every item's score from m look-ups, items in order, kept by a heap of K. With m = 8 an
 * item's codes are one packed long. Cost ∝ N·m look-ups; nothing proportional to N·d.
 */
public final class PqTopKScorer implements TopKScorer {
  private final JpqHead head;
  private final ThreadLocal<float[]> tables;

  public PqTopKScorer(JpqHead head) {
    this.head = head;
    this.tables = ThreadLocal.withInitial(() -> new float[head.queryFloats()]);
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
      for (int i = 0; i < n; i++) {
        float s = JpqHead.score8(t, packed[i]);
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
