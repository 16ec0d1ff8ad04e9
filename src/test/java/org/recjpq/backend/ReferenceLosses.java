package org.recjpq.backend;

import static org.recjpq.backend.ReferenceBufs.read;
import static org.recjpq.backend.ReferenceBufs.write;

/**
 * The sampled losses of {@link ReferenceOps}, in double. Scores are (rows, 1 + n): column 0 the
 * positive, 1..n the negatives. Rows with {@code targets[r] < 0} are ignored (no loss, zero
 * gradient); the loss is the mean over the V other rows (0 when V = 0) and the gradients carry the
 * 1/V.
 */
final class ReferenceLosses {
  private ReferenceLosses() {}

  /** How many rows have a target. */
  static int validRows(int[] targets) {
    int v = 0;
    for (int t : targets) {
      if (t >= 0) {
        v++;
      }
    }
    return v;
  }

  /**
   * gBCE: {@code row_loss = (beta·softplus(-s_0) + Σ_{c≥1} softplus(s_c)) / (n + 1)}, so {@code
   * d/ds_0 = -beta·σ(-s_0) / (n + 1)}, {@code d/ds_c = σ(s_c) / (n + 1)}, each over V.
   */
  static double bce(Buf dScores, Buf scores, IntBuf targets, int rows, int negatives, float beta) {
    int cols = negatives + 1;
    double[] s = read(scores, (long) rows * cols);
    int[] tg = ReferenceBufs.read(targets, rows);
    int valid = validRows(tg);
    double[] ds = new double[s.length];
    double total = 0;
    for (int r = 0; r < rows; r++) {
      if (tg[r] < 0) {
        continue;
      }
      double loss = beta * ReferenceMath.softplus(-s[r * cols]);
      ds[r * cols] = -beta * ReferenceMath.sigmoid(-s[r * cols]) / cols / valid;
      for (int c = 1; c < cols; c++) {
        loss += ReferenceMath.softplus(s[r * cols + c]);
        ds[r * cols + c] = ReferenceMath.sigmoid(s[r * cols + c]) / cols / valid;
      }
      total += loss / cols;
    }
    write(dScores, ds);
    return valid == 0 ? 0 : total / valid;
  }

  /**
   * Sampled softmax: logits = scores - logQ, {@code row_loss = logsumexp(logits) - logits_0},
   * {@code d/ds_c = (softmax_c - [c = 0]) / V}.
   */
  static double sampledSoftmax(
      Buf dScores, Buf scores, Buf logQ, IntBuf targets, int rows, int negatives) {
    int cols = negatives + 1;
    double[] s = read(scores, (long) rows * cols);
    double[] lq = read(logQ, (long) rows * cols);
    int[] tg = ReferenceBufs.read(targets, rows);
    int valid = validRows(tg);
    double[] ds = new double[s.length];
    double total = 0;
    double[] logit = new double[cols];
    for (int r = 0; r < rows; r++) {
      if (tg[r] < 0) {
        continue;
      }
      double max = Double.NEGATIVE_INFINITY;
      for (int c = 0; c < cols; c++) {
        logit[c] = s[r * cols + c] - lq[r * cols + c];
        max = Math.max(max, logit[c]);
      }
      double sum = 0;
      for (int c = 0; c < cols; c++) {
        sum += Math.exp(logit[c] - max);
      }
      double lse = max + Math.log(sum);
      total += lse - logit[0];
      for (int c = 0; c < cols; c++) {
        double p = Math.exp(logit[c] - lse);
        ds[r * cols + c] = (p - (c == 0 ? 1 : 0)) / valid;
      }
    }
    write(dScores, ds);
    return valid == 0 ? 0 : total / valid;
  }
}
