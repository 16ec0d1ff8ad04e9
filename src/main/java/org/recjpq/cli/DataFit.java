package org.recjpq.cli;

import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * Settings fitted to the data set when the preset chose them (each choice reported with its reason,
 * and overridden by giving the setting).
 */
final class DataFit {
  private DataFit() {}

  /**
   * Fits to the data the settings that were left to the preset: the sequence length, to the longest
   * training sequences (99th percentile, rounded up to a multiple of 10, at least 10, never above
   * the preset's), so that short, sparse sequences are not trained mostly on padding. Each choice
   * is added to {@code notes} with its reason.
   */
  static void fitToData(
      Settings s,
      String preset,
      org.recjpq.data.SequenceDataset ds,
      Set<String> explicit,
      List<String> notes) {
    fitCodes(s, preset, ds.numItems(), explicit, notes);
    if (explicit.contains("maxLen") || ds.numUsers() == 0) {
      return;
    }
    int[] lengths = new int[ds.numUsers()];
    for (int u = 0; u < lengths.length; u++) {
      lengths[u] = Math.max(0, ds.length(u) - 2); // the history before the validation target
    }
    java.util.Arrays.sort(lengths);
    int p99 = lengths[Math.min(lengths.length - 1, (int) Math.ceil(0.99 * lengths.length) - 1)];
    int fitted = Math.max(10, (p99 + 9) / 10 * 10);
    if (fitted < s.maxLen) {
      notes.add(
          String.format(
              Locale.ROOT,
              "--max-len %d, not %d: 99%% of the training sequences have at most %d"
                  + " items (median %d); give --max-len to choose",
              fitted,
              s.maxLen,
              p99,
              lengths[lengths.length / 2]));
      s.maxLen = fitted;
    }
  }

  /** The largest dense twin {@link #fitCodes} trains: N × d floats (64 MB of weights). */
  static final long DENSE_TWIN_MAX_FLOATS = 1L << 24;

  /**
   * RecJPQ codes left to the preset ({@code cpu} and {@code cpu-bert4rec}; the paper presets keep
   * the paper's SVD codes): {@code dense-pq} with sub-item embeddings of 2 floats ({@code --splits
   * d/2}) when the dense twin's item table, N × d floats, is at most {@link
   * #DENSE_TWIN_MAX_FLOATS}: the RecJPQ model then starts from a trained dense model whose item
   * table it represents almost exactly (benchmarks/recjpq-quality.md). Larger catalogues keep the
   * preset's codes, which need no N × d table at any point.
   */
  static void fitCodes(
      Settings s, String preset, int numItems, Set<String> explicit, List<String> notes) {
    if (!"jpq".equalsIgnoreCase(s.embedding)
        || explicit.contains("codes")
        || preset == null
        || preset.toLowerCase(Locale.ROOT).startsWith("paper")) {
      return;
    }
    long table = (long) numItems * s.dim;
    if (table > DENSE_TWIN_MAX_FLOATS) {
      return;
    }
    notes.add(
        String.format(
            Locale.ROOT,
            "--codes dense-pq, not %s: a dense twin's item table (%,d items x %d) fits, so a dense"
                + " model trains first and the RecJPQ model starts from it; give --codes to"
                + " choose",
            s.codes,
            numItems,
            s.dim));
    s.codes = ModelSetup.DENSE_PQ;
    int splits = s.dim / 2;
    if (!explicit.contains("splits")
        && s.dim % 2 == 0
        && splits >= 1
        && splits <= 256
        && splits > s.splits) {
      notes.add(
          String.format(
              Locale.ROOT,
              "--splits %d, not %d: sub-item embeddings of 2 floats quantise the twin's item"
                  + " table closely (%,d item-side floats whatever the catalogue); give --splits"
                  + " to choose",
              splits,
              s.splits,
              256L * s.dim));
      s.splits = splits;
    }
  }
}
