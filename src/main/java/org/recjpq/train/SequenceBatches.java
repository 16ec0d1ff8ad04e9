package org.recjpq.train;

import java.util.Arrays;
import org.recjpq.data.LeaveOneOut.Phase;
import org.recjpq.data.SequenceDataset;
import org.recjpq.util.SplitMix64;

/**
 * Next-item training examples from the TRAINING part of each user's sequence (the items before the
 * validation target), SASRec style: the input is the sequence without its last item, the target at
 * each position the item that follows, both the most recent {@code len} positions, left-padded with
 * -1. One example per user with at least two training items; with {@code slidingWindows}, longer
 * users also give their earlier windows (stride {@code len}).
 *
 * <p>{@link #epochOrder} shuffles the examples with a seeded RNG per epoch, so the data order is
 * part of the state a checkpoint restores.
 */
public final class SequenceBatches {
  private final SequenceDataset ds;
  private final int len;
  private final int[] exampleUser; // (E)
  private final int[] exampleEnd; // (E) exclusive end of the input+1 window within the user's items

  public SequenceBatches(SequenceDataset ds, int len, boolean slidingWindows) {
    this.ds = ds;
    this.len = len;
    int count = 0;
    int[] users = new int[ds.numUsers()];
    int[] ends = new int[ds.numUsers()];
    for (int u = 0; u < ds.numUsers(); u++) {
      int train = Phase.VALIDATION.historyLength(ds, u);
      if (train < 2) {
        continue;
      }
      for (int end = train; end >= 2; end -= len) {
        if (count == users.length) {
          users = Arrays.copyOf(users, users.length * 2);
          ends = Arrays.copyOf(ends, ends.length * 2);
        }
        users[count] = u;
        ends[count] = end;
        count++;
        if (!slidingWindows) {
          break;
        }
      }
    }
    this.exampleUser = Arrays.copyOf(users, count);
    this.exampleEnd = Arrays.copyOf(ends, count);
  }

  /** Number of training examples. */
  public int size() {
    return exampleUser.length;
  }

  public int length() {
    return len;
  }

  /** A seeded permutation of the examples for {@code epoch}. */
  public int[] epochOrder(long seed, int epoch) {
    int[] order = new int[size()];
    for (int i = 0; i < order.length; i++) {
      order[i] = i;
    }
    SplitMix64.keyed(seed, 0xE90C4L, epoch).shuffle(order, 0, order.length);
    return order;
  }

  /**
   * Batches per chunk of the shuffled order sorted by length ({@link #epochOrder(long, int, int,
   * boolean)}).
   */
  public static final int BUCKET_BATCHES = 8;

  /**
   * The examples of {@code epoch} in batches of {@code batch}. Without {@code buckets}, {@link
   * #epochOrder(long, int)}. With it, that order is cut into chunks of {@link #BUCKET_BATCHES}
   * batches, each chunk sorted by example length (the slots an example fills; ties keep the
   * shuffled order), and the full batches are then shuffled (a short last batch stays last), so a
   * batch holds examples of similar length while every epoch still sees new batch mixes. Seeded.
   */
  public int[] epochOrder(long seed, int epoch, int batch, boolean buckets) {
    int[] order = epochOrder(seed, epoch);
    if (!buckets) {
      return order;
    }
    int n = order.length;
    int chunk = BUCKET_BATCHES * batch;
    long[] keys = new long[Math.min(n, chunk)];
    int[] copy = new int[Math.min(n, chunk)];
    for (int from = 0; from < n; from += chunk) {
      int to = Math.min(n, from + chunk);
      System.arraycopy(order, from, copy, 0, to - from);
      for (int i = 0; i < to - from; i++) { // length, then position in the shuffled order
        keys[i] = ((long) Math.min(len, exampleEnd[copy[i]]) << 32) | i;
      }
      Arrays.sort(keys, 0, to - from);
      for (int i = 0; i < to - from; i++) {
        order[from + i] = copy[(int) keys[i]];
      }
    }
    int full = n / batch;
    int[] batchOrder = new int[full];
    for (int i = 0; i < full; i++) {
      batchOrder[i] = i;
    }
    SplitMix64.keyed(seed, 0xB0C4E7L, epoch).shuffle(batchOrder, 0, full);
    int[] out = new int[n];
    for (int i = 0; i < full; i++) {
      System.arraycopy(order, batchOrder[i] * batch, out, i * batch, batch);
    }
    System.arraycopy(order, full * batch, out, full * batch, n - full * batch);
    return out;
  }

  /**
   * The slots of a filled batch ({@code ids}: batch × len, left-padded with -1) that its longest
   * row uses: at least 1.
   */
  public static int usedLength(int[] ids, int batch, int len) {
    int used = 1;
    for (int b = 0; b < batch; b++) {
      int t = 0;
      while (t < len - used && ids[b * len + t] < 0) {
        t++;
      }
      used = Math.max(used, len - t);
    }
    return used;
  }

  /**
   * Masked-item examples (BERT4Rec): each example's most recent {@code len} training items
   * (left-padded), every item masked with probability {@code p} (at least one per sequence: the
   * last when the draws masked none) — its input becomes {@code maskToken} and its target the item;
   * other positions have target -1. Draws come from the counter-based RNG keyed by (seed, step,
   * position), so a step's masks are reproducible and resuming is exact.
   */
  public void fillMasked(
      int[] order,
      int from,
      int batch,
      int[] ids,
      int[] targets,
      double p,
      long seed,
      long step,
      int maskToken) {
    fillMasked(order, from, batch, ids, targets, p, seed, step, maskToken, 0.0);
  }

  /**
   * As above; besides, each sequence's last item is masked with probability {@code pLast} whatever
   * its own draw gave (the inference task, where MASK follows the history), from a draw of the same
   * counter-based RNG at index {@code batch × len + b}.
   */
  public void fillMasked(
      int[] order,
      int from,
      int batch,
      int[] ids,
      int[] targets,
      double p,
      long seed,
      long step,
      int maskToken,
      double pLast) {
    Arrays.fill(ids, -1);
    Arrays.fill(targets, -1);
    int[] flat = ds.flatItems();
    long key = org.recjpq.backend.CounterRng.key(seed ^ 0x3A5C_0B1EL, step);
    for (int b = 0; b < batch && from + b < order.length; b++) {
      int e = order[from + b];
      int start = ds.offset(exampleUser[e]);
      int end = exampleEnd[e];
      int n = Math.min(len, end);
      boolean any = false;
      for (int t = 0; t < n; t++) {
        int row = b * len + len - n + t;
        int item = flat[start + end - n + t];
        if (org.recjpq.backend.CounterRng.uniformAt(key, row) < p) {
          ids[row] = maskToken;
          targets[row] = item;
          any = true;
        } else {
          ids[row] = item;
        }
      }
      boolean last =
          pLast > 0
              && n > 0
              && org.recjpq.backend.CounterRng.uniformAt(key, (long) batch * len + b) < pLast;
      if ((!any || last) && n > 0 && targets[b * len + len - 1] < 0) {
        int row = b * len + len - 1;
        targets[row] = ids[row];
        ids[row] = maskToken;
      }
    }
  }

  /**
   * Fills {@code ids} and {@code targets} (each batch × len) with examples {@code order[from ..
   * from + batch)}; rows past the end of {@code order} are all PAD (targets -1).
   */
  public void fill(int[] order, int from, int batch, int[] ids, int[] targets) {
    Arrays.fill(ids, -1);
    Arrays.fill(targets, -1);
    int[] flat = ds.flatItems();
    for (int b = 0; b < batch && from + b < order.length; b++) {
      int e = order[from + b];
      int start = ds.offset(exampleUser[e]);
      int end =
          exampleEnd[e]; // items[start .. start+end): inputs end-1 of them, targets shifted by one
      int n = Math.min(len, end - 1);
      for (int t = 0; t < n; t++) {
        int pos = len - n + t;
        ids[b * len + pos] = flat[start + end - 1 - n + t];
        targets[b * len + pos] = flat[start + end - n + t];
      }
    }
  }

  /**
   * Fills {@code ids} (rows × len) with the most recent {@code len} items of each history (for
   * inference), left-padded.
   */
  public static void fillHistories(
      int[] items, int[] starts, int[] lengths, int rows, int len, int[] ids) {
    fillHistories(items, starts, lengths, rows, len, ids, -1);
  }

  /**
   * As above; with {@code maskToken >= 0} (BERT4Rec) each window ends with that token after the
   * most recent {@code len - 1} items, the position whose representation is read.
   */
  public static void fillHistories(
      int[] items, int[] starts, int[] lengths, int rows, int len, int[] ids, int maskToken) {
    if (maskToken >= 0) {
      Arrays.fill(ids, 0, rows * len, -1);
      for (int r = 0; r < rows; r++) {
        int n = Math.min(len - 1, lengths[r]);
        int end = starts[r] + lengths[r];
        for (int t = 0; t < n; t++) {
          ids[r * len + len - 1 - n + t] = items[end - n + t];
        }
        ids[r * len + len - 1] = maskToken;
      }
      return;
    }
    Arrays.fill(ids, 0, rows * len, -1);
    for (int r = 0; r < rows; r++) {
      int n = Math.min(len, lengths[r]);
      int end = starts[r] + lengths[r];
      for (int t = 0; t < n; t++) {
        ids[r * len + len - n + t] = items[end - n + t];
      }
    }
  }
}
