package org.recjpq.backend.cpu;

/**
 * Multi-head attention in plain double precision, written straight from the definition in {@link
 * org.recjpq.backend.Ops#attentionForward} with no blocking and no windows: the reference that the
 * float engine is compared with. Shapes: q, k, v, out (B, T, D); probs (B, H, T, T).
 */
final class AttentionReference {
  private AttentionReference() {}

  /** Whether query i may look at key j of sequence b. */
  static boolean visible(int[] ids, int b, int len, int i, int j, boolean causal) {
    return ids[b * len + i] >= 0 && ids[b * len + j] >= 0 && !(causal && j > i);
  }

  /** Probabilities (B, H, T, T); all 0 on PAD query rows and masked keys. */
  static double[] probs(
      double[] q, double[] k, int[] ids, int batch, int len, int dim, int heads, boolean causal) {
    int dh = dim / heads;
    double scale = 1.0 / Math.sqrt(dh);
    double[] p = new double[batch * heads * len * len];
    double[] s = new double[len];
    for (int b = 0; b < batch; b++) {
      for (int h = 0; h < heads; h++) {
        for (int i = 0; i < len; i++) {
          double max = Double.NEGATIVE_INFINITY;
          for (int j = 0; j < len; j++) {
            if (visible(ids, b, len, i, j, causal)) {
              double dot = 0;
              for (int c = h * dh; c < (h + 1) * dh; c++) {
                dot += q[(b * len + i) * dim + c] * k[(b * len + j) * dim + c];
              }
              s[j] = dot * scale;
              max = Math.max(max, s[j]);
            }
          }
          double sum = 0;
          int row = ((b * heads + h) * len + i) * len;
          for (int j = 0; j < len; j++) {
            if (visible(ids, b, len, i, j, causal)) {
              p[row + j] = Math.exp(s[j] - max);
              sum += p[row + j];
            }
          }
          for (int j = 0; j < len; j++) {
            p[row + j] = sum > 0 ? p[row + j] / sum : 0;
          }
        }
      }
    }
    return p;
  }

  /** Outputs (B, T, D): probs · v per head; 0 on PAD query rows. */
  static double[] forward(
      double[] q,
      double[] k,
      double[] v,
      int[] ids,
      int batch,
      int len,
      int dim,
      int heads,
      boolean causal) {
    double[] p = probs(q, k, ids, batch, len, dim, heads, causal);
    int dh = dim / heads;
    double[] out = new double[batch * len * dim];
    for (int b = 0; b < batch; b++) {
      for (int h = 0; h < heads; h++) {
        for (int i = 0; i < len; i++) {
          int row = ((b * heads + h) * len + i) * len;
          for (int j = 0; j < len; j++) {
            for (int c = h * dh; c < (h + 1) * dh; c++) {
              out[(b * len + i) * dim + c] += p[row + j] * v[(b * len + j) * dim + c];
            }
          }
        }
      }
    }
    return out;
  }

  /** Σ out ⊙ dOut: the scalar whose gradient the backward computes. */
  static double objective(
      double[] q,
      double[] k,
      double[] v,
      double[] dOut,
      int[] ids,
      int batch,
      int len,
      int dim,
      int heads,
      boolean causal) {
    double[] out = forward(q, k, v, ids, batch, len, dim, heads, causal);
    double s = 0;
    for (int i = 0; i < out.length; i++) {
      s += out[i] * dOut[i];
    }
    return s;
  }

  /** Analytic gradients {dq, dk, dv} of {@link #objective} (checked against finite differences). */
  static double[][] backward(
      double[] q,
      double[] k,
      double[] v,
      double[] dOut,
      int[] ids,
      int batch,
      int len,
      int dim,
      int heads,
      boolean causal) {
    double[] p = probs(q, k, ids, batch, len, dim, heads, causal);
    int dh = dim / heads;
    double scale = 1.0 / Math.sqrt(dh);
    double[] dq = new double[q.length];
    double[] dk = new double[k.length];
    double[] dv = new double[v.length];
    double[] dp = new double[len];
    for (int b = 0; b < batch; b++) {
      for (int h = 0; h < heads; h++) {
        for (int i = 0; i < len; i++) {
          int row = ((b * heads + h) * len + i) * len;
          double dot = 0;
          for (int j = 0; j < len; j++) {
            dp[j] = 0;
            for (int c = h * dh; c < (h + 1) * dh; c++) {
              dp[j] += dOut[(b * len + i) * dim + c] * v[(b * len + j) * dim + c];
              dv[(b * len + j) * dim + c] += p[row + j] * dOut[(b * len + i) * dim + c];
            }
            dot += dp[j] * p[row + j];
          }
          for (int j = 0; j < len; j++) {
            double ds = p[row + j] * (dp[j] - dot) * scale;
            for (int c = h * dh; c < (h + 1) * dh; c++) {
              dq[(b * len + i) * dim + c] += ds * k[(b * len + j) * dim + c];
              dk[(b * len + j) * dim + c] += ds * q[(b * len + i) * dim + c];
            }
          }
        }
      }
    }
    return new double[][] {dq, dk, dv};
  }
}
