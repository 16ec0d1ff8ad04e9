package org.recjpq.codes;

import java.util.Arrays;
import org.recjpq.RecjpqException;
import org.recjpq.data.LeaveOneOut.Phase;
import org.recjpq.data.SequenceDataset;
import org.recjpq.util.Parallel;

/**
 * The symmetric item × item co-occurrence matrix C of the TRAINING sequences (each user's items
 * before the validation target, as {@link TrainingMatrix}): every pair of positions {@code t < t'}
 * with {@code t' - t ≤ window} in one sequence, items a at t and b at t', adds {@code 1 / (t' - t)}
 * to C[a][b] and to C[b][a]. Its rows are items described by their sequential neighbours, which is
 * what a sequential model's item embeddings learn, where the user × item matrix only says who
 * consumed what.
 *
 * <p>Built in three passes with no hash maps: entries per row, the entries themselves in sequence
 * order (users ascending, then positions, then distances), then each row sorted by column with its
 * repeated columns summed in float in that same order. So the matrix has the same bits for any
 * thread count. Working memory is about 9 bytes per emitted entry (2 · window per training
 * interaction) besides the result.
 */
final class Cooccurrence {
  /** Default window: pairs up to this many steps apart. */
  static final int WINDOW = 5;

  private Cooccurrence() {}

  /**
   * The co-occurrence matrix of {@code ds} (rows and columns are items); fails with no training
   * interaction.
   */
  static TrainingMatrix of(SequenceDataset ds, int window, int threads) {
    if (window < 1) {
      throw new IllegalArgumentException("window must be at least 1, found " + window);
    }
    int n = ds.numItems();
    int users = ds.numUsers();
    int[] flat = ds.flatItems();
    long interactions = 0;
    long[] rowCount = new long[n + 1];
    for (int u = 0; u < users; u++) {
      int len = Math.max(0, Phase.VALIDATION.historyLength(ds, u));
      interactions += len;
      int off = ds.offset(u);
      for (int t = 0; t < len; t++) {
        for (int dl = 1; dl <= window && t + dl < len; dl++) {
          rowCount[flat[off + t] + 1]++;
          rowCount[flat[off + t + dl] + 1]++;
        }
      }
    }
    if (interactions == 0) {
      throw new RecjpqException(
          "The training set is empty: no user has an interaction before its validation target ("
              + ds
              + "). Codes are learned from training interactions only; the strategy 'random' needs none.");
    }
    for (int i = 0; i < n; i++) {
      rowCount[i + 1] += rowCount[i];
    }
    long total = rowCount[n];
    if (total > Integer.MAX_VALUE - 8) {
      throw new RecjpqException(
          "The co-occurrence matrix of "
              + ds
              + " would hold "
              + total
              + " entries before merging, more than one Java array; use --strategy svd-pq or svd.");
    }
    int[] start = new int[n + 1];
    for (int i = 0; i <= n; i++) {
      start[i] = (int) rowCount[i];
    }
    // Pass 2: (column << 32 | position in the row) and the distance, in sequence order.
    long[] key = new long[(int) total];
    byte[] dist = new byte[(int) total];
    int[] fill = Arrays.copyOf(start, n);
    for (int u = 0; u < users; u++) {
      int len = Math.max(0, Phase.VALIDATION.historyLength(ds, u));
      int off = ds.offset(u);
      for (int t = 0; t < len; t++) {
        for (int dl = 1; dl <= window && t + dl < len; dl++) {
          int a = flat[off + t];
          int b = flat[off + t + dl];
          int p = fill[a]++;
          key[p] = ((long) b << 32) | (p - start[a]);
          dist[p] = (byte) Math.min(dl, 255);
          p = fill[b]++;
          key[p] = ((long) a << 32) | (p - start[b]);
          dist[p] = (byte) Math.min(dl, 255);
        }
      }
    }
    // Pass 3: sort each row by column (then position: the order of the sums), merge in place.
    int[] distinct = new int[n + 1];
    Parallel.forRange(
        n,
        threads,
        256,
        (from, to) -> {
          for (int i = from; i < to; i++) {
            int s = start[i];
            int e = start[i + 1];
            Arrays.sort(key, s, e);
            int w = s - 1;
            int lastCol = -1;
            float acc = 0f;
            for (int p = s; p < e; p++) {
              int col = (int) (key[p] >>> 32);
              float v = 1f / (dist[s + (int) key[p]] & 0xff);
              if (col != lastCol) {
                if (w >= s) {
                  key[w] = ((long) lastCol << 32) | (Float.floatToRawIntBits(acc) & 0xffffffffL);
                }
                w++;
                lastCol = col;
                acc = v;
              } else {
                acc += v;
              }
            }
            if (w >= s) {
              key[w] = ((long) lastCol << 32) | (Float.floatToRawIntBits(acc) & 0xffffffffL);
            }
            distinct[i + 1] = w - s + 1;
          }
        });
    for (int i = 0; i < n; i++) {
      distinct[i + 1] += distinct[i];
    }
    int[] cols = new int[distinct[n]];
    float[] vals = new float[distinct[n]];
    Parallel.forRange(
        n,
        threads,
        256,
        (from, to) -> {
          for (int i = from; i < to; i++) {
            for (int q = 0; q < distinct[i + 1] - distinct[i]; q++) {
              long k = key[start[i] + q];
              cols[distinct[i] + q] = (int) (k >>> 32);
              vals[distinct[i] + q] = Float.intBitsToFloat((int) k);
            }
          }
        });
    return TrainingMatrix.ofCsr(n, n, interactions, distinct, cols, vals);
  }
}
