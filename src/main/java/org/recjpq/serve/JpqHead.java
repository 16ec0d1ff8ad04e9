package org.recjpq.serve;

import org.recjpq.backend.cpu.CpuBuf;
import org.recjpq.codes.ItemCodes;

/**
 * A RecJPQ item head on the host: codes (N × m bytes) and codebooks (m × 256 × d/m floats).
 *
 * <p>Canonical score (METHOD §4): the sub-id table {@code t[k][j] = Σ_s h[k·S + s]·cb[k][j][s]}
 * (s in order, float), then {@code score(i) = combine(t[0][codes[i][0]], ..., t[m-1][codes[i][m-1]])}
 * where {@link #combine} adds the m terms pairwise for m = 8 ({@code ((a0+a1)+(a2+a3))+((a4+a5)+(a6+a7))},
 * a chain of 3 dependent additions instead of 7, so the scan runs at the speed of its loads) and in
 * split order otherwise. With m = 8 the codes are also packed one long per item, so a score is one
 * 8-byte load and 8 look-ups.
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

  /**
   * The canonical combination of one value per split ({@code parts[0, m)}): what a score adds up,
   * in the same order, so that a bound built from per-split maxima bounds every score in float
   * arithmetic too (each addition is monotone in both arguments).
   */
  float combine(float[] parts) {
    if (m == 8) {
      return ((parts[0] + parts[1]) + (parts[2] + parts[3])) + ((parts[4] + parts[5]) + (parts[6] + parts[7]));
    }
    float acc = 0f;
    for (int k = 0; k < m; k++) {
      acc += parts[k];
    }
    return acc;
  }

  /** The canonical score from packed codes (m = 8): the pairwise sum of {@link #combine}. */
  static float score8(float[] t, long c) {
    float a0 = t[(int) (c & 0xff)];
    float a1 = t[256 + (int) ((c >>> 8) & 0xff)];
    float a2 = t[512 + (int) ((c >>> 16) & 0xff)];
    float a3 = t[768 + (int) ((c >>> 24) & 0xff)];
    float a4 = t[1024 + (int) ((c >>> 32) & 0xff)];
    float a5 = t[1280 + (int) ((c >>> 40) & 0xff)];
    float a6 = t[1536 + (int) ((c >>> 48) & 0xff)];
    float a7 = t[1792 + (int) (c >>> 56)];
    return ((a0 + a1) + (a2 + a3)) + ((a4 + a5) + (a6 + a7));
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
