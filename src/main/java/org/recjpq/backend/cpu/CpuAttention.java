package org.recjpq.backend.cpu;

import java.util.Arrays;
import org.recjpq.util.Parallel;

/**
 * Multi-head scaled dot-product attention of the CPU engine (the specification of {@link
 * org.recjpq.backend.Ops#attentionForward} and {@link org.recjpq.backend.Ops#attentionBackward}).
 *
 * <p>Shapes: B = batch, T = len, D = dim, H = heads, dh = D / H. q, k, v, out and their gradients
 * are (B, T, D); head h owns columns [h·dh, (h+1)·dh). probs is (B, H, T, T). For one (b, h):
 *
 * <pre>
 *   S  = q_h k_hᵀ / sqrt(dh), masked where key j is PAD or (causal) j &gt; i
 *   P  = softmax_j(S)              (saved; masked entries exactly 0, PAD query rows all 0)
 *   out_h = P v_h
 *   dv_h = Pᵀ dOut_h,   dP = dOut_h v_hᵀ,   dS = P ⊙ (dP − rowsum(dP ⊙ P))
 *   dq_h = dS k_h / sqrt(dh),   dk_h = dSᵀ q_h / sqrt(dh)
 * </pre>
 *
 * <p>How: the (b, h) pairs are independent and run in parallel, each on one thread, so the bits do
 * not depend on the thread count. The products go to OpenBLAS on zero-copy views: a head's columns
 * inside a (T, D) matrix are a strided submatrix, so each operand is a slice starting at column
 * h·dh with leading dimension D. Queries are taken in row blocks: S for the block, its softmax
 * (plain loops on a copied row), then its outputs, while the block is still in cache.
 *
 * <p>What is surprising:
 *
 * <ul>
 *   <li>Only the window [lo, hi] between a sequence's first and last non-PAD position is computed;
 *       everything outside it is masked anyway and is written as 0 (left-padded sequences, the
 *       usual case, cost what their real length costs). PAD positions inside the window are masked
 *       as keys and their query rows are 0, so they give 0 outputs and 0 gradients too.
 *   <li>Blocks are small on purpose ({@link #blockRows}): OpenBLAS runs a small GEMM on the calling
 *       thread but hands a bigger one to its own thread pool, which then competes with our threads
 *       for the same cores. Causal blocks multiply keys only up to the block's end, so most of the
 *       masked triangle is skipped; the masked scores that the diagonal blocks do compute are
 *       overwritten with 0. In backward, dv and dk take the same blocks as column blocks and read
 *       only the queries that can see them.
 *   <li>The row loops stay in float (sums and dot products in double, rounded once per row) and use
 *       their own exponential ({@link #expf}, within 1 ulp): on HotSpot 17 a loop that mixes float
 *       and double ran 5-30x slower than the same loop in float, and the softmax is most of the
 *       forward's time.
 *   <li>Backward needs a (T, T) scratch for dP/dS per thread, kept in a thread-local buffer that
 *       grows on demand (a direct allocation per call would churn off-heap memory).
 *   <li>A PAD query row's probs are 0, so (with a finite dOut) it contributes exactly 0 to dv; its
 *       dS row is set to 0 explicitly, so even a non-finite dOut row there cannot reach dq or dk.
 * </ul>
 */
final class CpuAttention {
  /**
   * OpenBLAS's single-thread bound on m·n·k (its SMP_THRESHOLD_MIN × GEMM_MULTITHREAD_THRESHOLD).
   */
  private static final long SINGLE_THREAD_GEMM = 65536L * 4;

  /** Per-thread (T, T) dP/dS scratch of {@link #backward}. */
  private static final ThreadLocal<CpuBuf[]> SCRATCH = ThreadLocal.withInitial(() -> new CpuBuf[1]);

  private CpuAttention() {}

  static void forward(
      CpuOps ops,
      CpuBuf out,
      CpuBuf probs,
      CpuBuf q,
      CpuBuf k,
      CpuBuf v,
      CpuIntBuf ids,
      int batch,
      int len,
      int dim,
      int heads,
      boolean causal) {
    check(batch, len, dim, heads, ids, q, k, v, out);
    need("probs", probs, (long) batch * heads * len * len);
    int dh = dim / heads;
    float scale = (float) (1.0 / Math.sqrt(dh));
    Parallel.forRange(
        batch * heads,
        ops.threads,
        1,
        (from, to) -> {
          float[] row = new float[len]; // one row of scores, then of probabilities
          float[] zeros = new float[len];
          for (int pair = from; pair < to; pair++) {
            int b = pair / heads;
            int col = (pair % heads) * dh;
            int x0 = b * len * dim; // first element of sequence b in (B, T, D)
            int p0 = pair * len * len; // first element of this (b, h) in probs (B, H, T, T)
            int lo = firstReal(ids, b, len);
            int hi = lastReal(ids, b, len);
            boolean innerPad = hasPadBetween(ids, b, len, lo, hi);
            zeroRowsOutside(out, x0, dim, col, dh, len, lo, hi);
            for (int i = 0; i < len; i++) {
              if (i < lo || i > hi) {
                probs.data.put(probs.offset + p0 + i * len, zeros, 0, len);
              }
            }
            int block = blockRows(hi + 1 - lo, dh);
            for (int r0 = lo; r0 <= hi; r0 += block) {
              int r1 = Math.min(hi + 1, r0 + block);
              int kEnd = causal ? r1 : hi + 1; // keys [lo, kEnd) can be unmasked for these queries
              // S[r0:r1, lo:kEnd] = scale · q_h[r0:r1] k_h[lo:kEnd]ᵀ, straight into probs
              Blas.sgemm(
                  false,
                  true,
                  r1 - r0,
                  kEnd - lo,
                  dh,
                  scale,
                  sub(q, x0, r0, r1, dim, col, dh),
                  dim,
                  sub(k, x0, lo, kEnd, dim, col, dh),
                  dim,
                  0f,
                  sub(probs, p0, r0, r1, len, lo, kEnd - lo),
                  len);
              for (int i = r0; i < r1; i++) {
                softmaxRow(
                    probs,
                    p0 + i * len,
                    row,
                    zeros,
                    ids,
                    b * len,
                    i,
                    len,
                    lo,
                    causal ? i + 1 : hi + 1,
                    innerPad);
              }
              // out_h[r0:r1] = P[r0:r1, lo:kEnd] v_h[lo:kEnd]; PAD query rows of P are 0, so are
              // theirs
              Blas.sgemm(
                  false,
                  false,
                  r1 - r0,
                  dh,
                  kEnd - lo,
                  1f,
                  sub(probs, p0, r0, r1, len, lo, kEnd - lo),
                  len,
                  sub(v, x0, lo, kEnd, dim, col, dh),
                  dim,
                  0f,
                  sub(out, x0, r0, r1, dim, col, dh),
                  dim);
            }
          }
        });
  }

  static void backward(
      CpuOps ops,
      CpuBuf dq,
      CpuBuf dk,
      CpuBuf dv,
      CpuBuf dOut,
      CpuBuf probs,
      CpuBuf q,
      CpuBuf k,
      CpuBuf v,
      CpuIntBuf ids,
      int batch,
      int len,
      int dim,
      int heads,
      boolean causal) {
    check(batch, len, dim, heads, ids, q, k, v, dq, dk, dv, dOut);
    need("probs", probs, (long) batch * heads * len * len);
    int dh = dim / heads;
    float scale = (float) (1.0 / Math.sqrt(dh));
    Parallel.forRange(
        batch * heads,
        ops.threads,
        1,
        (from, to) -> {
          CpuBuf ds = scratch(len * len); // (T, T): dP, then dS in place
          float[] dpRow = new float[len];
          float[] pRow = new float[len];
          for (int pair = from; pair < to; pair++) {
            int b = pair / heads;
            int col = (pair % heads) * dh;
            int x0 = b * len * dim;
            int p0 = pair * len * len;
            int lo = firstReal(ids, b, len);
            int hi = lastReal(ids, b, len);
            zeroRowsOutside(dq, x0, dim, col, dh, len, lo, hi);
            zeroRowsOutside(dk, x0, dim, col, dh, len, lo, hi);
            zeroRowsOutside(dv, x0, dim, col, dh, len, lo, hi);
            int block = blockRows(hi + 1 - lo, dh);
            for (int r0 = lo; r0 <= hi; r0 += block) { // row blocks: dP, dS, dq
              int r1 = Math.min(hi + 1, r0 + block);
              int kEnd = causal ? r1 : hi + 1;
              // dP[r0:r1, lo:kEnd] = dOut_h[r0:r1] v_h[lo:kEnd]ᵀ
              Blas.sgemm(
                  false,
                  true,
                  r1 - r0,
                  kEnd - lo,
                  dh,
                  1f,
                  sub(dOut, x0, r0, r1, dim, col, dh),
                  dim,
                  sub(v, x0, lo, kEnd, dim, col, dh),
                  dim,
                  0f,
                  sub(ds, 0, r0, r1, len, lo, kEnd - lo),
                  len);
              for (int i = r0; i < r1; i++) {
                softmaxGradRow(
                    ds,
                    probs,
                    i * len + lo,
                    p0 + i * len + lo,
                    kEnd - lo,
                    dpRow,
                    pRow,
                    ids.get(b * len + i) < 0);
              }
              // dq_h[r0:r1] = scale · dS[r0:r1, lo:kEnd] k_h[lo:kEnd]
              Blas.sgemm(
                  false,
                  false,
                  r1 - r0,
                  dh,
                  kEnd - lo,
                  scale,
                  sub(ds, 0, r0, r1, len, lo, kEnd - lo),
                  len,
                  sub(k, x0, lo, kEnd, dim, col, dh),
                  dim,
                  0f,
                  sub(dq, x0, r0, r1, dim, col, dh),
                  dim);
            }
            // Column blocks, aligned with the row blocks, so every dS entry read below was written
            // above.
            for (int c0 = lo; c0 <= hi; c0 += block) {
              int c1 = Math.min(hi + 1, c0 + block);
              int qStart = causal ? c0 : lo; // queries before c0 cannot see keys [c0, c1)
              // dv_h[c0:c1] = P[qStart:hi+1, c0:c1]ᵀ dOut_h[qStart:hi+1]
              Blas.sgemm(
                  true,
                  false,
                  c1 - c0,
                  dh,
                  hi + 1 - qStart,
                  1f,
                  sub(probs, p0, qStart, hi + 1, len, c0, c1 - c0),
                  len,
                  sub(dOut, x0, qStart, hi + 1, dim, col, dh),
                  dim,
                  0f,
                  sub(dv, x0, c0, c1, dim, col, dh),
                  dim);
              // dk_h[c0:c1] = scale · dS[qStart:hi+1, c0:c1]ᵀ q_h[qStart:hi+1]
              Blas.sgemm(
                  true,
                  false,
                  c1 - c0,
                  dh,
                  hi + 1 - qStart,
                  scale,
                  sub(ds, 0, qStart, hi + 1, len, c0, c1 - c0),
                  len,
                  sub(q, x0, qStart, hi + 1, dim, col, dh),
                  dim,
                  0f,
                  sub(dk, x0, c0, c1, dim, col, dh),
                  dim);
            }
          }
        });
  }

  /**
   * Rows per block: as many as keep every product at m·n·k ≤ 4·65536 (with n or k the window and
   * the other dh), the size up to which OpenBLAS runs a GEMM on the calling thread. A bigger GEMM
   * wakes OpenBLAS's own pool, which then fights our threads for the same cores: measured 2-4x
   * slower in total on 2 cores. Small causal blocks also skip more of the masked triangle.
   */
  static int blockRows(int span, int dh) {
    return (int) Math.max(8, Math.min(span, SINGLE_THREAD_GEMM / Math.max(1L, (long) span * dh)));
  }

  /**
   * Turns one row of scores (at {@code row} in probs, query i) into probabilities in place: keys
   * [lo, end) that are not PAD are unmasked; all other entries, and the whole row of a PAD query,
   * become 0. {@code x} is scratch of at least len floats, {@code zeros} len zeros.
   */
  private static void softmaxRow(
      CpuBuf probs,
      int row,
      float[] x,
      float[] zeros,
      CpuIntBuf ids,
      int seq,
      int i,
      int len,
      int lo,
      int end,
      boolean innerPad) {
    int base = probs.offset + row;
    if (ids.data[ids.offset + seq + i] < 0) {
      probs.data.put(base, zeros, 0, len);
      return;
    }
    int n = end - lo;
    probs.data.get(base + lo, x, 0, n);
    if (innerPad) {
      for (int j = 0; j < n; j++) {
        if (ids.data[ids.offset + seq + lo + j] < 0) {
          x[j] = Float.NEGATIVE_INFINITY; // → probability exactly 0
        }
      }
    }
    float max = Float.NEGATIVE_INFINITY; // finite: the query itself is unmasked
    for (int j = 0; j < n; j++) {
      if (x[j] > max) {
        max = x[j];
      }
    }
    double sum = 0; // ≥ 1: the max contributes e^0 = 1
    for (int j = 0; j < n; j++) {
      x[j] = expf(x[j] - max);
      sum += x[j];
    }
    float inv = (float) (1.0 / sum);
    for (int j = 0; j < n; j++) {
      x[j] *= inv;
    }
    probs.data.put(base + lo, x, 0, n);
    probs.data.put(base, zeros, 0, lo);
    probs.data.put(base + end, zeros, 0, len - end);
  }

  /**
   * dS = P ⊙ (dP − Σ_j dP·P) on n entries of one row, in place over dP in {@code ds} (at element
   * {@code dsAt}; P at {@code pAt} in probs). Masked entries have P = 0 and get dS = 0; a PAD query
   * row is all 0 (nothing flows from it). dp and p are scratch of at least n floats.
   */
  private static void softmaxGradRow(
      CpuBuf ds, CpuBuf probs, int dsAt, int pAt, int n, float[] dp, float[] p, boolean padQuery) {
    if (padQuery) {
      Arrays.fill(dp, 0, n, 0f);
    } else {
      ds.data.get(ds.offset + dsAt, dp, 0, n);
      probs.data.get(probs.offset + pAt, p, 0, n);
      double dot = 0;
      for (int j = 0; j < n; j++) {
        dot += (double) dp[j] * p[j];
      }
      float rowDot = (float) dot;
      for (int j = 0; j < n; j++) {
        dp[j] = p[j] * (dp[j] - rowDot); // masked: P = 0, so dS = 0
      }
    }
    ds.data.put(ds.offset + dsAt, dp, 0, n);
  }

  /**
   * e^x in float for x ≤ 0 (Cephes' expf: x = n·ln 2 + r with |r| ≤ ln 2 / 2, a degree-6 polynomial
   * for e^r, times 2^n): within 1 ulp of the exact value, exactly 1 at 0, and 0 below -87.3 (where
   * e^x is under Float.MIN_NORMAL) and at -∞. Everything stays in float, with n rounded by adding
   * 1.5·2^23: HotSpot's float↔double and float↔int conversions made these loops 5-10x slower here,
   * {@code Math.exp} 3x slower (measured with JDK 17 on a 2-core Xeon).
   */
  static float expf(float x) {
    if (x < -87.3f) {
      return 0f;
    }
    float shifted = x * 1.44269504f + 12582912f; // round(x / ln 2) lands in the low mantissa bits
    float n = shifted - 12582912f;
    int exponent = Float.floatToRawIntBits(shifted) - 0x4B400000 + 127; // n + bias, ≥ 1
    float r =
        x - n * 0.693359375f + n * 2.12194440e-4f; // ln 2 in two parts: n·0.693359375 is exact
    float p = 1.9875691500e-4f;
    p = p * r + 1.3981999507e-3f;
    p = p * r + 8.3334519073e-3f;
    p = p * r + 4.1665795894e-2f;
    p = p * r + 1.6666665459e-1f;
    p = p * r + 5.0000001201e-1f;
    p = p * r * r + r + 1f;
    return p * Float.intBitsToFloat(exponent << 23);
  }

  /**
   * The view of rows [r0, r1) and columns [col, col + cols) of a row-major matrix with leading
   * dimension ld that starts at element base of x: a strided submatrix for BLAS (same ld).
   */
  private static CpuBuf sub(CpuBuf x, int base, int r0, int r1, int ld, int col, int cols) {
    return x.slice(base + (long) r0 * ld + col, (long) (r1 - r0 - 1) * ld + cols);
  }

  /** First non-PAD position of sequence b, or len when there is none. */
  private static int firstReal(CpuIntBuf ids, int b, int len) {
    int t = 0;
    while (t < len && ids.get(b * len + t) < 0) {
      t++;
    }
    return t;
  }

  /** Last non-PAD position of sequence b, or -1 when there is none. */
  private static int lastReal(CpuIntBuf ids, int b, int len) {
    int t = len - 1;
    while (t >= 0 && ids.get(b * len + t) < 0) {
      t--;
    }
    return t;
  }

  /** Whether sequence b has a PAD strictly between lo and hi. */
  private static boolean hasPadBetween(CpuIntBuf ids, int b, int len, int lo, int hi) {
    for (int t = lo + 1; t < hi; t++) {
      if (ids.get(b * len + t) < 0) {
        return true;
      }
    }
    return false;
  }

  /** Zeroes a head's columns [col, col + dh) in the rows of one sequence outside [lo, hi]. */
  private static void zeroRowsOutside(
      CpuBuf x, int x0, int dim, int col, int dh, int len, int lo, int hi) {
    for (int t = 0; t < len; t++) {
      if (t < lo || t > hi) {
        zero(x, x0 + t * dim + col, dh);
      }
    }
  }

  private static void zero(CpuBuf x, int from, int n) {
    for (int i = 0; i < n; i++) {
      x.data.put(x.offset + from + i, 0f);
    }
  }

  /** This thread's scratch of at least n floats (contents undefined). */
  private static CpuBuf scratch(int n) {
    CpuBuf[] holder = SCRATCH.get();
    if (holder[0] == null || holder[0].size < n) {
      holder[0] = CpuBuf.allocate(n);
    }
    return holder[0];
  }

  private static void check(int batch, int len, int dim, int heads, CpuIntBuf ids, CpuBuf... seqs) {
    if (batch < 0 || len < 0 || heads < 1 || dim < heads || dim % heads != 0) {
      throw new IllegalArgumentException(
          "attention needs batch, len >= 0 and dim divisible into heads >= 1 equal "
              + "parts, got batch "
              + batch
              + ", len "
              + len
              + ", dim "
              + dim
              + ", heads "
              + heads
              + ".");
    }
    if ((long) batch * heads * len * len > CpuBuf.MAX_FLOATS) {
      throw new IllegalArgumentException(
          "probs of batch "
              + batch
              + " x heads "
              + heads
              + " x len² "
              + len
              + "² do "
              + "not fit one CPU buffer; split the batch.");
    }
    if (ids.size < (long) batch * len) {
      throw new IllegalArgumentException(
          "ids hold " + ids.size + " ints, expected batch·len = " + (long) batch * len + ".");
    }
    for (CpuBuf x : seqs) {
      need("a (batch, len, dim) buffer", x, (long) batch * len * dim);
    }
  }

  private static void need(String what, CpuBuf x, long n) {
    if (x.size < n) {
      throw new IllegalArgumentException(
          what + " holds " + x.size + " floats, expected at least " + n + ".");
    }
  }
}
