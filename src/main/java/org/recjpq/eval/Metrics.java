package org.recjpq.eval;

/**
 * Ranking metrics of one held-out target from its exact 1-based rank in the full catalogue. With
 * one relevant item, NDCG@K = 1/log2(rank + 1) when rank ≤ K (binary gain; the ideal DCG is 1),
 * Recall@K = HR@K = [rank ≤ K], and the reciprocal rank 1/rank is not cut off (MRR over the whole
 * ranking).
 */
public final class Metrics {
  private static final double LN2 = Math.log(2);

  private Metrics() {}

  public static double ndcg(long rank, int k) {
    return rank <= k ? LN2 / Math.log(rank + 1.0) : 0.0;
  }

  public static double recall(long rank, int k) {
    return rank <= k ? 1.0 : 0.0;
  }

  public static double reciprocalRank(long rank) {
    return 1.0 / rank;
  }
}
