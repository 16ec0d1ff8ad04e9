/**
 * Exact full-catalogue evaluation: every item is ranked for every test user, by streaming the
 * catalogue in tiles so that users × items never exists in memory; NDCG@K, Recall@K and MRR from
 * each user's exact target rank; per-user output and paired significance tests; and the non-neural
 * baselines (MostPop, a first-order Markov chain) behind the same {@link org.recjpq.eval.Scorer}
 * interface the trained models implement.
 */
package org.recjpq.eval;
