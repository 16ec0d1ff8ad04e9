package org.recjpq.serve;

import org.recjpq.backend.cpu.CpuBuf;
import org.recjpq.codes.ItemCodes;

/**
 * A RecJPQ item head on the host: codes (N × m bytes) and codebooks (m × 256 × d/m floats).
 *
 * <p>Canonical score (docs/method.md §4): the sub-id table {@code t[k][j] = Σ_s h[k·S +
 * s]·cb[k][j][s]} (s in order, float), then {@code score(i) = combine(t[0][codes[i][0]], ...,
 * t[m-1][codes[i][m-1]])} where {@link #combine} adds the m terms pairwise for m = 8 ({@code
 * ((a0+a1)+(a2+a3))+((a4+a5)+(a6+a7))}, a chain of 3 dependent additions instead of 7, so the scan
 * runs at the speed of its loads) and in split order otherwise; an item's score offset, when the
 * model has them, is added to that sum. With m = 8 the codes are also packed one long per item, so
 * a score is one 8-byte load and 8 look-ups.
 */
public final class JpqHead extends ServingHead {
  final int m;
  final int sub;
  final byte[] codes;
  final long[] packed; // m == 8: item i's 8 codes, split k in bits 8k..8k+7
  final float[] codebooks; // (m, 256, S)
  private final float[] transposed; // (m, S, 256): prepare's loops run over 256 contiguous sub-ids
  private double maxNorm = -1;

  /**
   * Wraps codes and codebooks (m × 256 × S floats; not copied, and not to be changed afterwards).
   */
  public JpqHead(ItemCodes codes, float[] codebooks, int subDim) {
    this(codes, codebooks, subDim, null);
  }

  /**
   * As above with per-item score offsets (N floats, or null), added to each item's combined score.
   */
  public JpqHead(ItemCodes codes, float[] codebooks, int subDim, float[] bias) {
    super(codes.numItems(), codes.splits() * subDim, bias);
    this.m = codes.splits();
    this.sub = subDim;
    this.codes = codes.raw();
    if (codebooks.length != m * ItemCodes.SUB_IDS * sub) {
      throw new IllegalArgumentException(
          "codebooks hold "
              + codebooks.length
              + " floats, expected "
              + m
              + " x "
              + ItemCodes.SUB_IDS
              + " x "
              + sub);
    }
    this.codebooks = codebooks;
    this.transposed = new float[codebooks.length];
    for (int k = 0; k < m; k++) {
      for (int j = 0; j < ItemCodes.SUB_IDS; j++) {
        for (int s = 0; s < sub; s++) {
          transposed[(k * sub + s) * ItemCodes.SUB_IDS + j] =
              codebooks[(k * ItemCodes.SUB_IDS + j) * sub + s];
        }
      }
    }
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
    // t[k][j] = Σ_s h[k·S + s] · C_k[j][s], summed from 0 in s order (the canonical order), with
    // the 256 sub-ids of a split as the inner, contiguous loop
    java.util.Arrays.fill(t, 0, m * ItemCodes.SUB_IDS, 0f);
    for (int k = 0; k < m; k++) {
      int tb = k * ItemCodes.SUB_IDS;
      for (int s = 0; s < sub; s++) {
        float hv = h[k * sub + s];
        int cb = (k * sub + s) * ItemCodes.SUB_IDS;
        for (int j = 0; j < ItemCodes.SUB_IDS; j++) {
          t[tb + j] += hv * transposed[cb + j];
        }
      }
    }
  }

  @Override
  float score(float[] t, int item) {
    if (packed != null) {
      return biased(score8(t, packed[item]), item);
    }
    float acc = 0f;
    int base = item * m;
    for (int k = 0; k < m; k++) {
      acc += t[k * ItemCodes.SUB_IDS + (codes[base + k] & 0xff)];
    }
    return biased(acc, item);
  }

  /**
   * The canonical combination of one value per split ({@code parts[0, m)}): what a score adds up,
   * in the same order, so that a bound built from per-split maxima bounds every score in float
   * arithmetic too (each addition is monotone in both arguments).
   */
  float combine(float[] parts) {
    if (m == 8) {
      return ((parts[0] + parts[1]) + (parts[2] + parts[3]))
          + ((parts[4] + parts[5]) + (parts[6] + parts[7]));
    }
    float acc = 0f;
    for (int k = 0; k < m; k++) {
      acc += parts[k];
    }
    return acc;
  }

  /** Floats of a pair table ({@link #pairTables}): 4 pairs of splits × 256 × 256. */
  static final int PAIR_FLOATS = 4 << 16;

  /**
   * For m = 8: the query's split pairs (0, 1), (2, 3), (4, 5), (6, 7) as 4 tables of 65,536 sums,
   * {@code pairs[p·65536 + a + 256·b] = t[2p][a] + t[2p+1][b]}. These are exactly the first level
   * of {@link #combine}'s pairwise sum, so {@link #scorePairs} gives the canonical score bit for
   * bit with 4 look-ups (into 1 MiB, which stays in L2) instead of 8.
   */
  static void pairTables(float[] t, float[] pairs) {
    for (int p = 0; p < 4; p++) {
      int a = 2 * p * ItemCodes.SUB_IDS;
      int b = a + ItemCodes.SUB_IDS;
      for (int cb = 0; cb < ItemCodes.SUB_IDS; cb++) {
        float tb = t[b + cb];
        int o = (p << 16) + (cb << 8);
        for (int ca = 0; ca < ItemCodes.SUB_IDS; ca++) {
          pairs[o + ca] = t[a + ca] + tb;
        }
      }
    }
  }

  /** The canonical score from packed codes (m = 8) and the query's {@link #pairTables}. */
  static float scorePairs(float[] pairs, long c) {
    return (pairs[(int) (c & 0xffff)] + pairs[(1 << 16) + (int) ((c >>> 16) & 0xffff)])
        + (pairs[(2 << 16) + (int) ((c >>> 32) & 0xffff)] + pairs[(3 << 16) + (int) (c >>> 48)]);
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
