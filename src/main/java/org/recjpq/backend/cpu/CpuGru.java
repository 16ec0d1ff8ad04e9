package org.recjpq.backend.cpu;

/**
 * The GRU layer of {@link CpuOps#gruForward} and its backward through time.
 *
 * <p>Forward: the input projections of every step at once, {@code Gi = x·W_ihᵀ + b_ih} (B·T, 3H),
 * one GEMM split over rows; then step by step {@code Gh = h_prev·W_hhᵀ + b_hh} (B, 3H) and the
 * gates, element-wise. {@code h_prev} of step t is always {@code y[:, t-1]} (0 at t = 0), since a
 * masked step outputs 0 and the next starts from 0 — so the backward reads it back from y.
 *
 * <p>Backward, t from T-1 down: {@code dh = dy_t + dh_prev(from t+1)} (0 at masked steps), then
 * {@code dn = dh(1−z)}, {@code dz = dh(h_prev − n)}, {@code da_n = dn(1−n²)}, {@code da_r =
 * da_n·ghn·r(1−r)}, {@code da_z = dz·z(1−z)}; {@code dGi = [da_r, da_z, da_n]}, {@code dGh = [da_r,
 * da_z, da_n·r]}; {@code dh_prev = dh·z + dGh·W_hh}, {@code dW_hh += dGhᵀ·h_prev}, {@code db_hh +=
 * Σ dGh}. At the end {@code dx = dGi·W_ih}, {@code dW_ih += dGiᵀ·x}, {@code db_ih += Σ dGi}, as
 * GEMMs over all steps. Fixed loop orders: the bits do not depend on the thread count.
 */
final class CpuGru {
  private static final CpuScratch SCRATCH = new CpuScratch();

  private CpuGru() {}

  private static CpuBuf scratch(long floats) {
    return SCRATCH.get(floats);
  }

  private static float sigmoid(float a) {
    return (float) (1.0 / (1.0 + Math.exp(-a)));
  }

  static void forward(
      CpuOps ops,
      CpuBuf y,
      CpuBuf gates,
      CpuBuf x,
      CpuBuf wIh,
      CpuBuf wHh,
      CpuBuf bIh,
      CpuBuf bHh,
      CpuIntBuf ids,
      int batch,
      int len,
      int in,
      int hidden) {
    int h3 = 3 * hidden;
    int rows = batch * len;
    CpuBuf gi = scratch((long) rows * h3 + (long) batch * h3);
    CpuBuf gh = gi.slice((long) rows * h3, (long) batch * h3);
    float[] bi = bIh.toArray();
    float[] bh = bHh.toArray();
    for (int r = 0; r < rows; r++) {
      gi.data.put(gi.offset + r * h3, bi, 0, h3);
    }
    CpuGemm.rows(ops, true, rows, h3, in, 1f, x, in, wIh, in, 1f, gi, h3);
    float[] giRow = new float[h3];
    float[] ghRow = new float[h3];
    float[] hPrev = new float[hidden];
    float[] out = new float[hidden];
    float[] g4 = new float[4 * hidden];
    for (int t = 0; t < len; t++) {
      for (int b = 0; b < batch; b++) {
        gh.data.put(gh.offset + b * h3, bh, 0, h3);
      }
      if (t > 0) { // Gh = h_prev · W_hhᵀ + b_hh, h_prev = y[:, t-1] (rows b·T + t-1, stride T·H)
        Blas.sgemm(
            false,
            true,
            batch,
            h3,
            hidden,
            1f,
            y.slice((long) (t - 1) * hidden, (long) (batch - 1) * len * hidden + hidden),
            len * hidden,
            wHh,
            hidden,
            1f,
            gh,
            h3);
      }
      for (int b = 0; b < batch; b++) {
        int row = b * len + t;
        if (ids != null && ids.get(row) < 0) {
          java.util.Arrays.fill(out, 0f);
          java.util.Arrays.fill(g4, 0f);
        } else {
          gi.data.get(gi.offset + row * h3, giRow, 0, h3);
          gh.data.get(gh.offset + b * h3, ghRow, 0, h3);
          if (t > 0) {
            y.data.get(y.offset + (row - 1) * hidden, hPrev, 0, hidden);
          } else {
            java.util.Arrays.fill(hPrev, 0f);
          }
          for (int j = 0; j < hidden; j++) {
            float r = sigmoid(giRow[j] + ghRow[j]);
            float z = sigmoid(giRow[hidden + j] + ghRow[hidden + j]);
            float ghn = ghRow[2 * hidden + j];
            float n = (float) Math.tanh(giRow[2 * hidden + j] + r * ghn);
            out[j] = (1f - z) * n + z * hPrev[j];
            g4[j] = r;
            g4[hidden + j] = z;
            g4[2 * hidden + j] = n;
            g4[3 * hidden + j] = ghn;
          }
        }
        y.data.put(y.offset + row * hidden, out, 0, hidden);
        gates.data.put(gates.offset + row * 4 * hidden, g4, 0, 4 * hidden);
      }
    }
  }

  static void backward(
      CpuOps ops,
      CpuBuf dx,
      CpuBuf dWih,
      CpuBuf dWhh,
      CpuBuf dBih,
      CpuBuf dBhh,
      CpuBuf dy,
      CpuBuf x,
      CpuBuf y,
      CpuBuf gates,
      CpuBuf wIh,
      CpuBuf wHh,
      CpuIntBuf ids,
      int batch,
      int len,
      int in,
      int hidden) {
    int h3 = 3 * hidden;
    int rows = batch * len;
    // dGi (B·T, 3H); dGh of one step (B, 3H); dh carried to the previous step (B, H); h_prev (B, H)
    CpuBuf dGi = scratch((long) rows * h3 + (long) batch * h3 + 2L * batch * hidden);
    CpuBuf dGh = dGi.slice((long) rows * h3, (long) batch * h3);
    CpuBuf carry = dGi.slice((long) rows * h3 + (long) batch * h3, (long) batch * hidden);
    CpuBuf hPrevAll =
        dGi.slice(
            (long) rows * h3 + (long) batch * h3 + (long) batch * hidden, (long) batch * hidden);
    float[] zero = new float[hidden];
    for (int b = 0; b < batch; b++) {
      carry.data.put(carry.offset + b * hidden, zero, 0, hidden);
    }
    float[] dh = new float[hidden];
    float[] tmp = new float[hidden];
    float[] hPrev = new float[hidden];
    float[] g4 = new float[4 * hidden];
    float[] dgi = new float[h3];
    float[] dgh = new float[h3];
    float[] dbh = new float[h3];
    for (int t = len - 1; t >= 0; t--) {
      for (int b = 0; b < batch; b++) {
        int row = b * len + t;
        boolean masked = ids != null && ids.get(row) < 0;
        if (masked) {
          java.util.Arrays.fill(dgi, 0f);
          java.util.Arrays.fill(dgh, 0f);
          java.util.Arrays.fill(hPrev, 0f);
        } else {
          dy.data.get(dy.offset + row * hidden, dh, 0, hidden);
          carry.data.get(carry.offset + b * hidden, tmp, 0, hidden);
          for (int j = 0; j < hidden; j++) {
            dh[j] += tmp[j];
          }
          gates.data.get(gates.offset + row * 4 * hidden, g4, 0, 4 * hidden);
          if (t > 0) {
            y.data.get(y.offset + (row - 1) * hidden, hPrev, 0, hidden);
          } else {
            java.util.Arrays.fill(hPrev, 0f);
          }
          for (int j = 0; j < hidden; j++) {
            float r = g4[j];
            float z = g4[hidden + j];
            float n = g4[2 * hidden + j];
            float ghn = g4[3 * hidden + j];
            float dn = dh[j] * (1f - z);
            float dz = dh[j] * (hPrev[j] - n);
            float dan = dn * (1f - n * n);
            float dar = dan * ghn * r * (1f - r);
            float daz = dz * z * (1f - z);
            dgi[j] = dar;
            dgi[hidden + j] = daz;
            dgi[2 * hidden + j] = dan;
            dgh[j] = dar;
            dgh[hidden + j] = daz;
            dgh[2 * hidden + j] = dan * r;
            tmp[j] = dh[j] * z; // the direct part of dh_prev
          }
        }
        dGi.data.put(dGi.offset + row * h3, dgi, 0, h3);
        dGh.data.put(dGh.offset + b * h3, dgh, 0, h3);
        carry.data.put(carry.offset + b * hidden, masked ? zero : tmp, 0, hidden);
        hPrevAll.data.put(hPrevAll.offset + b * hidden, hPrev, 0, hidden);
        for (int j = 0; j < h3; j++) {
          dbh[j] += dgh[j];
        }
      }
      if (t > 0) {
        // dh_prev += dGh · W_hh (B, 3H)·(3H, H); dW_hh += dGhᵀ · h_prev (3H, B)·(B, H)
        Blas.sgemm(false, false, batch, hidden, h3, 1f, dGh, h3, wHh, hidden, 1f, carry, hidden);
        Blas.sgemm(true, false, h3, hidden, batch, 1f, dGh, h3, hPrevAll, hidden, 1f, dWhh, hidden);
      }
    }
    float[] acc = dBhh.toArray();
    for (int j = 0; j < h3; j++) {
      acc[j] += dbh[j];
    }
    dBhh.put(acc);
    CpuGemm.rows(ops, false, rows, in, h3, 1f, dGi, h3, wIh, in, 0f, dx, in);
    CpuGemm.transposedReduce(ops, rows, h3, in, dGi, h3, x, in, dWih, in);
    CpuGemm.columnSums(ops, rows, h3, dGi, dBih);
  }
}
