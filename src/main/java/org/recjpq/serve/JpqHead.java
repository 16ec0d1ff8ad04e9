package org.recjpq.serve;

import org.recjpq.backend.cpu.CpuBuf;
import org.recjpq.codes.ItemCodes;

/**
 * A RecJPQ item head on the host: codes (N × m bytes) and codebooks (m × 256 × d/m floats).
 *
 * <p>Canonical score (METHOD §4): the sub-id table {@code t[k][j] = Σ_s h[k·S + s]·cb[k][j][s]}
 * (s in order, float), then {@code score(i) = Σ_k t[k][codes[i][k]]} (k in order, float). With m =
 * 8 the codes are also packed one long per item, so a score is one 8-byte load and 8 look-ups.
 */
public final class JpqHead extends ServingHead {
  final int m;
  final int sub;
  final byte[] codes;
  final long[] packed; // m == 8: item i's 8 codes, split k in bits 8k..8k+7
  final float[] codebooks; // (m, 256, S)
  private double maxNorm = -1;

  /** Wraps codes and codebooks (m × 256 × S floats; not copied). */
  public JpqHead(ItemCodes codes, float[] codebooks, int subDim) {
    super(codes.numItems(), codes.splits() * subDim);
    this.m = codes.splits();
    this.sub = subDim;
    this.codes = codes.raw();
    if (codebooks.length != m * ItemCodes.SUB_IDS * sub) {
      throw new IllegalArgumentException("codebooks hold " + codebooks.length + " floats, expected " + m + " x "
          + ItemCodes.SUB_IDS + " x " + sub);
    }
    this.codebooks = codebooks;
    if (m == 8) {
      packed = new long[n];
      for (int i = 0; i < n; i++) {
        long c = 0;
        for (int k = 7; k >= 0; k--) {
          c = (c << 8) | (this.codes[i * 8 + k] & 0xffL);
        }
        packed[i] = c;
      }
    } else {
      packed = null;
    }
  }

  public int splits() {
    return m;
  }

  @Override
  int queryFloats() {
    return m * ItemCodes.SUB_IDS;
  }

  @Override
  void prepare(float[] h, float[] t) {
    for (int k = 0; k < m; k++) {
      int hb = k * sub;
      for (int j = 0; j < ItemCodes.SUB_IDS; j++) {
        int cbase = (k * ItemCodes.SUB_IDS + j) * sub;
        float acc = 0f;
        for (int s = 0; s < sub; s++) {
          acc += h[hb + s] * codebooks[cbase + s];
        }
        t[k * ItemCodes.SUB_IDS + j] = acc;
      }
    }
  }

  @Override
  float score(float[] t, int item) {
    if (packed != null) {
      return score8(t, packed[item]);
    }
    float acc = 0f;
    int base = item * m;
    for (int k = 0; k < m; k++) {
      acc += t[k * ItemCodes.SUB_IDS + (codes[base + k] & 0xff)];
    }
    return acc;
  }

  /** The canonical score from packed codes (m = 8): the same additions in the same order. */
  static float score8(float[] t, long c) {
    float acc = t[(int) (c & 0xff)];
    acc += t[256 + (int) ((c >>> 8) & 0xff)];
    acc += t[512 + (int) ((c >>> 16) & 0xff)];
    acc += t[768 + (int) ((c >>> 24) & 0xff)];
    acc += t[1024 + (int) ((c >>> 32) & 0xff)];
    acc += t[1280 + (int) ((c >>> 40) & 0xff)];
    acc += t[1536 + (int) ((c >>> 48) & 0xff)];
    acc += t[1792 + (int) (c >>> 56)];
    return acc;
  }

  @Override
  synchronized double maxNorm() {
    if (maxNorm < 0) {
      double[] sq = new double[m * ItemCodes.SUB_IDS];
      for (int r = 0; r < sq.length; r++) {
        double a = 0;
        for (int s = 0; s < sub; s++) {
          double v = codebooks[r * sub + s];
          a += v * v;
        }
        sq[r] = a;
      }
      double best = 0;
      for (int i = 0; i < n; i++) {
        double a = 0;
        for (int k = 0; k < m; k++) {
          a += sq[k * ItemCodes.SUB_IDS + (codes[i * m + k] & 0xff)];
        }
        best = Math.max(best, a);
      }
      maxNorm = Math.sqrt(best);
    }
    return maxNorm;
  }

  @Override
  CpuBuf embeddings(int from, int count, CpuBuf scratch) {
    CpuBuf out = scratch.slice(0, (long) count * d);
    for (int i = 0; i < count; i++) {
      int base = (from + i) * m;
      for (int k = 0; k < m; k++) {
        int src = (k * ItemCodes.SUB_IDS + (codes[base + k] & 0xff)) * sub;
        out.write(i * d + k * sub, codebooks, src, sub);
      }
    }
    return out;
  }
}
