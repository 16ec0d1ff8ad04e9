package org.recjpq.codes;

import java.util.LinkedHashMap;
import java.util.Map;
import org.recjpq.RecjpqException;
import org.recjpq.UsageException;
import org.recjpq.data.SequenceDataset;
import org.recjpq.util.Parallel;
import org.recjpq.util.PeakHeap;
import org.recjpq.util.Progress;
import org.recjpq.util.SplitMix64;

/**
 * Assigns RecJPQ codes to every item of a dataset with the strategy of the options: SVD (default),
 * BPR or random (docs/method.md §3), or product quantisation of a wider SVD of the user × item
 * matrix (svd-pq) or of the item co-occurrence matrix of the training sequences (cooc-pq), timing
 * each phase (matrix build, factorisation, bucketing or clustering).
 */
public final class CodeAssigners {
  /** RNG stream of random codes. */
  static final long STREAM_RANDOM = 0x4a4e4dL;

  private CodeAssigners() {}

  /** The codes and what making them cost. */
  public record Assignment(ItemCodes codes, CodeDiagnostics diagnostics) {}

  /** Assigns codes; progress bars are shown when the application enabled them. */
  public static Assignment assign(SequenceDataset ds, CodeOptions o) {
    if (o.strategy() == CodeStrategy.MODEL_PQ) {
      throw new UsageException(
          "model-pq codes come from a trained model's item embeddings: train a dense model"
              + " first, then ./recjpq assign-codes --strategy model-pq --checkpoint DENSE.ckpt --output F, and train"
              + " with --codes F.");
    }
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
      Parallel.forRange(
          n,
          o.threads(),
          65_536,
          (from, to) -> {
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
      boolean cooc = o.strategy() == CodeStrategy.COOC_PQ;
      boolean normalised = o.strategy() == CodeStrategy.NSVD_PQ;
      boolean pq = o.strategy() == CodeStrategy.SVD_PQ || cooc || normalised;
      TrainingMatrix a =
          cooc
              ? Cooccurrence.of(ds, Cooccurrence.WINDOW, o.threads())
              : TrainingMatrix.of(ds, o.threads());
      if (normalised) {
        a = a.degreeNormalised();
      }
      interactions = a.interactions();
      nonZeros = a.nonZeros();
      seconds.put(cooc ? "co-occurrence" : "matrix", (System.nanoTime() - t0) / 1e9);
      long t1 = System.nanoTime();
      double[] factors;
      int cols;
      if (o.strategy() == CodeStrategy.SVD || pq) {
        int perSplit = cooc ? CodeStrategy.COOC_DIMS_PER_SPLIT : CodeStrategy.PQ_DIMS_PER_SPLIT;
        int rank = pq ? Math.min(perSplit * m, Math.min(n, a.numUsers)) : m;
        RandomizedSvd.Result svd;
        try (Progress p = Progress.bar("svd", o.powerIterations() + 2L, "steps")) {
          svd =
              RandomizedSvd.compute(
                  a, rank, o.oversampling(), o.powerIterations(), o.seed(), o.threads(), p);
        }
        factors = svd.vectors();
        cols = svd.rank();
        singular = svd.values();
        if (cooc) {
          scaledUnitRows(factors, singular, n, cols);
        } else if (normalised) {
          scaleColumns(factors, singular, n, cols);
        } else if (pq) {
          unitEmbeddings(factors, singular, n, cols);
        }
        seconds.put("svd", (System.nanoTime() - t1) / 1e9);
      } else {
        try (Progress p = Progress.bar("bpr", o.epochs(), "epochs")) {
          factors =
              BprFactorizer.itemFactors(
                  a, m, o.epochs(), o.learningRate(), o.regularization(), o.seed(), o.threads(), p);
        }
        cols = m;
        seconds.put("bpr", (System.nanoTime() - t1) / 1e9);
      }
      if (pq) { // cooc-pq: popular items have alike neighbourhoods and would otherwise often share
        // whole codes
        quantise(factors, cols, n, o, cooc || normalised, raw, seconds);
      } else {
        long t2 = System.nanoTime();
        try (Progress p = Progress.bar("bucketing", m, "splits")) {
          for (int k = 0; k < m; k++) {
            Bucketing.bucket(factors, cols, k, n, k, m, o.seed(), raw);
            p.step(1);
          }
        }
        seconds.put("bucketing", (System.nanoTime() - t2) / 1e9);
      }
    }
    ItemCodes codes = new ItemCodes(n, m, raw);
    CodeDiagnostics d =
        CodeDiagnostics.of(
            o.strategy().cliName(),
            codes,
            interactions,
            nonZeros,
            singular,
            seconds,
            PeakHeap.peakBytes());
    return new Assignment(codes, d);
  }

  /**
   * {@code model-pq} codes: k-means product quantisation of a trained item table ({@code dim}
   * columns, row-major, one row per item of {@code ds}), split {@code k} over the contiguous
   * columns {@code [k·s, k·s+s)} when {@code dim = m·s} (a RecJPQ model's sub-vector; round-robin
   * as for svd-pq otherwise), then made unique ({@link SubspaceKMeans#deduplicate}).
   */
  public static Assignment fromItemTable(
      SequenceDataset ds, float[] table, int dim, CodeOptions o) {
    if (o.strategy() != CodeStrategy.MODEL_PQ) {
      throw new IllegalArgumentException(
          "item-table codes are model-pq codes, not " + o.strategy().cliName());
    }
    int n = ds.numItems();
    int m = o.splits();
    if (table.length != (long) n * dim) {
      throw new IllegalArgumentException(
          "item table of " + table.length + " values, expected " + n + " x " + dim);
    }
    if (dim < m) {
      throw new RecjpqException(
          "The item embeddings have "
              + dim
              + " dimensions, fewer than the "
              + m
              + " splits asked for.");
    }
    PeakHeap.start();
    Map<String, Double> seconds = new LinkedHashMap<>();
    // split k quantises columns k, k+m, k+2m, ... of its input; reorder the table's columns so
    // that it quantises the model's own sub-vector [k·s, k·s+s) where d = m·s (a RecJPQ model's
    // split k), so that codes and table can seed a RecJPQ twin (model.DenseTwin)
    double[] factors = new double[table.length];
    int sub = dim % m == 0 ? dim / m : 0;
    for (int i = 0; i < n; i++) {
      for (int j = 0; j < dim; j++) {
        int to = sub > 0 ? (j / sub) + (j % sub) * m : j;
        factors[i * dim + to] = table[i * dim + j];
      }
    }
    byte[] raw = new byte[Math.multiplyExact(n, m)];
    quantise(factors, dim, n, o, true, raw, seconds);
    ItemCodes codes = new ItemCodes(n, m, raw);
    return new Assignment(
        codes,
        CodeDiagnostics.of(
            o.strategy().cliName(), codes, 0, 0, null, seconds, PeakHeap.peakBytes()));
  }

  /**
   * k-means per split of the item vectors ({@link SubspaceKMeans}), optionally followed by making
   * whole codes unique; records each phase's seconds.
   */
  private static void quantise(
      double[] factors,
      int cols,
      int n,
      CodeOptions o,
      boolean unique,
      byte[] raw,
      Map<String, Double> seconds) {
    int m = o.splits();
    float[][] centroids = new float[m][];
    long t0 = System.nanoTime();
    try (Progress p = Progress.bar("k-means", m, "splits")) {
      for (int k = 0; k < m; k++) {
        centroids[k] = SubspaceKMeans.assign(factors, cols, n, k, m, o.seed(), o.threads(), raw);
        p.step(1);
      }
    }
    seconds.put("k-means", (System.nanoTime() - t0) / 1e9);
    if (unique) {
      long t1 = System.nanoTime();
      SubspaceKMeans.deduplicate(factors, cols, n, m, centroids, raw);
      seconds.put("deduplication", (System.nanoTime() - t1) / 1e9);
    }
  }

  /**
   * Item vectors V Σ of the co-occurrence SVD, in place, each row divided by its length (rows of
   * items without neighbours stay zero).
   */
  private static void scaledUnitRows(double[] factors, double[] singular, int n, int cols) {
    for (int i = 0; i < n; i++) {
      double norm = 0;
      for (int j = 0; j < cols; j++) {
        factors[i * cols + j] *= Math.max(singular[j], 0);
        norm += factors[i * cols + j] * factors[i * cols + j];
      }
      if (norm > 0) {
        double length = Math.sqrt(norm);
        for (int j = 0; j < cols; j++) {
          factors[i * cols + j] /= length;
        }
      }
    }
  }

  /** Item embeddings V Σ^½ (as A ≈ (U Σ^½)(V Σ^½)ᵀ), in place, rows left at their lengths. */
  private static void scaleColumns(double[] factors, double[] singular, int n, int cols) {
    for (int i = 0; i < n; i++) {
      for (int j = 0; j < cols; j++) {
        factors[i * cols + j] *= Math.sqrt(Math.max(singular[j], 0));
      }
    }
  }

  /** Item embeddings V Σ^½ (as A ≈ (U Σ^½)(V Σ^½)ᵀ), in place, each row scaled to unit length. */
  private static void unitEmbeddings(double[] factors, double[] singular, int n, int cols) {
    scaleColumns(factors, singular, n, cols);
    for (int i = 0; i < n; i++) {
      double norm = 0;
      for (int j = 0; j < cols; j++) {
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
