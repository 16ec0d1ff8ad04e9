package org.recjpq.codes;

import java.util.Arrays;
import java.util.Locale;
import java.util.stream.Collectors;
import org.recjpq.UsageException;

/** How codes are assigned (docs/method.md §3). */
public enum CodeStrategy {
  /** Buckets of the top-m right singular vectors of the user × item matrix (the default). */
  SVD,
  /** Buckets of the m item factors of a BPR matrix factorisation. */
  BPR,
  /** Uniform random sub-ids. */
  RANDOM,
  /**
   * Product quantisation of a rank-8m SVD: the item factors (right singular vectors scaled by the
   * square roots of the singular values) are dealt round-robin to the m splits and each split's
   * sub-vectors are clustered into 256 groups by k-means ({@link SubspaceKMeans}).
   */
  SVD_PQ,
  /**
   * Product quantisation, as {@link #SVD_PQ}, of a rank-16m SVD of the item × item co-occurrence
   * matrix of the training sequences ({@link Cooccurrence}: pairs up to 5 steps apart, weighted by
   * 1 / distance), the item vectors being the singular vectors scaled by the singular values: items
   * that share sub-ids appear among the same sequential neighbours.
   */
  COOC_PQ,
  /**
   * Product quantisation, as {@link #SVD_PQ}, of a rank-8m SVD of the degree-normalised user × item
   * matrix {@code D_u^-½ A D_i^-½} (each count divided by the square roots of its user's and its
   * item's totals, as in spectral co-clustering), the item vectors being the right singular vectors
   * scaled by the square roots of the singular values, codes made unique as for {@link #COOC_PQ}:
   * without the normalisation the leading factors mostly measure popularity.
   */
  NSVD_PQ,
  /**
   * Product quantisation, as {@link #SVD_PQ}, of a trained model's dense item embeddings (its item
   * table, read from a checkpoint; {@code assign-codes --checkpoint}), codes made unique as for
   * {@link #COOC_PQ}: a short dense training run shows which items the model wants alike.
   */
  MODEL_PQ;

  /** Factor columns per split that {@link #SVD_PQ} clusters. */
  public static final int PQ_DIMS_PER_SPLIT = 8;

  /** Factor columns per split that {@link #COOC_PQ} clusters. */
  public static final int COOC_DIMS_PER_SPLIT = 16;

  /** The command-line name: svd, bpr, random, svd-pq, cooc-pq, nsvd-pq, model-pq. */
  public String cliName() {
    return name().toLowerCase(Locale.ROOT).replace('_', '-');
  }

  public static CodeStrategy fromCliName(String name) {
    for (CodeStrategy s : values()) {
      if (s.cliName().equalsIgnoreCase(name)) {
        return s;
      }
    }
    throw new UsageException(
        "Unknown code strategy '"
            + org.recjpq.util.Excerpt.of(name)
            + "'. Known strategies: "
            + Arrays.stream(values()).map(CodeStrategy::cliName).collect(Collectors.joining(", "))
            + ".");
  }
}
