package org.recjpq.backend.cpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.recjpq.backend.cpu.CpuLossesTest.buf;
import static org.recjpq.backend.cpu.CpuLossesTest.filled;

import java.util.Random;
import org.junit.jupiter.api.Test;
import org.recjpq.backend.Golden;
import org.recjpq.backend.GradCheck;
import org.recjpq.backend.cpu.CpuFullCrossEntropy.Plan;
import org.recjpq.backend.cpu.CpuFullCrossEntropy.Result;
import org.recjpq.backend.cpu.CpuFullCrossEntropy.Strategy;
import org.recjpq.backend.cpu.CpuLosses.ItemTable;

/**
 * The streamed full-catalogue cross-entropy: golden references (dense and RecJPQ), both RecJPQ tile
 * strategies, tile sizes that do and do not divide N, finite differences in double, agreement of
 * the strategies, independence from the thread count, and bounded scratch (never rows × N).
 */
class CpuFullCrossEntropyTest {
  static final int B = 256;
  static final int[] TILES = {0, 1, 5, 23, 64}; // 0: the plan's own

  // ---- golden ------------------------------------------------------------------------------

  @Test
  void denseGoldenEveryTile() {
    Golden g = Golden.load("dense_full_ce.json");
    int[] eShape = g.shape("E");
    int n = eShape[0];
    int d = eShape[1];
    int[] target = g.i("target");
    int rows = target.length;
    CpuOps ops = new CpuOps(2);
    CpuBuf h = buf(g.f("h"));
    CpuBuf e = buf(g.f("E"));
    checkScores(g, ops, ItemTable.dense(e, d), h, rows, n);
    for (int tile : TILES) {
      CpuBuf dH = filled(rows * d, Float.NaN);
      CpuBuf dE = CpuBuf.allocate(n * d);
      Result res =
          CpuFullCrossEntropy.run(
              ops, dH, dE, h, CpuIntBuf.wrap(target), ItemTable.dense(e, d), rows, n, null, tile);
      String what = "dense tile " + res.plan().tile();
      assertEquals(Strategy.GEMM, res.plan().strategy());
      checkLossAndLse(g, what, res, target);
      Golden.assertGrad(what + " dh", dH.toArray(), g.grad("h"));
      Golden.assertGrad(what + " dE", dE.toArray(), g.grad("E"));
    }
    // the ItemTable entry point, with the table gradient accumulating onto what is there
    float[] before = GradCheck.toFloat(GradCheck.random(new Random(1), n * d, 1));
    CpuBuf dE = buf(before);
    CpuBuf dH = filled(rows * d, Float.NaN);
    double loss = ops.denseTable(n, d).fullCrossEntropy(dH, dE, h, CpuIntBuf.wrap(target), e, rows);
    Golden.assertOutput("dense loss", new float[] {(float) loss}, g.d("loss"));
    Golden.assertGrad("dense dh", dH.toArray(), g.grad("h"));
    Golden.assertGrad("dense dE accumulated", minus(dE.toArray(), before), g.grad("E"));
  }

  @Test
  void jpqGoldenBothStrategiesEveryTile() {
    Golden g = Golden.load("jpq_full_ce.json");
    int[] cbShape = g.shape("codebooks");
    int m = cbShape[0];
    int b = cbShape[1];
    int s = cbShape[2];
    int d = m * s;
    int n = g.shape("codes")[0];
    int[] target = g.i("target");
    int rows = target.length;
    CpuOps ops = new CpuOps(2);
    CpuBuf h = buf(g.f("h"));
    CpuByteBuf codes = CpuByteBuf.wrap(g.bytes("codes"));
    CpuBuf cb = buf(CpuLossesTest.widen(g.f("codebooks"), m, b, s));
    ItemTable table = ItemTable.jpq(codes, cb, m, s);
    checkScores(g, ops, table, h, rows, n);
    for (Strategy strategy : Strategy.values()) {
      for (int tile : TILES) {
        CpuBuf dH = filled(rows * d, Float.NaN);
        CpuBuf dCb = CpuBuf.allocate(m * B * s);
        Result res =
            CpuFullCrossEntropy.run(
                ops, dH, dCb, h, CpuIntBuf.wrap(target), table, rows, n, strategy, tile);
        String what = "jpq " + res.plan();
        assertEquals(strategy, res.plan().strategy());
        checkLossAndLse(g, what, res, target);
        Golden.assertGrad(what + " dh", dH.toArray(), g.grad("h"));
        // shrink also checks that every sub-id row the codes never use (split 0, sub-id 7 among
        // them) stays 0
        Golden.assertGrad(
            what + " dcodebooks",
            CpuLossesTest.shrink(dCb.toArray(), m, b, s),
            g.grad("codebooks"));
        for (int j = 0; j < s; j++) {
          assertEquals(
              0f,
              dCb.get((b - 1) * s + j),
              what + ": split 0, sub-id b-1 is never used, so exactly 0");
        }
      }
    }
    CpuBuf dH = filled(rows * d, Float.NaN);
    CpuBuf dCb = CpuBuf.allocate(m * B * s);
    double loss =
        ops.jpqTable(codes, n, m, s).fullCrossEntropy(dH, dCb, h, CpuIntBuf.wrap(target), cb, rows);
    Golden.assertOutput("jpq loss", new float[] {(float) loss}, g.d("loss"));
    Golden.assertGrad("jpq dh", dH.toArray(), g.grad("h"));
    Golden.assertGrad(
        "jpq dcodebooks", CpuLossesTest.shrink(dCb.toArray(), m, b, s), g.grad("codebooks"));
  }

  /** The golden scores of every (row, item), through the sampled head with items = 0..N-1. */
  private static void checkScores(Golden g, CpuOps ops, ItemTable t, CpuBuf h, int rows, int n) {
    int[] all = new int[rows * n];
    for (int x = 0; x < all.length; x++) {
      all[x] = x % n;
    }
    CpuBuf scores = CpuBuf.allocate(rows * n);
    CpuLosses.sampledScores(
        ops, scores, h, CpuIntBuf.wrap(all), CpuIntBuf.wrap(new int[rows]), t, rows, n);
    Golden.assertOutput("scores", scores.toArray(), g.d("scores"));
  }

  private static void checkLossAndLse(Golden g, String what, Result res, int[] target) {
    Golden.assertOutput(what + " loss", new float[] {(float) res.loss()}, g.d("loss"));
    double[] lseAll = g.d("lse");
    double[] rowLossAll = g.d("row_loss");
    int v = 0;
    for (int r = 0; r < target.length; r++) {
      if (target[r] >= 0) {
        Golden.assertOutput(
            what + " lse row " + r, new float[] {(float) res.lse()[v++]}, new double[] {lseAll[r]});
      } else {
        assertEquals(0.0, rowLossAll[r]);
      }
    }
    assertEquals(v, res.lse().length);
  }

  // ---- finite differences ------------------------------------------------------------------

  /** A small random problem in double (inputs rounded to float). */
  static final class Problem {
    final int rows;
    final int n;
    final int m;
    final int s;
    final int d;
    final int[] target;
    final byte[] codes;
    final double[] h;
    final double[] codebooks; // (m, 256, s); codes use sub-ids < 5 only
    final double[] table; // (n, d)

    Problem(long seed, int rows, int n, int m, int s, double scale) {
      this.rows = rows;
      this.n = n;
      this.m = m;
      this.s = s;
      this.d = m * s;
      Random rnd = new Random(seed);
      target = new int[rows];
      for (int r = 0; r < rows; r++) {
        target[r] = rows > 2 && (r == 0 || r == rows - 2) ? -1 : rnd.nextInt(n);
      }
      codes = new byte[n * m];
      for (int x = 0; x < codes.length; x++) {
        codes[x] = (byte) rnd.nextInt(5);
      }
      h = GradCheck.random(rnd, rows * d, scale);
      codebooks = GradCheck.random(rnd, m * B * s, 1);
      table = GradCheck.random(rnd, n * d, 1);
      CpuLossesTest.round(h);
      CpuLossesTest.round(codebooks);
      CpuLossesTest.round(table);
    }

    double[] embeddings(boolean jpq, double[] tbl) {
      if (!jpq) {
        return tbl;
      }
      double[] e = new double[n * d];
      for (int i = 0; i < n; i++) {
        for (int k = 0; k < m; k++) {
          for (int j = 0; j < s; j++) {
            e[i * d + k * s + j] = tbl[(k * B + (codes[i * m + k] & 0xff)) * s + j];
          }
        }
      }
      return e;
    }

    /** The plain definition: logits for every item, log-sum-exp, mean over valid rows. */
    double loss(double[] hh, double[] e) {
      double sum = 0;
      int valid = 0;
      double[] z = new double[n];
      for (int r = 0; r < rows; r++) {
        if (target[r] < 0) {
          continue;
        }
        valid++;
        double max = Double.NEGATIVE_INFINITY;
        for (int i = 0; i < n; i++) {
          z[i] = 0;
          for (int j = 0; j < d; j++) {
            z[i] += hh[r * d + j] * e[i * d + j];
          }
          max = Math.max(max, z[i]);
        }
        double acc = 0;
        for (int i = 0; i < n; i++) {
          acc += Math.exp(z[i] - max);
        }
        sum += max + Math.log(acc) - z[target[r]];
      }
      return sum / valid;
    }
  }

  @Test
  void denseAndBothJpqStrategiesMatchFiniteDifferences() {
    // rows 7 with 2 ignored, N 13 in tiles of 4 (13 = 3·4 + 1); then one row, where the look-up
    // strategy splits the row into several work units.
    // Row blocks of 2 (5 valid rows: blocks 2 + 2 + 1, gathered around the ignored rows) and the
    // plan's own.
    for (int[] shape : new int[][] {{7, 13, 4, 2}, {7, 13, 4, 0}, {1, 40, 3, 0}}) {
      Problem p = new Problem(shape[0] * 31L + shape[1], shape[0], shape[1], 2, 3, 1.5);
      checkFiniteDifferences(p, false, Strategy.GEMM, shape[2], shape[3]);
      checkFiniteDifferences(p, true, Strategy.GEMM, shape[2], shape[3]);
      checkFiniteDifferences(p, true, Strategy.LOOKUP, shape[2], shape[3]);
    }
  }

  private static void checkFiniteDifferences(
      Problem p, boolean jpq, Strategy strategy, int tile, int rowBlock) {
    CpuOps ops = new CpuOps(2);
    double[] tbl = jpq ? p.codebooks : p.table;
    CpuBuf h = buf(GradCheck.toFloat(p.h));
    CpuBuf table = buf(GradCheck.toFloat(tbl));
    ItemTable t =
        jpq
            ? ItemTable.jpq(CpuByteBuf.wrap(p.codes), table, p.m, p.s)
            : ItemTable.dense(table, p.d);
    CpuBuf dH = filled(p.rows * p.d, Float.NaN);
    CpuBuf dT = CpuBuf.allocate(tbl.length);
    Result res =
        CpuFullCrossEntropy.run(
            ops, dH, dT, h, CpuIntBuf.wrap(p.target), t, p.rows, p.n, strategy, tile, rowBlock);
    String what = (jpq ? "jpq " : "dense ") + res.plan();
    if (rowBlock > 0) {
      assertEquals(rowBlock, res.plan().rowBlock());
    }
    double ref = p.loss(p.h, p.embeddings(jpq, tbl));
    assertEquals(ref, res.loss(), 1e-5 + 1e-4 * Math.abs(ref), what + " loss");
    double[] hh = p.h.clone();
    GradCheck.assertMatches(
        what + " dh",
        dH.toArray(),
        GradCheck.numeric(hh, () -> p.loss(hh, p.embeddings(jpq, tbl))));
    double[] tt = tbl.clone();
    GradCheck.assertMatches(
        what + " dtable",
        dT.toArray(),
        GradCheck.numeric(tt, () -> p.loss(p.h, p.embeddings(jpq, tt))));
    if (p.rows == 1) {
      assertEquals(strategy == Strategy.LOOKUP ? 14 : 1, res.plan().chunks(), what);
    }
  }

  // ---- strategies, threads, memory ---------------------------------------------------------

  /** One call's outputs. */
  record Out(double loss, float[] dH, float[] dTable, Plan plan) {}

  static Out run(
      Problem p, boolean jpq, Strategy strategy, int tile, int threads, float[] dTableStart) {
    return run(p, jpq, strategy, tile, 0, threads, dTableStart);
  }

  static Out run(
      Problem p,
      boolean jpq,
      Strategy strategy,
      int tile,
      int rowBlock,
      int threads,
      float[] dTableStart) {
    double[] tbl = jpq ? p.codebooks : p.table;
    CpuBuf table = buf(GradCheck.toFloat(tbl));
    ItemTable t =
        jpq
            ? ItemTable.jpq(CpuByteBuf.wrap(p.codes), table, p.m, p.s)
            : ItemTable.dense(table, p.d);
    CpuBuf dH = filled(p.rows * p.d, Float.NaN);
    CpuBuf dT = dTableStart == null ? CpuBuf.allocate(tbl.length) : buf(dTableStart);
    Result res =
        CpuFullCrossEntropy.run(
            new CpuOps(threads),
            dH,
            dT,
            buf(GradCheck.toFloat(p.h)),
            CpuIntBuf.wrap(p.target),
            t,
            p.rows,
            p.n,
            strategy,
            tile,
            rowBlock);
    return new Out(res.loss(), dH.toArray(), dT.toArray(), res.plan());
  }

  @Test
  void lookupAndDecodeGemmAgreeOnALargerCatalogue() {
    Problem p = new Problem(5, 50, 3001, 4, 16, 0.6);
    Out lookup = run(p, true, Strategy.LOOKUP, 0, 2, null);
    Out gemm = run(p, true, Strategy.GEMM, 0, 2, null);
    Out oddTile = run(p, true, Strategy.GEMM, 97, 2, null);
    Out blocks = run(p, true, Strategy.LOOKUP, 0, 7, 2, null);
    Out gemmBlocks = run(p, true, Strategy.GEMM, 0, 7, 2, null);
    assertEquals(lookup.loss(), gemm.loss(), 1e-5 * Math.abs(lookup.loss()));
    assertEquals(lookup.loss(), oddTile.loss(), 1e-5 * Math.abs(lookup.loss()));
    assertScaledClose("dh", lookup.dH(), gemm.dH());
    assertScaledClose("dcodebooks", lookup.dTable(), gemm.dTable());
    assertScaledClose("dcodebooks, tile 97", lookup.dTable(), oddTile.dTable());
    assertScaledClose("dh, look-up in blocks of 7 rows", lookup.dH(), blocks.dH());
    assertScaledClose("dcodebooks, look-up in blocks of 7 rows", lookup.dTable(), blocks.dTable());
    assertScaledClose("dh, GEMM in blocks of 7 rows", lookup.dH(), gemmBlocks.dH());
    assertScaledClose("dcodebooks, GEMM in blocks of 7 rows", lookup.dTable(), gemmBlocks.dTable());
    // and the dense path on the decoded table is the same function
    Problem dense = p;
    double[] decoded = p.embeddings(true, p.codebooks);
    System.arraycopy(decoded, 0, dense.table, 0, decoded.length);
    Out d = run(dense, false, Strategy.GEMM, 0, 2, null);
    assertEquals(lookup.loss(), d.loss(), 1e-5 * Math.abs(lookup.loss()));
    assertScaledClose("dense dh", lookup.dH(), d.dH());
  }

  /** Close relative to the largest magnitude (sums over 3000 items and 50 rows in other orders). */
  private static void assertScaledClose(String what, float[] a, float[] b) {
    double scale = 0;
    for (float x : a) {
      scale = Math.max(scale, Math.abs(x));
    }
    Golden.assertClose(what, b, GradCheck.toDouble(a), 1e-4 * scale, 1e-3);
  }

  @Test
  void sameBitsForOneAndThreeThreads() {
    Problem many = new Problem(9, 70, 2000, 4, 8, 1);
    Problem one = new Problem(10, 1, 2000, 4, 8, 1);
    for (Problem p : new Problem[] {many, one}) {
      for (boolean jpq : new boolean[] {false, true}) {
        for (Strategy strategy : jpq ? Strategy.values() : new Strategy[] {Strategy.GEMM}) {
          for (int tile : new int[] {0, 37}) {
            int rowBlock = tile == 0 ? 0 : 16;
            Out a = run(p, jpq, strategy, tile, rowBlock, 1, null);
            Out b = run(p, jpq, strategy, tile, rowBlock, 3, null);
            String what = (jpq ? "jpq " : "dense ") + a.plan();
            assertEquals(
                Double.doubleToLongBits(a.loss()), Double.doubleToLongBits(b.loss()), what);
            assertArrayEquals(a.dH(), b.dH(), what);
            assertArrayEquals(a.dTable(), b.dTable(), what);
          }
        }
      }
    }
  }

  @Test
  void gradientsOverwriteDhAccumulateIntoTablesAndSkipIgnoredRows() {
    Problem p = new Problem(3, 9, 300, 4, 4, 1);
    for (Strategy strategy : Strategy.values()) {
      Out fresh = run(p, true, strategy, 0, 2, null);
      float[] start = GradCheck.toFloat(GradCheck.random(new Random(4), p.codebooks.length, 1));
      Out acc = run(p, true, strategy, 0, 2, start);
      float[] diff = minus(acc.dTable(), start);
      Golden.assertClose(
          strategy + " accumulates", diff, GradCheck.toDouble(fresh.dTable()), 1e-6, 1e-4);
      for (int r = 0; r < p.rows; r++) {
        if (p.target[r] < 0) {
          for (int j = 0; j < p.d; j++) {
            assertEquals(0f, fresh.dH()[r * p.d + j], "dh of ignored row " + r);
          }
        }
      }
    }
    // no valid row: loss 0, dH 0, tables untouched
    Problem none = new Problem(3, 3, 50, 2, 2, 1);
    java.util.Arrays.fill(none.target, -1);
    Out out = run(none, true, null, 0, 2, new float[none.codebooks.length]);
    assertEquals(0.0, out.loss());
    assertArrayEquals(new float[none.rows * none.d], out.dH());
    assertArrayEquals(new float[none.codebooks.length], out.dTable());
  }

  @Test
  void rejectsTargetsOutsideTheCatalogue() {
    Problem p = new Problem(3, 4, 30, 2, 2, 1);
    p.target[2] = 30;
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> run(p, true, null, 0, 1, null));
    assertEquals("target 30 of row 2 is outside the catalogue of 30 items.", e.getMessage());
  }

  /**
   * 200,000 items and 64 rows: a rows × N score matrix would be 51 MB; each strategy's scratch must
   * stay within its O(B·T + T·D + B·M·256 + V·D) plan, here under 6 MB.
   */
  @Test
  void scratchNeverGrowsWithRowsTimesItems() {
    int rows = 64;
    int n = 200_000;
    int m = 8;
    int s = 8;
    int d = m * s;
    Random rnd = new Random(8);
    int[] target = new int[rows];
    for (int r = 0; r < rows; r++) {
      target[r] = r % 5 == 0 ? -1 : rnd.nextInt(n);
    }
    byte[] codes = new byte[n * m];
    rnd.nextBytes(codes);
    CpuBuf h = buf(GradCheck.toFloat(GradCheck.random(rnd, rows * d, 1)));
    CpuBuf cb = buf(GradCheck.toFloat(GradCheck.random(rnd, m * B * s, 0.3)));
    ItemTable t = ItemTable.jpq(CpuByteBuf.wrap(codes), cb, m, s);
    long rowsTimesItems = 4L * rows * n;
    double[] losses = new double[2];
    for (Strategy strategy : Strategy.values()) {
      CpuBuf dH = CpuBuf.allocate(rows * d);
      CpuBuf dCb = CpuBuf.allocate(m * B * s);
      Result res =
          CpuFullCrossEntropy.run(
              new CpuOps(2), dH, dCb, h, CpuIntBuf.wrap(target), t, rows, n, strategy, 0);
      Plan plan = res.plan();
      int v = res.lse().length;
      long bound =
          4L
                  * ((long) plan.rowBlock() * plan.tile()
                      + 2L * plan.tile() * d
                      + 2L * plan.rowBlock() * m * B
                      + 2L * v * d) // off-heap: scores, tile, dTile, sub, dSub, rows
              + 64L * v // per-row lse, target score, running max and sum, targets
              + 4L
                  * (2L * B * d
                      + (long) plan.tile() * d) // heap codebooks, dCodebooks and dTile (GEMM)
              + 8L
                  * plan.rowBlock()
                  * plan.chunks()
                  * (2 + (plan.chunks() > 1 ? m * B : 0)) // look-up units
              + 16L * (4L * plan.tile() + 12L * m * B); // per-thread work arrays, up to 16 threads
      assertTrue(
          res.scratchBytes() <= bound,
          strategy + ": " + res.scratchBytes() + " bytes > plan " + bound);
      assertTrue(
          res.scratchBytes() < 6_000_000,
          strategy + ": " + res.scratchBytes() + " bytes of scratch");
      assertTrue(res.scratchBytes() < rowsTimesItems / 10, strategy + ": " + res.scratchBytes());
      losses[strategy.ordinal()] = res.loss();
    }
    assertEquals(losses[0], losses[1], 1e-5 * losses[0]);
  }

  @Test
  void aSmallCatalogueIsOneTileInOnePassALargeOneIsTiled() {
    CpuBuf cb = CpuBuf.allocate(8 * B * 8);
    ItemTable ml1m = ItemTable.jpq(CpuByteBuf.wrap(new byte[3_416 * 8]), cb, 8, 8);
    Plan one = CpuFullCrossEntropy.plan(25_600, 3_416, ml1m, null, 0, 0);
    assertEquals(new Plan(Strategy.GEMM, 3_416, 1_216, 1), one);
    ItemTable big = ItemTable.jpq(CpuByteBuf.wrap(new byte[1_000_000 * 8]), cb, 8, 8);
    Plan tiled = CpuFullCrossEntropy.plan(25_600, 1_000_000, big, null, 0, 0);
    assertEquals(Strategy.GEMM, tiled.strategy());
    assertTrue(tiled.tile() <= 4096, tiled.toString()); // never the N × D decoded catalogue
  }

  @Test
  void costModelPicksLookupsForFewRowsOrLargeSubEmbeddingsAndGemmForLargeBatchesOfSmallOnes() {
    assertEquals(Strategy.LOOKUP, CpuFullCrossEntropy.choose(1, 100_000, 8, 8));
    assertEquals(Strategy.LOOKUP, CpuFullCrossEntropy.choose(8, 3_416, 8, 8));
    assertEquals(Strategy.GEMM, CpuFullCrossEntropy.choose(25_600, 3_416, 8, 8));
    assertEquals(Strategy.GEMM, CpuFullCrossEntropy.choose(25_600, 100_000, 8, 8));
    assertEquals(Strategy.LOOKUP, CpuFullCrossEntropy.choose(1, 100_000, 8, 64));
    assertEquals(Strategy.LOOKUP, CpuFullCrossEntropy.choose(64, 3_416, 8, 64));
    assertEquals(
        Strategy.LOOKUP, CpuFullCrossEntropy.choose(25_600, 3_416, 8, 64)); // s = 64: look-ups
    assertEquals(
        Strategy.GEMM, CpuFullCrossEntropy.choose(64, 3_416, 64, 8)); // d = 512 in 64 splits
  }

  @Test
  void arrayExpIsWithin1e12OfMathExpAndClampsBelowMinus87() {
    int n = 200_001;
    double[] x = new double[n];
    for (int i = 0; i < n; i++) {
      x[i] = -90.0 + 95.0 * i / (n - 1); // [-90, 5]
    }
    double[] t = x.clone();
    CpuExp.expShifted(t, n, 0.5);
    double worst = 0;
    for (int i = 0; i < n; i++) {
      double arg = x[i] - 0.5;
      if (arg >= CpuExp.MIN_ARG) {
        double e = Math.exp(arg);
        worst = Math.max(worst, Math.abs(t[i] - e) / e);
        assertEquals(t[i], CpuExp.exp(arg));
      } else {
        assertEquals(Math.exp(CpuExp.MIN_ARG), t[i], 1e-12 * Math.exp(CpuExp.MIN_ARG));
      }
    }
    assertTrue(worst < 1e-12, "relative error " + worst);
    double[] nan = {Double.NaN, 0};
    CpuExp.expShifted(nan, 2, 0);
    assertTrue(Double.isNaN(nan[0]));
    assertEquals(1.0, nan[1], 1e-15);
    double[] ones = new double[7];
    java.util.Arrays.fill(ones, 0.5);
    assertEquals(3.5, CpuExp.sum(ones, 7));
  }

  static float[] minus(float[] a, float[] b) {
    float[] out = new float[a.length];
    for (int i = 0; i < a.length; i++) {
      out[i] = a[i] - b[i];
    }
    return out;
  }
}
