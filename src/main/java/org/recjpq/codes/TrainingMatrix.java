package org.recjpq.codes;

import java.util.Arrays;
import org.recjpq.RecjpqException;
import org.recjpq.data.LeaveOneOut.Phase;
import org.recjpq.data.SequenceDataset;
import org.recjpq.util.Parallel;

/**
 * The sparse user × item matrix A of interaction counts over TRAINING interactions only: each
 * user's items before the validation target (so neither the validation nor the test target ever
 * shapes the codes). Kept twice, as CSR (rows = users) and CSC (columns = items), so that both
 * {@code A·X} and {@code Aᵀ·Y} are parallel over their output rows with no atomics, every output
 * row summed in a fixed order: the products give the same bits for any thread count.
 */
public final class TrainingMatrix {
  final int numUsers;
  final int numItems;
  final long interactions; // training interactions, repeats counted
  final int[] rowPtr; // (U + 1)
  final int[] cols; // (nnz) item of each entry, ascending within a row
  final float[] vals; // (nnz) counts
  final int[] colPtr; // (N + 1)
  final int[] rows; // (nnz) user of each entry, ascending within a column
  final float[] colVals; // (nnz)

  private TrainingMatrix(
      int numUsers, int numItems, long interactions, int[] rowPtr, int[] cols, float[] vals) {
    this.numUsers = numUsers;
    this.numItems = numItems;
    this.interactions = interactions;
    this.rowPtr = rowPtr;
    this.cols = cols;
    this.vals = vals;
    int nnz = cols.length;
    colPtr = new int[numItems + 1];
    for (int c : cols) {
      colPtr[c + 1]++;
    }
    for (int i = 0; i < numItems; i++) {
      colPtr[i + 1] += colPtr[i];
    }
    rows = new int[nnz];
    colVals = new float[nnz];
    int[] fill = Arrays.copyOf(colPtr, numItems);
    for (int u = 0; u < numUsers; u++) { // users ascending, so rows ascend within each column
      for (int p = rowPtr[u]; p < rowPtr[u + 1]; p++) {
        int at = fill[cols[p]]++;
        rows[at] = u;
        colVals[at] = vals[p];
      }
    }
  }

  /** The training matrix of {@code ds}; fails when there is no training interaction at all. */
  public static TrainingMatrix of(SequenceDataset ds, int threads) {
    int users = ds.numUsers();
    int[] flat = ds.flatItems();
    int[] distinct = new int[users + 1];
    long[] total = new long[1];
    // Pass 1: distinct training items per user.
    Parallel.forRange(
        users,
        threads,
        (from, to) -> {
          for (int u = from; u < to; u++) {
            int len = Math.max(0, Phase.VALIDATION.historyLength(ds, u));
            int[] s = Arrays.copyOfRange(flat, ds.offset(u), ds.offset(u) + len);
            Arrays.sort(s);
            int d = 0;
            for (int k = 0; k < s.length; k++) {
              if (k == 0 || s[k] != s[k - 1]) {
                d++;
              }
            }
            distinct[u + 1] = d;
          }
        });
    for (int u = 0; u < users; u++) {
      total[0] += Math.max(0, Phase.VALIDATION.historyLength(ds, u));
      distinct[u + 1] += distinct[u];
    }
    if (total[0] == 0) {
      throw new RecjpqException(
          "The training set is empty: no user has an interaction before its validation target ("
              + ds
              + "). Codes are learned from training interactions only; the strategy 'random' needs none.");
    }
    int[] cols = new int[distinct[users]];
    float[] vals = new float[distinct[users]];
    // Pass 2: fill each row with its sorted distinct items and their counts.
    Parallel.forRange(
        users,
        threads,
        (from, to) -> {
          for (int u = from; u < to; u++) {
            int len = Math.max(0, Phase.VALIDATION.historyLength(ds, u));
            int[] s = Arrays.copyOfRange(flat, ds.offset(u), ds.offset(u) + len);
            Arrays.sort(s);
            int at = distinct[u] - 1;
            for (int k = 0; k < s.length; k++) {
              if (k == 0 || s[k] != s[k - 1]) {
                cols[++at] = s[k];
              }
              vals[at]++;
            }
          }
        });
    return new TrainingMatrix(users, ds.numItems(), total[0], distinct, cols, vals);
  }

  /** A matrix from explicit CSR arrays (tests), its interactions the sum of its counts. */
  static TrainingMatrix ofCsr(int numUsers, int numItems, int[] rowPtr, int[] cols, float[] vals) {
    long total = 0;
    for (float v : vals) {
      total += (long) v;
    }
    return new TrainingMatrix(numUsers, numItems, total, rowPtr, cols, vals);
  }

  /**
   * Any sparse matrix from CSR arrays (columns ascending within a row), for the SVD: rows need not
   * be users ({@link Cooccurrence} has items on both sides); {@code interactions} is what the
   * diagnostics report.
   */
  static TrainingMatrix ofCsr(
      int rows, int columns, long interactions, int[] rowPtr, int[] cols, float[] vals) {
    return new TrainingMatrix(rows, columns, interactions, rowPtr, cols, vals);
  }

  /**
   * The degree-normalised matrix {@code D_u^-½ A D_i^-½}: each entry divided by the square roots of
   * its row's and its column's sums (rows or columns summing to zero have no entries to scale).
   */
  TrainingMatrix degreeNormalised() {
    double[] rowSum = new double[numUsers];
    double[] colSum = new double[numItems];
    for (int u = 0; u < numUsers; u++) {
      for (int p = rowPtr[u]; p < rowPtr[u + 1]; p++) {
        rowSum[u] += vals[p];
        colSum[cols[p]] += vals[p];
      }
    }
    float[] scaled = new float[vals.length];
    for (int u = 0; u < numUsers; u++) {
      for (int p = rowPtr[u]; p < rowPtr[u + 1]; p++) {
        scaled[p] = (float) (vals[p] / Math.sqrt(rowSum[u] * colSum[cols[p]]));
      }
    }
    return new TrainingMatrix(numUsers, numItems, interactions, rowPtr, cols, scaled);
  }

  public int numUsers() {
    return numUsers;
  }

  public int numItems() {
    return numItems;
  }

  /** Stored (distinct user, item) entries. */
  public long nonZeros() {
    return cols.length;
  }

  /** Training interactions, repeats counted. */
  public long interactions() {
    return interactions;
  }

  /** {@code out (U × l) = A · x (N × l)}, both row-major. */
  void multiply(double[] x, double[] out, int l, int threads) {
    Parallel.forRange(
        numUsers,
        threads,
        1024,
        (from, to) -> {
          for (int u = from; u < to; u++) {
            int o = u * l;
            Arrays.fill(out, o, o + l, 0.0);
            for (int p = rowPtr[u]; p < rowPtr[u + 1]; p++) {
              double v = vals[p];
              int xi = cols[p] * l;
              for (int j = 0; j < l; j++) {
                out[o + j] += v * x[xi + j];
              }
            }
          }
        });
  }

  /** {@code out (N × l) = Aᵀ · y (U × l)}, both row-major. */
  void multiplyTransposed(double[] y, double[] out, int l, int threads) {
    Parallel.forRange(
        numItems,
        threads,
        4096,
        (from, to) -> {
          for (int i = from; i < to; i++) {
            int o = i * l;
            Arrays.fill(out, o, o + l, 0.0);
            for (int p = colPtr[i]; p < colPtr[i + 1]; p++) {
              double v = colVals[p];
              int yu = rows[p] * l;
              for (int j = 0; j < l; j++) {
                out[o + j] += v * y[yu + j];
              }
            }
          }
        });
  }
}
