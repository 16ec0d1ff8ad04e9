/**
 * Serving: {@link org.recjpq.serve.Recommender} loads a checkpoint once and answers "top-K items
 * for this history" exactly, concurrently and without a GPU. The top-K scorers over the RecJPQ head
 * ({@link org.recjpq.serve.DenseScorer}, {@link org.recjpq.serve.PqTopKScorer}, {@link
 * org.recjpq.serve.PrunedScorer}) all rank by the same canonical score (see {@link
 * org.recjpq.serve.JpqHead}) and return identical results, ties going to the lower internal id.
 */
package org.recjpq.serve;
