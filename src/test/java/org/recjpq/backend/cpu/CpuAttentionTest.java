package org.recjpq.backend.cpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.util.Random;
import org.junit.jupiter.api.Test;
import org.recjpq.backend.Golden;
import org.recjpq.backend.GradCheck;

/**
 * {@link CpuAttention} against the float64 golden MHA layers, a double-precision reference with
 * finite differences, across thread counts, and on its masking rules; plus a printed timing. Shape
 * letters: B batch, T length, D dim, H heads.
 */
class CpuAttentionTest {

  /** Everything one forward + backward call produces, as host arrays. */
  record Result(float[] out, float[] probs, float[] dq, float[] dk, float[] dv) {}

  private static void requireBlas() {
    assumeTrue(Blas.isAvailable(), Blas.status().description());
  }

  /** Runs forward then backward; every output buffer starts as NaN so unwritten entries show. */
  static Result run(
      CpuOps ops,
      float[] q,
      float[] k,
      float[] v,
      float[] dOut,
      int[] ids,
      int batch,
      int len,
      int dim,
      int heads,
      boolean causal) {
    int n = batch * len * dim;
    CpuBuf qb = upload(ops, q);
    CpuBuf kb = upload(ops, k);
    CpuBuf vb = upload(ops, v);
    CpuBuf gb = upload(ops, dOut);
    CpuBuf out = nans(ops, n); // (B, T, D)
    CpuBuf probs = nans(ops, (long) batch * heads * len * len); // (B, H, T, T)
    CpuBuf dq = nans(ops, n);
    CpuBuf dk = nans(ops, n);
    CpuBuf dv = nans(ops, n);
    CpuIntBuf idb = CpuIntBuf.wrap(ids.clone());
    ops.attentionForward(out, probs, qb, kb, vb, idb, batch, len, dim, heads, causal);
    ops.attentionBackward(dq, dk, dv, gb, probs, qb, kb, vb, idb, batch, len, dim, heads, causal);
    return new Result(out.toArray(), probs.toArray(), dq.toArray(), dk.toArray(), dv.toArray());
  }

  private static CpuBuf upload(CpuOps ops, float[] a) {
    CpuBuf b = ops.alloc(a.length);
    ops.upload(b, a);
    return b;
  }

  private static CpuBuf nans(CpuOps ops, long n) {
    CpuBuf b = ops.alloc(n);
    ops.fill(b, Float.NaN);
    return b;
  }

  // ---- 1. golden MHA layers ----------------------------------------------------------------

  @Test
  void goldenCausal() {
    golden("mha_causal.json", true);
  }

  @Test
  void goldenBidirectional() {
    golden("mha_bidirectional.json", false);
  }

  /**
   * y = attention(x Wq + bq, x Wk + bk, x Wv + bv) Wo + bo, PAD rows of y zeroed; then all
   * gradients.
   */
  private static void golden(String file, boolean causal) {
    Golden g = Golden.load(file);
    requireBlas();
    assertEquals(causal ? 1.0 : 0.0, g.param("causal"), file + " causal flag");
    int batch = g.shape("x")[0];
    int len = g.shape("x")[1];
    int dim = g.shape("x")[2];
    int heads = (int) g.param("heads");
    int rows = batch * len;
    int[] pad = g.i("pad");
    int[] ids = new int[rows];
    for (int r = 0; r < rows; r++) {
      ids[r] = pad[r] == 1 ? -1 : r + 1;
    }
    try (CpuOps ops = new CpuOps(2)) {
      CpuIntBuf idb = CpuIntBuf.wrap(ids);
      CpuBuf x = upload(ops, g.f("x")); // (B·T, D), as every other (rows, D) buffer here
      String[] w = {"Wq", "Wk", "Wv", "Wo"};
      String[] bias = {"bq", "bk", "bv", "bo"};
      CpuBuf[] wb = new CpuBuf[4];
      CpuBuf[] bb = new CpuBuf[4];
      CpuBuf[] dw = new CpuBuf[4];
      CpuBuf[] db = new CpuBuf[4];
      for (int i = 0; i < 4; i++) {
        wb[i] = upload(ops, g.f(w[i])); // (D, D), [in][out]
        bb[i] = upload(ops, g.f(bias[i])); // (D)
        dw[i] = ops.alloc((long) dim * dim);
        db[i] = ops.alloc(dim);
      }
      CpuBuf[] qkv = new CpuBuf[3]; // Q, K, V (B, T, D)
      for (int i = 0; i < 3; i++) {
        qkv[i] = ops.alloc((long) rows * dim);
        ops.linearForward(qkv[i], x, wb[i], bb[i], rows, dim, dim);
      }
      CpuBuf ctx = ops.alloc((long) rows * dim);
      CpuBuf probs = ops.alloc((long) batch * heads * len * len);
      ops.attentionForward(ctx, probs, qkv[0], qkv[1], qkv[2], idb, batch, len, dim, heads, causal);
      CpuBuf y = ops.alloc((long) rows * dim);
      ops.linearForward(y, ctx, wb[3], bb[3], rows, dim, dim);
      ops.maskPadRows(y, idb, rows, dim);

      Golden.assertOutput(file + " y", y.toArray(), g.d("y"));
      Golden.assertOutput(file + " Q", qkv[0].toArray(), g.d("Q"));
      Golden.assertOutput(file + " K", qkv[1].toArray(), g.d("K"));
      Golden.assertOutput(file + " V", qkv[2].toArray(), g.d("V"));
      Golden.assertOutput(file + " probs", probs.toArray(), g.d("probs"));
      Golden.assertOutput(file + " ctx", ctx.toArray(), g.d("ctx"));

      CpuBuf dy = upload(ops, g.f("dOut"));
      ops.maskPadRows(dy, idb, rows, dim); // y's PAD rows are constants
      CpuBuf dctx = ops.alloc((long) rows * dim);
      ops.linearBackward(dctx, dw[3], db[3], dy, ctx, wb[3], rows, dim, dim);
      CpuBuf[] dqkv = new CpuBuf[3];
      for (int i = 0; i < 3; i++) {
        dqkv[i] = ops.alloc((long) rows * dim);
      }
      ops.attentionBackward(
          dqkv[0], dqkv[1], dqkv[2], dctx, probs, qkv[0], qkv[1], qkv[2], idb, batch, len, dim,
          heads, causal);
      CpuBuf dx = ops.alloc((long) rows * dim);
      CpuBuf dxPart = ops.alloc((long) rows * dim);
      for (int i = 0; i < 3; i++) { // linearBackward overwrites dIn: sum the three paths
        ops.linearBackward(dxPart, dw[i], db[i], dqkv[i], x, wb[i], rows, dim, dim);
        ops.addInPlace(dx, dxPart);
      }
      Golden.assertGrad(file + " dx", dx.toArray(), g.grad("x"));
      for (int i = 0; i < 4; i++) {
        Golden.assertGrad(file + " d" + w[i], dw[i].toArray(), g.grad(w[i]));
        Golden.assertGrad(file + " d" + bias[i], db[i].toArray(), g.grad(bias[i]));
      }
      float[] dxa = dx.toArray();
      for (int r = 0; r < rows; r++) {
        for (int c = 0; c < dim && pad[r] == 1; c++) {
          assertZero(dxa[r * dim + c], file + " dx at PAD row " + r);
        }
      }
    }
  }

  // ---- 2. double reference and finite differences ------------------------------------------

  /**
   * ids for B = 2, T = 6: sequence 0 PAD at the start, sequence 1 PAD in the middle and at the end.
   */
  private static final int[] SMALL_IDS = {-1, -1, 3, 4, 5, 6, 7, 8, 9, -1, 11, -1};

  @Test
  void finiteDifferencesCausalTwoHeads() {
    finiteDifferences(2, 6, 8, 2, true, SMALL_IDS, 11);
  }

  @Test
  void finiteDifferencesBidirectionalTwoHeads() {
    finiteDifferences(2, 6, 8, 2, false, SMALL_IDS, 12);
  }

  @Test
  void finiteDifferencesOneHeadOddDim() {
    finiteDifferences(2, 6, 5, 1, true, SMALL_IDS, 13);
    finiteDifferences(2, 6, 6, 3, false, SMALL_IDS, 14);
  }

  private static void finiteDifferences(
      int batch, int len, int dim, int heads, boolean causal, int[] ids, long seed) {
    requireBlas();
    Random rnd = new Random(seed);
    int n = batch * len * dim;
    // The double reference sees exactly the float inputs.
    double[] q = GradCheck.toDouble(GradCheck.toFloat(GradCheck.random(rnd, n, 1.5)));
    double[] k = GradCheck.toDouble(GradCheck.toFloat(GradCheck.random(rnd, n, 1.5)));
    double[] v = GradCheck.toDouble(GradCheck.toFloat(GradCheck.random(rnd, n, 1.0)));
    double[] dOut = GradCheck.toDouble(GradCheck.toFloat(GradCheck.random(rnd, n, 1.0)));
    Result r =
        run(
            new CpuOps(2),
            GradCheck.toFloat(q),
            GradCheck.toFloat(k),
            GradCheck.toFloat(v),
            GradCheck.toFloat(dOut),
            ids,
            batch,
            len,
            dim,
            heads,
            causal);
    String what =
        "B"
            + batch
            + " T"
            + len
            + " D"
            + dim
            + " H"
            + heads
            + (causal ? " causal" : " bidirectional");
    Golden.assertOutput(
        what + " out",
        r.out(),
        AttentionReference.forward(q, k, v, ids, batch, len, dim, heads, causal));
    Golden.assertOutput(
        what + " probs",
        r.probs(),
        AttentionReference.probs(q, k, ids, batch, len, dim, heads, causal));
    GradCheck.Scalar f =
        () -> AttentionReference.objective(q, k, v, dOut, ids, batch, len, dim, heads, causal);
    double[] fdq = GradCheck.numeric(q, f);
    double[] fdk = GradCheck.numeric(k, f);
    double[] fdv = GradCheck.numeric(v, f);
    GradCheck.assertMatches(what + " dq", r.dq(), fdq);
    GradCheck.assertMatches(what + " dk", r.dk(), fdk);
    GradCheck.assertMatches(what + " dv", r.dv(), fdv);
    // The analytic double backward used for the larger shapes below agrees with the differences.
    double[][] exact =
        AttentionReference.backward(q, k, v, dOut, ids, batch, len, dim, heads, causal);
    Golden.assertClose(what + " reference dq", GradCheck.toFloat(exact[0]), fdq, 1e-6, 1e-6);
    Golden.assertClose(what + " reference dk", GradCheck.toFloat(exact[1]), fdk, 1e-6, 1e-6);
    Golden.assertClose(what + " reference dv", GradCheck.toFloat(exact[2]), fdv, 1e-6, 1e-6);
  }

  /**
   * Windows of several row blocks (dim 64 at length 150 gives blocks of 28 rows for one head, 57
   * for two), left padding that puts the blocks off any fixed grid, PAD inside the window.
   */
  @Test
  void severalBlocksAgainstDoubleReference() {
    requireBlas();
    int batch = 3;
    int len = 150;
    int dim = 64;
    int[] ids = new int[batch * len];
    for (int t = 0; t < len; t++) {
      ids[t] = t < 7 ? -1 : t; // left-padded
      ids[len + t] = t % 37 == 5 ? -1 : t; // interior PAD
      ids[2 * len + t] = t > 130 || t < 3 ? -1 : t; // both ends
    }
    for (int heads : new int[] {1, 2}) {
      for (boolean causal : new boolean[] {true, false}) {
        compareWithReference(batch, len, dim, heads, causal, ids, 100 + heads);
      }
    }
  }

  private static void compareWithReference(
      int batch, int len, int dim, int heads, boolean causal, int[] ids, long seed) {
    Random rnd = new Random(seed);
    int n = batch * len * dim;
    double[] q = GradCheck.toDouble(GradCheck.toFloat(GradCheck.random(rnd, n, 1.0)));
    double[] k = GradCheck.toDouble(GradCheck.toFloat(GradCheck.random(rnd, n, 1.0)));
    double[] v = GradCheck.toDouble(GradCheck.toFloat(GradCheck.random(rnd, n, 1.0)));
    double[] dOut = GradCheck.toDouble(GradCheck.toFloat(GradCheck.random(rnd, n, 1.0)));
    Result r =
        run(
            new CpuOps(2),
            GradCheck.toFloat(q),
            GradCheck.toFloat(k),
            GradCheck.toFloat(v),
            GradCheck.toFloat(dOut),
            ids,
            batch,
            len,
            dim,
            heads,
            causal);
    String what = "T" + len + " H" + heads + (causal ? " causal" : " bidirectional");
    Golden.assertOutput(
        what + " out",
        r.out(),
        AttentionReference.forward(q, k, v, ids, batch, len, dim, heads, causal));
    Golden.assertOutput(
        what + " probs",
        r.probs(),
        AttentionReference.probs(q, k, ids, batch, len, dim, heads, causal));
    double[][] g = AttentionReference.backward(q, k, v, dOut, ids, batch, len, dim, heads, causal);
    Golden.assertGrad(what + " dq", r.dq(), g[0]);
    Golden.assertGrad(what + " dk", r.dk(), g[1]);
    Golden.assertGrad(what + " dv", r.dv(), g[2]);
    Result one =
        run(
            new CpuOps(1),
            GradCheck.toFloat(q),
            GradCheck.toFloat(k),
            GradCheck.toFloat(v),
            GradCheck.toFloat(dOut),
            ids,
            batch,
            len,
            dim,
            heads,
            causal);
    assertSameBits(what, r, one);
  }

  private static void assertSameBits(String what, Result a, Result b) {
    assertArrayEquals(a.out(), b.out(), what + " out");
    assertArrayEquals(a.probs(), b.probs(), what + " probs");
    assertArrayEquals(a.dq(), b.dq(), what + " dq");
    assertArrayEquals(a.dk(), b.dk(), what + " dk");
    assertArrayEquals(a.dv(), b.dv(), what + " dv");
  }

  // ---- 3. thread-count independence -----------------------------------------------------------

  @Test
  void sameBitsForOneAndThreeThreads() {
    requireBlas();
    int batch = 5;
    int len = 33;
    int dim = 16;
    int heads = 2;
    Random rnd = new Random(5);
    int n = batch * len * dim;
    float[] q = GradCheck.toFloat(GradCheck.random(rnd, n, 1.0));
    float[] k = GradCheck.toFloat(GradCheck.random(rnd, n, 1.0));
    float[] v = GradCheck.toFloat(GradCheck.random(rnd, n, 1.0));
    float[] dOut = GradCheck.toFloat(GradCheck.random(rnd, n, 1.0));
    int[] ids = new int[batch * len];
    for (int b = 0; b < batch; b++) {
      for (int t = 0; t < len; t++) {
        ids[b * len + t] = t < 6 * b || (b == 3 && t == 20) ? -1 : t; // sequence 0 unpadded
      }
    }
    for (boolean causal : new boolean[] {true, false}) {
      Result one = run(new CpuOps(1), q, k, v, dOut, ids, batch, len, dim, heads, causal);
      Result three = run(new CpuOps(3), q, k, v, dOut, ids, batch, len, dim, heads, causal);
      assertSameBits(causal ? "causal" : "bidirectional", one, three);
    }
  }

  // ---- 4. masking ------------------------------------------------------------------------------

  /** Masked probs, PAD query outputs and PAD gradients are exactly 0; visible rows sum to 1. */
  @Test
  void maskedEntriesAndPadRowsAreExactlyZero() {
    requireBlas();
    int batch = 3;
    int len = 9;
    int dim = 8;
    int heads = 2;
    int[] ids = {
      -1, -1, -1, 4, 5, 6, 7, 8, 9, // left-padded
      1, 2, -1, 4, -1, 6, 7, -1, -1, // PAD inside and at the end
      -1, -1, -1, -1, -1, -1, -1, -1, -1 // nothing but PAD
    };
    Random rnd = new Random(77);
    int n = batch * len * dim;
    float[] q = GradCheck.toFloat(GradCheck.random(rnd, n, 2.0));
    float[] k = GradCheck.toFloat(GradCheck.random(rnd, n, 2.0));
    float[] v = GradCheck.toFloat(GradCheck.random(rnd, n, 1.0));
    float[] dOut =
        GradCheck.toFloat(GradCheck.random(rnd, n, 1.0)); // nonzero at PAD rows on purpose
    for (boolean causal : new boolean[] {true, false}) {
      Result r = run(new CpuOps(2), q, k, v, dOut, ids, batch, len, dim, heads, causal);
      for (int b = 0; b < batch; b++) {
        for (int h = 0; h < heads; h++) {
          for (int i = 0; i < len; i++) {
            double sum = 0;
            for (int j = 0; j < len; j++) {
              float p = r.probs()[((b * heads + h) * len + i) * len + j];
              if (AttentionReference.visible(ids, b, len, i, j, causal)) {
                sum += p;
              } else {
                assertZero(p, "masked prob b" + b + " h" + h + " i" + i + " j" + j);
              }
            }
            assertEquals(
                ids[b * len + i] < 0 ? 0.0 : 1.0, sum, 1e-6, "row sum b" + b + " h" + h + " i" + i);
          }
        }
        for (int t = 0; t < len; t++) {
          if (ids[b * len + t] >= 0) {
            continue;
          }
          for (int c = 0; c < dim; c++) {
            int e = (b * len + t) * dim + c;
            String at = " at PAD b" + b + " t" + t + " c" + c;
            assertZero(r.out()[e], "out" + at);
            assertZero(r.dq()[e], "dq" + at);
            assertZero(r.dk()[e], "dk" + at);
            assertZero(r.dv()[e], "dv" + at);
          }
        }
      }
    }
  }

  /** The softmax's exponential against Math.exp on a fine grid of [-90, 0]. */
  @Test
  void expfIsWithinOneUlpOfMathExp() {
    assertEquals(1f, CpuAttention.expf(0f));
    assertEquals(0f, CpuAttention.expf(Float.NEGATIVE_INFINITY));
    assertEquals(0f, CpuAttention.expf(-90f));
    for (float x = -87.3f; x <= 0f; x += 1e-3f) {
      double exact = Math.exp(x);
      double err = Math.abs(CpuAttention.expf(x) - exact);
      if (err > Math.ulp((float) exact)) {
        throw new AssertionError("expf(" + x + ") = " + CpuAttention.expf(x) + ", exact " + exact);
      }
    }
  }

  /** Exactly zero; either sign, since the sign of a zero sum is up to the BLAS kernel. */
  private static void assertZero(float value, String what) {
    assertTrue(value == 0f, what + " is " + value + ", expected exactly 0");
  }

  // ---- timing (printed, not asserted) ----------------------------------------------------------

  @Test
  void timeTrainingShape() {
    requireBlas();
    int batch = 128;
    int len = 200;
    int dim = 64;
    Random rnd = new Random(1);
    int n = batch * len * dim;
    try (CpuOps ops = new CpuOps()) {
      CpuBuf q = upload(ops, GradCheck.toFloat(GradCheck.random(rnd, n, 1.0)));
      CpuBuf k = upload(ops, GradCheck.toFloat(GradCheck.random(rnd, n, 1.0)));
      CpuBuf v = upload(ops, GradCheck.toFloat(GradCheck.random(rnd, n, 1.0)));
      CpuBuf dOut = upload(ops, GradCheck.toFloat(GradCheck.random(rnd, n, 1.0)));
      CpuBuf out = ops.alloc(n);
      CpuBuf dq = ops.alloc(n);
      CpuBuf dk = ops.alloc(n);
      CpuBuf dv = ops.alloc(n);
      int[] full = new int[batch * len]; // no PAD: the worst case
      int[] padded = new int[batch * len]; // left-padded, real lengths spread over 1..len
      for (int b = 0; b < batch; b++) {
        int real = 1 + (int) ((long) b * (len - 1) / (batch - 1));
        for (int t = 0; t < len; t++) {
          full[b * len + t] = t;
          padded[b * len + t] = t < len - real ? -1 : t;
        }
      }
      for (int heads : new int[] {1, 2}) {
        CpuBuf probs = ops.alloc((long) batch * heads * len * len);
        for (boolean causal : new boolean[] {true, false}) {
          for (int[] ids : new int[][] {full, padded}) {
            CpuIntBuf idb = CpuIntBuf.wrap(ids);
            double bestF = Double.MAX_VALUE;
            double bestB = Double.MAX_VALUE;
            for (int rep = 0; rep < 6; rep++) {
              long t0 = System.nanoTime();
              ops.attentionForward(out, probs, q, k, v, idb, batch, len, dim, heads, causal);
              long t1 = System.nanoTime();
              ops.attentionBackward(
                  dq, dk, dv, dOut, probs, q, k, v, idb, batch, len, dim, heads, causal);
              long t2 = System.nanoTime();
              if (rep >= 1) { // the first is warm-up
                bestF = Math.min(bestF, (t1 - t0) / 1e6);
                bestB = Math.min(bestB, (t2 - t1) / 1e6);
              }
            }
            System.out.printf(
                "attention B%d T%d D%d H%d %s %s (%d threads): forward %.1f ms, backward %.1f ms,"
                    + " total %.1f ms (best of 5)%n",
                batch,
                len,
                dim,
                heads,
                causal ? "causal" : "bidirectional",
                ids == full ? "no PAD" : "left-padded 1..T",
                ops.threads,
                bestF,
                bestB,
                bestF + bestB);
          }
        }
      }
    }
  }
}
