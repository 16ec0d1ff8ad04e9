package org.recjpq.codes;

import org.recjpq.UsageException;

/**
 * Options of code assignment. Only those of the chosen strategy matter.
 *
 * @param strategy svd (default), bpr or random
 * @param splits m, code bytes per item (1..256; default 8)
 * @param dim the embedding size d the codes are for, checked to be divisible by m (0 = unknown)
 * @param seed seed of every random choice (Gaussian test matrix, tie-breaking permutations, BPR
 *     sampling, random codes)
 * @param oversampling SVD: extra columns p of the randomized range finder (default 10)
 * @param powerIterations SVD: power iterations q (default 5)
 * @param epochs BPR: passes over the training interactions (default 20)
 * @param learningRate BPR: SGD step (default 0.05)
 * @param regularization BPR: L2 weight (default 0.001)
 * @param threads worker threads (default: all processors; BPR is deterministic only with 1)
 */
public record CodeOptions(
    CodeStrategy strategy,
    int splits,
    int dim,
    long seed,
    int oversampling,
    int powerIterations,
    int epochs,
    double learningRate,
    double regularization,
    int threads) {

  public CodeOptions {
    if (strategy == null) {
      strategy = CodeStrategy.SVD;
    }
    ItemCodes.checkDivides(splits, dim);
    if (dim < 0) {
      throw new UsageException(
          "The embedding size must be positive (or 0 when unknown), found " + dim + ".");
    }
    if (oversampling < 0) {
      throw new UsageException(
          "The SVD oversampling must be 0 or more, found " + oversampling + ".");
    }
    if (powerIterations < 0) {
      throw new UsageException(
          "The number of power iterations must be 0 or more, found " + powerIterations + ".");
    }
    if (epochs < 1) {
      throw new UsageException("BPR needs at least 1 epoch, found " + epochs + ".");
    }
    if (!(learningRate > 0) || Double.isInfinite(learningRate)) {
      throw new UsageException(
          "The BPR learning rate must be a positive number, found " + learningRate + ".");
    }
    if (!(regularization >= 0) || Double.isInfinite(regularization)) {
      throw new UsageException(
          "The BPR regularization must be 0 or more, found " + regularization + ".");
    }
    if (threads < 1) {
      throw new UsageException("The number of threads must be at least 1, found " + threads + ".");
    }
  }

  /** Defaults for {@code strategy} with {@code splits} splits and {@code seed}. */
  public static CodeOptions defaults(CodeStrategy strategy, int splits, long seed) {
    return new CodeOptions(
        strategy,
        splits,
        0,
        seed,
        10,
        5,
        20,
        0.05,
        0.001,
        Runtime.getRuntime().availableProcessors());
  }

  public CodeOptions withThreads(int n) {
    return new CodeOptions(
        strategy,
        splits,
        dim,
        seed,
        oversampling,
        powerIterations,
        epochs,
        learningRate,
        regularization,
        n);
  }

  public CodeOptions withSeed(long newSeed) {
    return new CodeOptions(
        strategy,
        splits,
        dim,
        newSeed,
        oversampling,
        powerIterations,
        epochs,
        learningRate,
        regularization,
        threads);
  }
}
