package org.recjpq.data;

import java.nio.file.Path;
import java.util.Arrays;
import org.recjpq.RecjpqException;

/**
 * Turns an {@link InteractionLog} into a {@link SequenceDataset}: filters users (and items), gives
 * the survivors contiguous ids in external-id order, and orders each user's interactions by time
 * with a stable sort (file order breaks ties; untimed formats keep file order).
 */
public final class DatasetBuilder {
  private DatasetBuilder() {}

  /** Filters, orders and indexes {@code log}. */
  public static SequenceDataset build(InteractionLog log, FilterOptions filter) {
    int n = log.size;
    boolean[] alive = new boolean[n];
    Arrays.fill(alive, true);
    int[] userCount = new int[log.users.size()];
    int[] itemCount = new int[log.items.size()];
    // Filter until both minimums hold; one pass is enough without an item minimum.
    while (true) {
      Arrays.fill(userCount, 0);
      Arrays.fill(itemCount, 0);
      for (int k = 0; k < n; k++) {
        if (alive[k]) {
          userCount[log.user[k]]++;
          itemCount[log.item[k]]++;
        }
      }
      boolean changed = false;
      for (int k = 0; k < n; k++) {
        if (alive[k]
            && (userCount[log.user[k]] < filter.minUserInteractions()
                || itemCount[log.item[k]] < filter.minItemInteractions())) {
          alive[k] = false;
          changed = true;
        }
      }
      if (!changed) {
        break;
      }
    }
    boolean[] keepUser = new boolean[userCount.length];
    boolean[] keepItem = new boolean[itemCount.length];
    int kept = 0;
    for (int k = 0; k < n; k++) {
      if (alive[k]) {
        keepUser[log.user[k]] = true;
        keepItem[log.item[k]] = true;
        kept++;
      }
    }
    DatasetInfo info =
        new DatasetInfo(
            String.valueOf(log.source()),
            log.format().cliName(),
            filter,
            log.users.size(),
            log.items.size(),
            n);
    if (kept == 0) {
      throw new RecjpqException(
          "No interaction is left after filtering "
              + log.source()
              + " ("
              + log.users.size()
              + " users, "
              + n
              + " interactions read; users need at least "
              + filter.minUserInteractions()
              + " interactions"
              + (filter.minItemInteractions() > 0
                  ? ", items at least " + filter.minItemInteractions()
                  : "")
              + "). Lower the minimums (--min-user-interactions, --min-item-interactions).");
    }
    IdTable.Sorted users = log.users.toVocabulary(keepUser);
    IdTable.Sorted items = log.items.toVocabulary(keepItem);
    int numUsers = users.vocabulary().size();
    int[] offsets = new int[numUsers + 1];
    for (int k = 0; k < n; k++) {
      if (alive[k]) {
        offsets[users.remap()[log.user[k]] + 1]++;
      }
    }
    for (int u = 0; u < numUsers; u++) {
      offsets[u + 1] += offsets[u];
    }
    int[] fill = Arrays.copyOf(offsets, numUsers);
    int[] order =
        new int[kept]; // interaction indices, by user, in file order (counting sort is stable)
    for (int k = 0; k < n; k++) {
      if (alive[k]) {
        order[fill[users.remap()[log.user[k]]]++] = k;
      }
    }
    if (log.time != null) {
      int[] scratch = new int[kept];
      for (int u = 0; u < numUsers; u++) {
        StableSort.byKey(order, offsets[u], offsets[u + 1], log.time, scratch);
      }
    }
    int[] flat = new int[kept];
    for (int p = 0; p < kept; p++) {
      flat[p] = items.remap()[log.item[order[p]]];
    }
    SequenceDataset ds =
        new SequenceDataset(users.vocabulary(), items.vocabulary(), offsets, flat, info);
    requireEvaluableUser(ds, log);
    return ds;
  }

  private static void requireEvaluableUser(SequenceDataset ds, InteractionLog log) {
    for (int u = 0; u < ds.numUsers(); u++) {
      if (ds.length(u) >= 2) {
        return;
      }
    }
    throw new RecjpqException(
        "No user of "
            + log.source()
            + " has 2 or more interactions after filtering, so nothing can"
            + " be held out for evaluation ("
            + ds
            + ").");
  }

  /**
   * A dataset from in-memory sequences of item ids (external ids = the given ints), for tests,
   * examples and generators. No filtering; item vocabulary = every id that occurs.
   */
  public static SequenceDataset fromSequences(int[][] sequences) {
    InteractionLog.Builder b =
        new InteractionLog.Builder(Path.of("(in memory)"), Format.USER_LINES, true, true, false);
    for (int u = 0; u < sequences.length; u++) {
      int uc = b.userCode(u + 1);
      for (int item : sequences[u]) {
        b.add(uc, b.itemCode(item), 0);
      }
    }
    return build(b.build(), FilterOptions.NONE);
  }

  /** A stable merge sort of index ranges by a long key. */
  static final class StableSort {
    private StableSort() {}

    /** Sorts {@code idx[from, to)} by {@code key[idx[i]]}, stably; {@code scratch} ≥ to. */
    static void byKey(int[] idx, int from, int to, long[] key, int[] scratch) {
      boolean sorted = true;
      for (int i = from + 1; i < to && sorted; i++) {
        sorted = key[idx[i - 1]] <= key[idx[i]];
      }
      if (!sorted) {
        mergeSort(idx, from, to, key, scratch);
      }
    }

    private static void mergeSort(int[] a, int from, int to, long[] key, int[] tmp) {
      if (to - from <= 24) {
        for (int i = from + 1; i < to; i++) { // insertion sort: stable
          int v = a[i];
          long kv = key[v];
          int j = i - 1;
          while (j >= from && key[a[j]] > kv) {
            a[j + 1] = a[j];
            j--;
          }
          a[j + 1] = v;
        }
        return;
      }
      int mid = (from + to) >>> 1;
      mergeSort(a, from, mid, key, tmp);
      mergeSort(a, mid, to, key, tmp);
      if (key[a[mid - 1]] <= key[a[mid]]) {
        return;
      }
      System.arraycopy(a, from, tmp, from, to - from);
      int i = from;
      int j = mid;
      for (int k = from; k < to; k++) {
        if (j >= to || (i < mid && key[tmp[i]] <= key[tmp[j]])) {
          a[k] = tmp[i++];
        } else {
          a[k] = tmp[j++];
        }
      }
    }
  }
}
