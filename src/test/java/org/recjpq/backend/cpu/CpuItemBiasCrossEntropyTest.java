package org.recjpq.backend.cpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.recjpq.backend.cpu.CpuLossesTest.buf;
import static org.recjpq.backend.cpu.CpuLossesTest.filled;

import java.util.Random;
import org.junit.jupiter.api.Test;
import org.recjpq.backend.Golden;
import org.recjpq.backend.GradCheck;
import org.recjpq.backend.cpu.CpuFullCrossEntropy.Result;
import org.recjpq.backend.cpu.CpuFullCrossEntropy.Strategy;
import org.recjpq.backend.cpu.CpuFullCrossEntropyTest.Problem;
import org.recjpq.backend.cpu.CpuLosses.ItemTable;

/**
 * The full cross-entropy with per-item score offsets, {@code score(r, i) = h_r · e_i + b_i}: loss
 * and every gradient (dh, the table or codebooks, dBias) against finite differences of the plain
 * definition in double, for the dense table and both RecJPQ strategies, in one tile (the single
 * pass) and in tiles that do not divide N; dBias accumulates; the bits do not depend on the thread
 * count.
 */
class CpuItemBiasCrossEntropyTest {

  /** The plain definition with offsets. */
  private static double loss(Problem p, double[] hh, double[] e, double[] bias) {
    double sum = 0;
    int valid = 0;
    double[] z = new double[p.n];
    for (int r = 0; r < p.rows; r++) {
      if (p.target[r] < 0) {
        continue;
      }
      valid++;
      double max = Double.NEGATIVE_INFINITY;
      for (int i = 0; i < p.n; i++) {
        z[i] = bias[i];
        for (int j = 0; j < p.d; j++) {
          z[i] += hh[r * p.d + j] * e[i * p.d + j];
        }
        max = Math.max(max, z[i]);
      }
      double acc = 0;
      for (int i = 0; i < p.n; i++) {
        acc += Math.exp(z[i] - max);
      }
      sum += max + Math.log(acc) - z[p.target[r]];
    }
    return sum / valid;
  }

  private static double[] bias(long seed, int n) {
    double[] b = GradCheck.random(new Random(seed), n, 2);
    CpuLossesTest.round(b);
    return b;
  }

  @Test
  void lossAndEveryGradientMatchFiniteDifferences() {
    // {rows, items, tile, row block}: one tile (the single pass), tiles of 4 over 13 items, blocks
    // of
    // 2 rows around the ignored ones, and one row (the look-up strategy in several work units).
    for (int[] shape : new int[][] {{7, 13, 0, 0}, {7, 13, 4, 2}, {1, 40, 3, 0}}) {
      Problem p = new Problem(shape[0] * 17L + shape[1], shape[0], shape[1], 2, 3, 1.5);
      double[] b = bias(shape[1], p.n);
      check(p, b, false, Strategy.GEMM, shape[2], shape[3]);
      check(p, b, true, Strategy.GEMM, shape[2], shape[3]);
      check(p, b, true, Strategy.LOOKUP, shape[2], shape[3]);
    }
  }

  private static void check(
      Problem p, double[] b, boolean jpq, Strategy strategy, int tile, int rowBlock) {
    double[] tbl = jpq ? p.codebooks : p.table;
    CpuBuf table = buf(GradCheck.toFloat(tbl));
    ItemTable t =
        jpq
            ? ItemTable.jpq(CpuByteBuf.wrap(p.codes), table, p.m, p.s)
            : ItemTable.dense(table, p.d);
    CpuBuf dH = filled(p.rows * p.d, Float.NaN);
    CpuBuf dT = CpuBuf.allocate(tbl.length);
    float[] start = new float[p.n];
    start[0] = 0.25f; // dBias accumulates
    CpuBuf dB = buf(start.clone());
    Result res =
        CpuFullCrossEntropy.run(
            new CpuOps(2),
            dH,
            dT,
            dB,
            buf(GradCheck.toFloat(p.h)),
            CpuIntBuf.wrap(p.target),
            t,
            buf(GradCheck.toFloat(b)),
            p.rows,
            p.n,
            strategy,
            tile,
            rowBlock);
    String what = (jpq ? "jpq " : "dense ") + res.plan();
    double ref = loss(p, p.h, p.embeddings(jpq, tbl), b);
    assertEquals(ref, res.loss(), 1e-5 + 1e-4 * Math.abs(ref), what + " loss");
    double[] hh = p.h.clone();
    GradCheck.assertMatches(
        what + " dh",
        dH.toArray(),
        GradCheck.numeric(hh, () -> loss(p, hh, p.embeddings(jpq, tbl), b)));
    double[] tt = tbl.clone();
    GradCheck.assertMatches(
        what + " dtable",
        dT.toArray(),
        GradCheck.numeric(tt, () -> loss(p, p.h, p.embeddings(jpq, tt), b)));
    double[] bb = b.clone();
    double[] numeric = GradCheck.numeric(bb, () -> loss(p, p.h, p.embeddings(jpq, tbl), bb));
    numeric[0] += start[0];
    GradCheck.assertMatches(what + " dbias", dB.toArray(), numeric);
  }

  /** One call's outputs. */
  private record Out(double loss, float[] dH, float[] dTable, float[] dBias) {}

  private static Out run(
      Problem p, double[] b, boolean jpq, Strategy strategy, int tile, int threads) {
    double[] tbl = jpq ? p.codebooks : p.table;
    CpuBuf table = buf(GradCheck.toFloat(tbl));
    ItemTable t =
        jpq
            ? ItemTable.jpq(CpuByteBuf.wrap(p.codes), table, p.m, p.s)
            : ItemTable.dense(table, p.d);
    CpuBuf dH = filled(p.rows * p.d, Float.NaN);
    CpuBuf dT = CpuBuf.allocate(tbl.length);
    CpuBuf dB = CpuBuf.allocate(p.n);
    Result res =
        CpuFullCrossEntropy.run(
            new CpuOps(threads),
            dH,
            dT,
            dB,
            buf(GradCheck.toFloat(p.h)),
            CpuIntBuf.wrap(p.target),
            t,
            buf(GradCheck.toFloat(b)),
            p.rows,
            p.n,
            strategy,
            tile,
            0);
    return new Out(res.loss(), dH.toArray(), dT.toArray(), dB.toArray());
  }

  @Test
  void strategiesAgreeAndTheBitsDoNotDependOnThreads() {
    Problem p = new Problem(21, 40, 2500, 4, 8, 0.6);
    double[] b = bias(3, p.n);
    Out lookup = run(p, b, true, Strategy.LOOKUP, 0, 2);
    Out gemm = run(p, b, true, Strategy.GEMM, 0, 2);
    Out gemmTiled = run(p, b, true, Strategy.GEMM, 97, 2);
    assertEquals(lookup.loss(), gemm.loss(), 1e-5 * Math.abs(lookup.loss()));
    assertEquals(lookup.loss(), gemmTiled.loss(), 1e-5 * Math.abs(lookup.loss()));
    scaledClose("dh", lookup.dH(), gemm.dH());
    scaledClose("dbias", lookup.dBias(), gemm.dBias());
    scaledClose("dbias, tiles of 97", lookup.dBias(), gemmTiled.dBias());
    scaledClose("dcodebooks", lookup.dTable(), gemm.dTable());
    for (Strategy s : Strategy.values()) {
      for (int tile : new int[] {0, 37}) {
        Out one = run(p, b, true, s, tile, 1);
        Out three = run(p, b, true, s, tile, 3);
        String what = s + " tile " + tile;
        assertEquals(
            Double.doubleToLongBits(one.loss()), Double.doubleToLongBits(three.loss()), what);
        assertArrayEquals(one.dH(), three.dH(), what);
        assertArrayEquals(one.dTable(), three.dTable(), what);
        assertArrayEquals(one.dBias(), three.dBias(), what);
      }
    }
  }

  @Test
  void zeroBiasesChangeNothingAndHalfAPairIsRejected() {
    Problem p = new Problem(4, 9, 300, 2, 4, 1);
    Out with = run(p, new double[p.n], true, Strategy.GEMM, 0, 2);
    CpuBuf table = buf(GradCheck.toFloat(p.codebooks));
    ItemTable t = ItemTable.jpq(CpuByteBuf.wrap(p.codes), table, p.m, p.s);
    CpuBuf dH = filled(p.rows * p.d, Float.NaN);
    CpuBuf dT = CpuBuf.allocate(p.codebooks.length);
    Result without =
        CpuFullCrossEntropy.run(
            new CpuOps(2),
            dH,
            dT,
            buf(GradCheck.toFloat(p.h)),
            CpuIntBuf.wrap(p.target),
            t,
            p.rows,
            p.n,
            Strategy.GEMM,
            0);
    assertEquals(without.loss(), with.loss());
    assertArrayEquals(dH.toArray(), with.dH());
    assertArrayEquals(dT.toArray(), with.dTable());
    assertThrows(
        IllegalArgumentException.class,
        () ->
            CpuFullCrossEntropy.run(
                new CpuOps(1),
                dH,
                dT,
                null,
                buf(GradCheck.toFloat(p.h)),
                CpuIntBuf.wrap(p.target),
                t,
                CpuBuf.allocate(p.n),
                p.rows,
                p.n,
                null,
                0,
                0));
  }

  private static void scaledClose(String what, float[] a, float[] b) {
    double scale = 0;
    for (float x : a) {
      scale = Math.max(scale, Math.abs(x));
    }
    Golden.assertClose(what, b, GradCheck.toDouble(a), 1e-4 * scale, 1e-3);
  }
}
