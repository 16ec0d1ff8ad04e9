package org.recjpq.backend;

import static org.recjpq.backend.ReferenceBufs.read;
import static org.recjpq.backend.ReferenceBufs.write;

/**
 * Attention and the GRU of {@link ReferenceOps}, in double, written from the formulas of {@link
 * Ops#attentionForward} and {@link Ops#gruForward}. Shapes: q, k, v, out (B, T, D); probs (B, H, T,
 * T); x (B, T, in); y (B, T, H); gates (B, T, 4H).
 */
final class ReferenceSequences {
  private ReferenceSequences() {}

  // ---- attention -----------------------------------------------------------------------------

  /** Whether query i of sequence b may look at key j. */
  private static boolean visible(int[] ids, int b, int len, int i, int j, boolean causal) {
    return ids[b * len + i] >= 0 && ids[b * len + j] >= 0 && !(causal && j > i);
  }

  /** softmax(q kᵀ / sqrt(D/H)) over the visible keys, in double; 0 elsewhere. */
  private static double[] probs(
      double[] q, double[] k, int[] ids, int batch, int len, int dim, int heads, boolean causal) {
    int dh = dim / heads;
    double scale = 1 / Math.sqrt(dh);
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
          int row = ((b * heads + h) * len + i) * len;
          double sum = 0;
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

  static void attentionForward(
      Buf out,
      Buf probs,
      Buf q,
      Buf k,
      Buf v,
      IntBuf ids,
      int batch,
      int len,
      int dim,
      int heads,
      boolean causal) {
    int n = batch * len * dim;
    double[] vv = read(v, n);
    int[] id = ReferenceBufs.read(ids, (long) batch * len);
    double[] p = probs(read(q, n), read(k, n), id, batch, len, dim, heads, causal);
    int dh = dim / heads;
    double[] o = new double[n];
    for (int b = 0; b < batch; b++) {
      for (int h = 0; h < heads; h++) {
        for (int i = 0; i < len; i++) {
          int row = ((b * heads + h) * len + i) * len;
          for (int j = 0; j < len; j++) {
            for (int c = h * dh; c < (h + 1) * dh; c++) {
              o[(b * len + i) * dim + c] += p[row + j] * vv[(b * len + j) * dim + c];
            }
          }
        }
      }
    }
    write(out, o);
    write(probs, p);
  }

  /**
   * Gradients of {@code Σ out ⊙ dOut}: with P recomputed from q and k, {@code dv_j = Σ_i P_ij
   * dOut_i}, {@code dP_ij = dOut_i · v_j}, {@code dS_ij = P_ij (dP_ij - Σ_j' P_ij' dP_ij')}, {@code
   * dq_i = Σ_j dS_ij k_j / sqrt(D/H)}, {@code dk_j = Σ_i dS_ij q_i / sqrt(D/H)}. PAD query rows
   * have P = 0, so nothing flows from them.
   */
  static void attentionBackward(
      Buf dq,
      Buf dk,
      Buf dv,
      Buf dOut,
      Buf q,
      Buf k,
      Buf v,
      IntBuf ids,
      int batch,
      int len,
      int dim,
      int heads,
      boolean causal) {
    int n = batch * len * dim;
    double[] qq = read(q, n);
    double[] kk = read(k, n);
    double[] vv = read(v, n);
    double[] d = read(dOut, n);
    int[] id = ReferenceBufs.read(ids, (long) batch * len);
    double[] p = probs(qq, kk, id, batch, len, dim, heads, causal);
    int dh = dim / heads;
    double scale = 1 / Math.sqrt(dh);
    double[] gq = new double[n];
    double[] gk = new double[n];
    double[] gv = new double[n];
    double[] dp = new double[len];
    for (int b = 0; b < batch; b++) {
      for (int h = 0; h < heads; h++) {
        for (int i = 0; i < len; i++) {
          int row = ((b * heads + h) * len + i) * len;
          int qi = (b * len + i) * dim;
          double dot = 0;
          for (int j = 0; j < len; j++) {
            int kj = (b * len + j) * dim;
            dp[j] = 0;
            for (int c = h * dh; c < (h + 1) * dh; c++) {
              dp[j] += d[qi + c] * vv[kj + c];
              gv[kj + c] += p[row + j] * d[qi + c];
            }
            dot += p[row + j] * dp[j];
          }
          for (int j = 0; j < len; j++) {
            int kj = (b * len + j) * dim;
            double ds = p[row + j] * (dp[j] - dot) * scale;
            for (int c = h * dh; c < (h + 1) * dh; c++) {
              gq[qi + c] += ds * kk[kj + c];
              gk[kj + c] += ds * qq[qi + c];
            }
          }
        }
      }
    }
    write(dq, gq);
    write(dk, gk);
    write(dv, gv);
  }

  // ---- GRU -----------------------------------------------------------------------------------

  private static double sigmoid(double a) {
    return 1 / (1 + Math.exp(-a));
  }

  /** Whether step t of sequence b is PAD (then it outputs 0 and the next step starts from 0). */
  private static boolean masked(int[] ids, int row) {
    return ids != null && ids[row] < 0;
  }

  static void gruForward(
      Buf y,
      Buf gates,
      Buf x,
      Buf wIh,
      Buf wHh,
      Buf bIh,
      Buf bHh,
      IntBuf ids,
      int batch,
      int len,
      int in,
      int hidden) {
    int hh = hidden;
    double[] xs = read(x, (long) batch * len * in);
    double[] wi = read(wIh, 3L * hh * in);
    double[] wh = read(wHh, 3L * hh * hh);
    double[] bi = read(bIh, 3L * hh);
    double[] bh = read(bHh, 3L * hh);
    int[] id = ids == null ? null : ReferenceBufs.read(ids, (long) batch * len);
    double[] ys = new double[batch * len * hh];
    double[] gs = new double[batch * len * 4 * hh];
    double[] gi = new double[3 * hh];
    double[] gh = new double[3 * hh];
    for (int b = 0; b < batch; b++) {
      double[] h = new double[hh]; // h0 = 0
      for (int t = 0; t < len; t++) {
        int row = b * len + t;
        if (masked(id, row)) {
          h = new double[hh]; // outputs 0 (and gates 0); the next step starts from 0
          continue;
        }
        for (int g = 0; g < 3 * hh; g++) { // gi = W_ih x + b_ih, gh = W_hh h + b_hh
          gi[g] = bi[g];
          for (int c = 0; c < in; c++) {
            gi[g] += wi[g * in + c] * xs[row * in + c];
          }
          gh[g] = bh[g];
          for (int c = 0; c < hh; c++) {
            gh[g] += wh[g * hh + c] * h[c];
          }
        }
        double[] next = new double[hh];
        for (int j = 0; j < hh; j++) {
          double r = sigmoid(gi[j] + gh[j]);
          double z = sigmoid(gi[hh + j] + gh[hh + j]);
          double n = Math.tanh(gi[2 * hh + j] + r * gh[2 * hh + j]);
          next[j] = (1 - z) * n + z * h[j];
          ys[row * hh + j] = next[j];
          gs[row * 4 * hh + j] = r;
          gs[row * 4 * hh + hh + j] = z;
          gs[row * 4 * hh + 2 * hh + j] = n;
          gs[row * 4 * hh + 3 * hh + j] = gh[2 * hh + j];
        }
        h = next;
      }
    }
    write(y, ys);
    write(gates, gs);
  }

  /**
   * Backpropagation through time from the saved gates (r, z, n, W_hn h + b_hn) and outputs (h_prev
   * of step t is y[t-1], 0 at t = 0 and after a PAD step). Per step, with dh = dy_t + the carry
   * from t+1: {@code da_n = dh(1-z)(1-n²)}, {@code da_z = dh(h_prev - n) z(1-z)}, {@code da_r =
   * da_n ghn r(1-r)}; the input pre-activations get {@code [da_r, da_z, da_n]}, the hidden ones
   * {@code [da_r, da_z, da_n·r]}; the carry to t-1 is {@code dh·z + W_hhᵀ dGh}, and 0 across a PAD
   * step.
   */
  static void gruBackward(
      Buf dx,
      Buf dWih,
      Buf dWhh,
      Buf dBih,
      Buf dBhh,
      Buf dy,
      Buf x,
      Buf y,
      Buf gates,
      Buf wIh,
      Buf wHh,
      IntBuf ids,
      int batch,
      int len,
      int in,
      int hidden) {
    int hh = hidden;
    double[] xs = read(x, (long) batch * len * in);
    double[] ys = read(y, (long) batch * len * hh);
    double[] gs = read(gates, (long) batch * len * 4 * hh);
    double[] dys = read(dy, (long) batch * len * hh);
    double[] wi = read(wIh, 3L * hh * in);
    double[] wh = read(wHh, 3L * hh * hh);
    double[] gwi = read(dWih, 3L * hh * in);
    double[] gwh = read(dWhh, 3L * hh * hh);
    double[] gbi = read(dBih, 3L * hh);
    double[] gbh = read(dBhh, 3L * hh);
    int[] id = ids == null ? null : ReferenceBufs.read(ids, (long) batch * len);
    double[] gx = new double[batch * len * in];
    double[] dGi = new double[3 * hh];
    double[] dGh = new double[3 * hh];
    for (int b = 0; b < batch; b++) {
      double[] carry = new double[hh];
      for (int t = len - 1; t >= 0; t--) {
        int row = b * len + t;
        if (masked(id, row)) {
          carry = new double[hh]; // nothing flows through a PAD step
          continue;
        }
        boolean fromZero = t == 0 || masked(id, row - 1);
        double[] next = new double[hh];
        for (int j = 0; j < hh; j++) {
          double r = gs[row * 4 * hh + j];
          double z = gs[row * 4 * hh + hh + j];
          double n = gs[row * 4 * hh + 2 * hh + j];
          double ghn = gs[row * 4 * hh + 3 * hh + j];
          double hPrev = fromZero ? 0 : ys[(row - 1) * hh + j];
          double dh = dys[row * hh + j] + carry[j];
          double dan = dh * (1 - z) * (1 - n * n);
          double daz = dh * (hPrev - n) * z * (1 - z);
          double dar = dan * ghn * r * (1 - r);
          dGi[j] = dar;
          dGi[hh + j] = daz;
          dGi[2 * hh + j] = dan;
          dGh[j] = dar;
          dGh[hh + j] = daz;
          dGh[2 * hh + j] = dan * r;
          next[j] = dh * z;
        }
        for (int g = 0; g < 3 * hh; g++) {
          gbi[g] += dGi[g];
          gbh[g] += dGh[g];
          for (int c = 0; c < in; c++) {
            gwi[g * in + c] += dGi[g] * xs[row * in + c];
            gx[row * in + c] += dGi[g] * wi[g * in + c];
          }
          for (int c = 0; c < hh; c++) {
            gwh[g * hh + c] += fromZero ? 0 : dGh[g] * ys[(row - 1) * hh + c];
            next[c] += dGh[g] * wh[g * hh + c];
          }
        }
        carry = next;
      }
    }
    write(dx, gx);
    write(dWih, gwi);
    write(dWhh, gwh);
    write(dBih, gbi);
    write(dBhh, gbh);
  }
}
