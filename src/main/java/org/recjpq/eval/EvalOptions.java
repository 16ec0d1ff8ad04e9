package org.recjpq.eval;

import java.util.Arrays;
import org.recjpq.UsageException;

/**
 * How to evaluate.
 *
 * @param ks cut-offs for NDCG@K and Recall@K (default {10})
 * @param filterSeen exclude the items of a user's history (other than the target itself) from the
 *     ranking (default on; off for repeat-consumption data such as Booking and Gowalla)
 * @param batchSize users scored together (default 128)
 * @param tileSize items per tile (0 = the scorer's preference)
 * @param threads worker threads (default: available processors)
 */
public record EvalOptions(int[] ks, boolean filterSeen, int batchSize, int tileSize, int threads) {

  public EvalOptions {
    if (ks == null || ks.length == 0) {
      ks = new int[] {10};
    }
    ks = Arrays.stream(ks).distinct().sorted().toArray();
    if (ks[0] < 1) {
      throw new UsageException("Every K must be at least 1, found " + ks[0] + ".");
    }
    if (batchSize < 1) {
      throw new UsageException("The batch size must be at least 1, found " + batchSize + ".");
    }
    if (tileSize < 0) {
      throw new UsageException(
          "The tile size must be positive (or 0 for the default), found " + tileSize + ".");
    }
    if (threads < 1) {
      throw new UsageException("The number of threads must be at least 1, found " + threads + ".");
    }
  }

  /** K = 10, filter seen, 128 users a batch, the scorer's tile size, all processors. */
  public static EvalOptions defaults() {
    return new EvalOptions(
        new int[] {10}, true, 128, 0, Runtime.getRuntime().availableProcessors());
  }

  public EvalOptions withKs(int... newKs) {
    return new EvalOptions(newKs, filterSeen, batchSize, tileSize, threads);
  }

  public EvalOptions withFilterSeen(boolean on) {
    return new EvalOptions(ks, on, batchSize, tileSize, threads);
  }

  public EvalOptions withBatchSize(int n) {
    return new EvalOptions(ks, filterSeen, n, tileSize, threads);
  }

  public EvalOptions withTileSize(int n) {
    return new EvalOptions(ks, filterSeen, batchSize, n, threads);
  }

  public EvalOptions withThreads(int n) {
    return new EvalOptions(ks, filterSeen, batchSize, tileSize, n);
  }
}
