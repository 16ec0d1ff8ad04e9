package org.recjpq.backend.cpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.Random;
import org.junit.jupiter.api.Test;
import org.recjpq.backend.Golden;
import org.recjpq.backend.GradCheck;
import org.recjpq.backend.ItemTable;

/**
 * The sampled scoring heads and losses of {@link CpuLosses}: the golden float64 references (BCE,
 * gBCE, sampled softmax with logQ, on RecJPQ items), double-precision finite differences on random
 * shapes (dense and RecJPQ), the ignore rule and independence from the thread count.
 */
class CpuLossesTest {
  static final int B = 256;

  // ---- golden ------------------------------------------------------------------------------

  @Test
  void bceGolden() {
    checkBinaryGolden("bce_neg.json", 1f);
  }

  @Test
  void gbceCalibratedGolden() {
    Golden g = Golden.load("gbce_t0.75.json");
    checkBinaryGolden("gbce_t0.75.json", (float) g.param("beta"));
  }

  @Test
  void gbceT0IsBceGolden() {
    Golden g = Golden.load("gbce_t0.json");
    assertEquals(1.0, g.param("beta"));
    checkBinaryGolden("gbce_t0.json", (float) g.param("beta"));
  }

  private static void checkBinaryGolden(String file, float beta) {
    Golden g = Golden.load(file);
    CpuOps ops = new CpuOps(2);
    JpqCase c = JpqCase.of(g, "neg");
    CpuBuf scores = CpuBuf.allocate((long) c.rows * c.cols);
    c.table(ops).sampledScores(scores, c.h, c.items, c.targets, c.codebooks, c.rows, c.cols);
    float[] sc = scores.toArray();
    Golden.assertOutput(file + " s_pos", column(sc, c.cols, 0), g.d("s_pos"));
    Golden.assertOutput(file + " s_neg", dropColumn0(sc, c.cols), g.d("s_neg"));

    CpuBuf dScores = CpuBuf.allocate((long) c.rows * c.cols);
    double loss = ops.bceLoss(dScores, scores, c.targets, c.rows, c.cols - 1, beta);
    Golden.assertOutput(file + " loss", new float[] {(float) loss}, g.d("loss"));
    float[] ds = dScores.toArray();
    Golden.assertGrad(file + " d s_pos", column(ds, c.cols, 0), g.grad("s_pos"));
    Golden.assertGrad(file + " d s_neg", dropColumn0(ds, c.cols), g.grad("s_neg"));

    CpuBuf dH = filled(c.rows * c.d, Float.NaN); // overwritten, even on ignored rows
    CpuBuf dCb = CpuBuf.allocate(c.m * B * c.s);
    c.table(ops)
        .sampledScoresBackward(
            dH, dCb, dScores, c.h, c.items, c.targets, c.codebooks, c.rows, c.cols);
    Golden.assertGrad(file + " dh", dH.toArray(), g.grad("h"));
    Golden.assertGrad(file + " dcodebooks", c.shrink(dCb.toArray()), g.grad("codebooks"));
  }

  @Test
  void sampledSoftmaxGolden() {
    String file = "sampled_softmax_logq.json";
    Golden g = Golden.load(file);
    CpuOps ops = new CpuOps(2);
    JpqCase c = JpqCase.of(g, "neg");
    double[] q = g.d("q");
    CpuBuf scores = CpuBuf.allocate((long) c.rows * c.cols);
    c.table(ops).sampledScores(scores, c.h, c.items, c.targets, c.codebooks, c.rows, c.cols);
    float[] logQ = new float[c.rows * c.cols];
    for (int x = 0; x < logQ.length; x++) {
      int item = c.items.get(x);
      logQ[x] = item < 0 ? 0f : (float) Math.log(q[item]);
    }
    CpuBuf lq = buf(logQ);
    float[] logits = scores.toArray();
    for (int x = 0; x < logits.length; x++) {
      logits[x] = c.targets.get(x / c.cols) < 0 ? 0f : logits[x] - logQ[x];
    }
    Golden.assertOutput(file + " logits", logits, g.d("logits"));
    CpuBuf dScores = CpuBuf.allocate((long) c.rows * c.cols);
    double loss = ops.sampledSoftmaxLoss(dScores, scores, lq, c.targets, c.rows, c.cols - 1);
    Golden.assertOutput(file + " loss", new float[] {(float) loss}, g.d("loss"));
    Golden.assertGrad(file + " d logits", dScores.toArray(), g.grad("logits"));
    CpuBuf dH = CpuBuf.allocate(c.rows * c.d);
    CpuBuf dCb = CpuBuf.allocate(c.m * B * c.s);
    c.table(ops)
        .sampledScoresBackward(
            dH, dCb, dScores, c.h, c.items, c.targets, c.codebooks, c.rows, c.cols);
    Golden.assertGrad(file + " dh", dH.toArray(), g.grad("h"));
    Golden.assertGrad(file + " dcodebooks", c.shrink(dCb.toArray()), g.grad("codebooks"));
  }

  /** A golden sampled case: items = [pos, negs...] per row, codebooks widened to 256 sub-ids. */
  record JpqCase(
      int rows,
      int cols,
      int m,
      int b,
      int s,
      int d,
      CpuBuf h,
      CpuIntBuf items,
      CpuIntBuf targets,
      CpuByteBuf codes,
      CpuBuf codebooks) {
    static JpqCase of(Golden g, String negName) {
      int[] cbShape = g.shape("codebooks");
      int m = cbShape[0];
      int b = cbShape[1];
      int s = cbShape[2];
      int[] pos = g.i("pos");
      int[] neg = g.i(negName);
      int rows = pos.length;
      int n = neg.length / rows;
      int cols = n + 1;
      int[] items = new int[rows * cols];
      for (int r = 0; r < rows; r++) {
        items[r * cols] = pos[r];
        for (int j = 0; j < n; j++) {
          items[r * cols + 1 + j] = neg[r * n + j];
        }
      }
      return new JpqCase(
          rows,
          cols,
          m,
          b,
          s,
          m * s,
          buf(g.f("h")),
          CpuIntBuf.wrap(items),
          CpuIntBuf.wrap(pos),
          CpuByteBuf.wrap(g.bytes("codes")),
          buf(widen(g.f("codebooks"), m, b, s)));
    }

    /** The case's RecJPQ item table on {@code ops}. */
    ItemTable table(CpuOps ops) {
      return ops.jpqTable(codes, (int) codes.size() / m, m, s);
    }

    /** The (m, b, s) part of a (m, 256, s) gradient, checking the rest is exactly 0. */
    float[] shrink(float[] g256) {
      return CpuLossesTest.shrink(g256, m, b, s);
    }
  }

  // ---- finite differences ------------------------------------------------------------------

  /** A random problem: rows 0 and rows-1 ignored, one PAD item, item collisions, codes < 6. */
  static final class Problem {
    final int rows = 6;
    final int n = 3;
    final int cols = n + 1;
    final int m = 2;
    final int s = 3;
    final int d = m * s;
    final int items = 7;
    final int[] targets = new int[rows];
    final int[] ids = new int[rows * cols];
    final byte[] codes = new byte[items * m];
    final double[] h;
    final double[] codebooks; // (m, 256, s)
    final double[] table; // (items, d)
    final double[] logQ;

    Problem(long seed) {
      Random rnd = new Random(seed);
      for (int r = 0; r < rows; r++) {
        targets[r] = r == 0 || r == rows - 1 ? -1 : rnd.nextInt(items);
        ids[r * cols] = targets[r];
        for (int j = 1; j < cols; j++) {
          ids[r * cols + j] = rnd.nextInt(items);
        }
      }
      ids[2 * cols + 1] = targets[2]; // a negative equal to the positive
      ids[3 * cols + 2] = -1; // a PAD negative
      for (int x = 0; x < codes.length; x++) {
        codes[x] = (byte) rnd.nextInt(6);
      }
      h = GradCheck.random(rnd, rows * d, 1.0);
      codebooks = GradCheck.random(rnd, m * B * s, 1.0);
      table = GradCheck.random(rnd, items * d, 1.0);
      logQ = GradCheck.random(rnd, rows * cols, 2.0);
      round(h);
      round(codebooks);
      round(table);
      round(logQ);
    }

    double[] embedding(boolean jpq, double[] tbl, int item) {
      double[] e = new double[d];
      for (int k = 0; k < m; k++) {
        for (int j = 0; j < s; j++) {
          e[k * s + j] =
              jpq ? tbl[(k * B + (codes[item * m + k] & 0xff)) * s + j] : tbl[item * d + k * s + j];
        }
      }
      return e;
    }

    double[] scores(boolean jpq, double[] hh, double[] tbl) {
      double[] sc = new double[rows * cols];
      for (int r = 0; r < rows; r++) {
        for (int c = 0; c < cols; c++) {
          int item = ids[r * cols + c];
          if (targets[r] < 0 || item < 0) {
            continue;
          }
          double[] e = embedding(jpq, tbl, item);
          for (int j = 0; j < d; j++) {
            sc[r * cols + c] += hh[r * d + j] * e[j];
          }
        }
      }
      return sc;
    }

    double bce(double[] sc, double beta) {
      double sum = 0;
      int valid = 0;
      for (int r = 0; r < rows; r++) {
        if (targets[r] < 0) {
          continue;
        }
        valid++;
        double l = beta * softplus(-sc[r * cols]);
        for (int c = 1; c < cols; c++) {
          l += softplus(sc[r * cols + c]);
        }
        sum += l / cols;
      }
      return sum / valid;
    }

    double softmax(double[] sc) {
      double sum = 0;
      int valid = 0;
      for (int r = 0; r < rows; r++) {
        if (targets[r] < 0) {
          continue;
        }
        valid++;
        double z = 0;
        for (int c = 0; c < cols; c++) {
          z += Math.exp(sc[r * cols + c] - logQ[r * cols + c]);
        }
        sum += Math.log(z) - (sc[r * cols] - logQ[r * cols]);
      }
      return sum / valid;
    }
  }

  static double softplus(double x) {
    return Math.log1p(Math.exp(-Math.abs(x))) + Math.max(x, 0);
  }

  @Test
  void bceAndGbceMatchFiniteDifferencesDenseAndJpq() {
    for (boolean jpq : new boolean[] {false, true}) {
      for (float beta : new float[] {1f, 0.35f}) {
        Problem p = new Problem(jpq ? 11 : 12);
        checkChain(
            p,
            jpq,
            sc -> p.bce(sc, beta),
            (ops, ds, sc) -> ops.bceLoss(ds, sc, CpuIntBuf.wrap(p.targets), p.rows, p.n, beta),
            "bce beta " + beta + (jpq ? " jpq" : " dense"));
      }
    }
  }

  @Test
  void sampledSoftmaxMatchesFiniteDifferencesDenseAndJpq() {
    for (boolean jpq : new boolean[] {false, true}) {
      Problem p = new Problem(jpq ? 21 : 22);
      CpuBuf lq = buf(GradCheck.toFloat(p.logQ));
      checkChain(
          p,
          jpq,
          p::softmax,
          (ops, ds, sc) ->
              ops.sampledSoftmaxLoss(ds, sc, lq, CpuIntBuf.wrap(p.targets), p.rows, p.n),
          "sampled softmax" + (jpq ? " jpq" : " dense"));
    }
  }

  interface DoubleLoss {
    double of(double[] scores);
  }

  interface EngineLoss {
    double run(CpuOps ops, CpuBuf dScores, CpuBuf scores);
  }

  /** Scores → loss → backward on the engine against finite differences of the double chain. */
  private static void checkChain(
      Problem p, boolean jpq, DoubleLoss loss, EngineLoss engine, String what) {
    CpuOps ops = new CpuOps(2);
    double[] tbl = jpq ? p.codebooks : p.table;
    CpuBuf h = buf(GradCheck.toFloat(p.h));
    CpuBuf table = buf(GradCheck.toFloat(tbl));
    CpuIntBuf items = CpuIntBuf.wrap(p.ids);
    CpuIntBuf targets = CpuIntBuf.wrap(p.targets);
    CpuByteBuf codes = CpuByteBuf.wrap(p.codes);
    ItemTable t = jpq ? ops.jpqTable(codes, p.items, p.m, p.s) : ops.denseTable(p.items, p.d);
    CpuBuf scores = CpuBuf.allocate(p.rows * p.cols);
    t.sampledScores(scores, h, items, targets, table, p.rows, p.cols);
    double[] refScores = p.scores(jpq, p.h, tbl);
    Golden.assertOutput(what + " scores", scores.toArray(), refScores);
    CpuBuf dScores = CpuBuf.allocate(p.rows * p.cols);
    double value = engine.run(ops, dScores, scores);
    assertEquals(loss.of(refScores), value, 1e-5 + 1e-4 * Math.abs(value), what + " loss");
    double[] sc = refScores.clone();
    GradCheck.assertMatches(
        what + " d scores", dScores.toArray(), GradCheck.numeric(sc, () -> loss.of(sc)));
    CpuBuf dH = filled(p.rows * p.d, Float.NaN);
    CpuBuf dTable = CpuBuf.allocate(tbl.length);
    t.sampledScoresBackward(dH, dTable, dScores, h, items, targets, table, p.rows, p.cols);
    double[] hh = p.h.clone();
    GradCheck.assertMatches(
        what + " dh", dH.toArray(), GradCheck.numeric(hh, () -> loss.of(p.scores(jpq, hh, tbl))));
    double[] tt = tbl.clone();
    GradCheck.assertMatches(
        what + " dtable",
        dTable.toArray(),
        GradCheck.numeric(tt, () -> loss.of(p.scores(jpq, p.h, tt))));
  }

  // ---- contract details --------------------------------------------------------------------

  @Test
  void ignoredRowsScoreZeroAndGetNoGradientAndTablesAccumulate() {
    CpuOps ops = new CpuOps(2);
    Problem p = new Problem(5);
    CpuBuf h = buf(GradCheck.toFloat(p.h));
    CpuBuf table = buf(GradCheck.toFloat(p.table));
    CpuIntBuf items = CpuIntBuf.wrap(p.ids);
    CpuIntBuf targets = CpuIntBuf.wrap(p.targets);
    ItemTable dense = ops.denseTable(p.items, p.d);
    CpuBuf scores = filled(p.rows * p.cols, Float.NaN);
    dense.sampledScores(scores, h, items, targets, table, p.rows, p.cols);
    float[] sc = scores.toArray();
    for (int c = 0; c < p.cols; c++) {
      assertEquals(0f, sc[c]);
      assertEquals(0f, sc[(p.rows - 1) * p.cols + c]);
    }
    assertEquals(0f, sc[3 * p.cols + 2], "a PAD item scores 0");
    // A NaN upstream gradient on ignored rows must not leak; the table gradient accumulates.
    float[] up = GradCheck.toFloat(GradCheck.random(new Random(3), p.rows * p.cols, 1));
    for (int c = 0; c < p.cols; c++) {
      up[c] = Float.NaN;
    }
    CpuBuf dScores = buf(up);
    CpuBuf dH = filled(p.rows * p.d, Float.NaN);
    CpuBuf once = CpuBuf.allocate(p.table.length);
    dense.sampledScoresBackward(dH, once, dScores, h, items, targets, table, p.rows, p.cols);
    CpuBuf twice = filled(p.table.length, 0f);
    dense.sampledScoresBackward(dH, twice, dScores, h, items, targets, table, p.rows, p.cols);
    dense.sampledScoresBackward(dH, twice, dScores, h, items, targets, table, p.rows, p.cols);
    float[] a = once.toArray();
    float[] b = twice.toArray();
    for (int x = 0; x < a.length; x++) {
      assertEquals(2 * a[x], b[x], 1e-6f, "dTable accumulates");
    }
    float[] dh = dH.toArray();
    for (int j = 0; j < p.d; j++) {
      assertEquals(0f, dh[j]);
      assertEquals(0f, dh[(p.rows - 1) * p.d + j]);
    }
    // Losses: 0 gradient on ignored rows even when their scores are garbage.
    float[] garbage = sc.clone();
    for (int c = 0; c < p.cols; c++) {
      garbage[c] = Float.NaN;
    }
    CpuBuf ds = filled(p.rows * p.cols, Float.NaN);
    double loss = ops.bceLoss(ds, buf(garbage), targets, p.rows, p.n, 1f);
    assertEquals(p.bce(GradCheck.toDouble(sc), 1), loss, 1e-5);
    for (int c = 0; c < p.cols; c++) {
      assertEquals(0f, ds.get(c));
    }
    CpuIntBuf none = CpuIntBuf.wrap(new int[] {-1, -1});
    assertEquals(0.0, ops.bceLoss(CpuBuf.allocate(8), CpuBuf.allocate(8), none, 2, 3, 1f));
    assertEquals(
        0.0,
        ops.sampledSoftmaxLoss(
            CpuBuf.allocate(8), CpuBuf.allocate(8), CpuBuf.allocate(8), none, 2, 3));
  }

  @Test
  void rejectsItemsOutsideTheTable() {
    CpuOps ops = new CpuOps(1);
    CpuIntBuf items = CpuIntBuf.wrap(new int[] {0, 5});
    CpuIntBuf targets = CpuIntBuf.wrap(new int[] {0});
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class,
            () ->
                ops.denseTable(5, 2)
                    .sampledScores(
                        CpuBuf.allocate(2),
                        CpuBuf.allocate(2),
                        items,
                        targets,
                        CpuBuf.allocate(10),
                        1,
                        2));
    assertEquals("item 5 at row 0, column 1 is outside the item table of 5 items.", e.getMessage());
  }

  @Test
  void sameBitsForAnyThreadCount() {
    Random rnd = new Random(77);
    int rows = 300;
    int cols = 9;
    int m = 4;
    int s = 8;
    int d = m * s;
    int items = 500;
    int[] ids = new int[rows * cols];
    int[] targets = new int[rows];
    for (int r = 0; r < rows; r++) {
      targets[r] = r % 7 == 0 ? -1 : rnd.nextInt(items);
      for (int c = 0; c < cols; c++) {
        ids[r * cols + c] = c == 0 ? targets[r] : rnd.nextInt(items);
      }
    }
    byte[] codes = new byte[items * m];
    rnd.nextBytes(codes);
    float[] h = GradCheck.toFloat(GradCheck.random(rnd, rows * d, 1));
    float[] cb = GradCheck.toFloat(GradCheck.random(rnd, m * B * s, 0.5));
    float[] table = GradCheck.toFloat(GradCheck.random(rnd, items * d, 0.5));
    float[] logQ = GradCheck.toFloat(GradCheck.random(rnd, rows * cols, 3));
    float[][] ref = null;
    for (int threads : new int[] {1, 3}) {
      CpuOps ops = new CpuOps(threads);
      float[][] out = new float[6][];
      CpuBuf sc = CpuBuf.allocate(rows * cols);
      ItemTable jpq = ops.jpqTable(CpuByteBuf.wrap(codes), items, m, s);
      ItemTable dense = ops.denseTable(items, d);
      jpq.sampledScores(
          sc, buf(h), CpuIntBuf.wrap(ids), CpuIntBuf.wrap(targets), buf(cb), rows, cols);
      CpuBuf ds = CpuBuf.allocate(rows * cols);
      double l1 = ops.bceLoss(ds, sc, CpuIntBuf.wrap(targets), rows, cols - 1, 0.4f);
      CpuBuf dh = CpuBuf.allocate(rows * d);
      CpuBuf dcb = CpuBuf.allocate(cb.length);
      jpq.sampledScoresBackward(
          dh, dcb, ds, buf(h), CpuIntBuf.wrap(ids), CpuIntBuf.wrap(targets), buf(cb), rows, cols);
      CpuBuf sd = CpuBuf.allocate(rows * cols);
      dense.sampledScores(
          sd, buf(h), CpuIntBuf.wrap(ids), CpuIntBuf.wrap(targets), buf(table), rows, cols);
      CpuBuf ds2 = CpuBuf.allocate(rows * cols);
      double l2 =
          ops.sampledSoftmaxLoss(ds2, sd, buf(logQ), CpuIntBuf.wrap(targets), rows, cols - 1);
      CpuBuf dh2 = CpuBuf.allocate(rows * d);
      CpuBuf dt = CpuBuf.allocate(table.length);
      dense.sampledScoresBackward(
          dh2,
          dt,
          ds2,
          buf(h),
          CpuIntBuf.wrap(ids),
          CpuIntBuf.wrap(targets),
          buf(table),
          rows,
          cols);
      out[0] =
          new float[] {
            (float) l1, (float) l2, (float) (l1 - (float) l1), (float) (l2 - (float) l2)
          };
      out[1] = dh.toArray();
      out[2] = dcb.toArray();
      out[3] = dh2.toArray();
      out[4] = dt.toArray();
      out[5] = ds2.toArray();
      if (ref == null) {
        ref = out;
      } else {
        for (int x = 0; x < out.length; x++) {
          assertArrayEquals(ref[x], out[x], "output " + x + " with " + threads + " threads");
        }
      }
    }
  }

  // ---- helpers -----------------------------------------------------------------------------

  static CpuBuf buf(float[] a) {
    CpuBuf b = CpuBuf.allocate(a.length);
    b.put(a);
    return b;
  }

  static CpuBuf filled(int n, float v) {
    CpuBuf b = CpuBuf.allocate(n);
    for (int i = 0; i < n; i++) {
      b.set(i, v);
    }
    return b;
  }

  /** Rounds to float so the double reference sees exactly the engine's inputs. */
  static void round(double[] a) {
    for (int i = 0; i < a.length; i++) {
      a[i] = (float) a[i];
    }
  }

  static float[] widen(float[] cb, int m, int b, int s) {
    float[] w = new float[m * B * s];
    for (int k = 0; k < m; k++) {
      System.arraycopy(cb, k * b * s, w, k * B * s, b * s);
    }
    return w;
  }

  static float[] shrink(float[] g256, int m, int b, int s) {
    float[] g = new float[m * b * s];
    for (int k = 0; k < m; k++) {
      System.arraycopy(g256, k * B * s, g, k * b * s, b * s);
      for (int x = b * s; x < B * s; x++) {
        assertEquals(0f, g256[k * B * s + x], "unused sub-id rows get no gradient");
      }
    }
    return g;
  }

  static float[] column(float[] a, int cols, int c) {
    float[] out = new float[a.length / cols];
    for (int r = 0; r < out.length; r++) {
      out[r] = a[r * cols + c];
    }
    return out;
  }

  static float[] dropColumn0(float[] a, int cols) {
    int rows = a.length / cols;
    float[] out = new float[rows * (cols - 1)];
    for (int r = 0; r < rows; r++) {
      System.arraycopy(a, r * cols + 1, out, r * (cols - 1), cols - 1);
    }
    return out;
  }
}
