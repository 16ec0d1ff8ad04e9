package org.recjpq.codes;

import java.util.LinkedHashMap;
import java.util.Map;
import org.recjpq.data.SequenceDataset;
import org.recjpq.util.Parallel;
import org.recjpq.util.PeakHeap;
import org.recjpq.util.Progress;
import org.recjpq.util.SplitMix64;

/**
 * Assigns RecJPQ codes to every item of a dataset with the strategy of the options: SVD (default),
 * BPR or random (METHOD §3), or product quantisation of a wider SVD (svd-pq), timing each phase
 * (matrix build, factorisation, bucketing or clustering).
 */
public final class CodeAssigners {
  /** RNG stream of random codes. */
  static final long STREAM_RANDOM = 0x4a4e4dL;

  private CodeAssigners() {}

  /** The codes and what making them cost. */
  public record Assignment(ItemCodes codes, CodeDiagnostics diagnostics) {}

  /** Assigns codes; progress bars are shown when the application enabled them. */
  public static Assignment assign(SequenceDataset ds, CodeOptions o) {
    PeakHeap.start();
    Map<String, Double> seconds = new LinkedHashMap<>();
    int n = ds.numItems();
    int m = o.splits();
    byte[] raw = new byte[Math.multiplyExact(n, m)];
    long interactions = 0;
    long nonZeros = 0;
    double[] singular = null;
    if (o.strategy() == CodeStrategy.RANDOM) {
      long t0 = System.nanoTime();
      Parallel.forRange(n, o.threads(), 65_536, (from, to) -> {
        for (int i = from; i < to; i++) {
          SplitMix64 rng = SplitMix64.keyed(o.seed(), STREAM_RANDOM, i);
          for (int k = 0; k < m; k++) {
            raw[i * m + k] = (byte) rng.nextInt(ItemCodes.SUB_IDS);
          }
        }
      });
      seconds.put("random", (System.nanoTime() - t0) / 1e9);
    } else {
      long t0 = System.nanoTime();
      TrainingMatrix a = TrainingMatrix.of(ds, o.threads());
      interactions = a.interactions();
      nonZeros = a.nonZeros();
      seconds.put("matrix", (System.nanoTime() - t0) / 1e9);
      long t1 = System.nanoTime();
      double[] factors;
      int cols;
      boolean pq = o.strategy() == CodeStrategy.SVD_PQ;
      if (o.strategy() == CodeStrategy.SVD || pq) {
        int rank = pq ? Math.min(CodeStrategy.PQ_DIMS_PER_SPLIT * m, Math.min(n, a.numUsers)) : m;
        RandomizedSvd.Result svd;
        try (Progress p = Progress.bar("svd", o.powerIterations() + 2L, "steps")) {
          svd = RandomizedSvd.compute(a, rank, o.oversampling(), o.powerIterations(), o.seed(), o.threads(), p);
        }
        factors = svd.vectors();
        cols = svd.rank();
        singular = svd.values();
        if (pq) {
          unitEmbeddings(factors, singular, n, cols);
        }
        seconds.put("svd", (System.nanoTime() - t1) / 1e9);
      } else {
        try (Progress p = Progress.bar("bpr", o.epochs(), "epochs")) {
          factors = BprFactorizer.itemFactors(a, m, o.epochs(), o.learningRate(), o.regularization(),
              o.seed(), o.threads(), p);
        }
        cols = m;
        seconds.put("bpr", (System.nanoTime() - t1) / 1e9);
      }
      long t2 = System.nanoTime();
      try (Progress p = Progress.bar(pq ? "k-means" : "bucketing", m, "splits")) {
        for (int k = 0; k < m; k++) {
          if (pq) {
            SubspaceKMeans.assign(factors, cols, n, k, m, o.seed(), o.threads(), raw);
          } else {
            Bucketing.bucket(factors, cols, k, n, k, m, o.seed(), raw);
          }
          p.step(1);
        }
      }
      seconds.put(pq ? "k-means" : "bucketing", (System.nanoTime() - t2) / 1e9);
    }
    ItemCodes codes = new ItemCodes(n, m, raw);
    CodeDiagnostics d = CodeDiagnostics.of(o.strategy().cliName(), codes, interactions, nonZeros,
        singular, seconds, PeakHeap.peakBytes());
    return new Assignment(codes, d);
  }

  /** Item embeddings V Σ^½ (as A ≈ (U Σ^½)(V Σ^½)ᵀ), in place, each row scaled to unit length. */
  private static void unitEmbeddings(double[] factors, double[] singular, int n, int cols) {
    for (int i = 0; i < n; i++) {
      double norm = 0;
      for (int j = 0; j < cols; j++) {
        factors[i * cols + j] *= Math.sqrt(Math.max(singular[j], 0));
        norm += factors[i * cols + j] * factors[i * cols + j];
      }
      if (norm > 0) {
        double inv = 1 / Math.sqrt(norm);
        for (int j = 0; j < cols; j++) {
          factors[i * cols + j] *= inv;
        }
      }
    }
  }
}
