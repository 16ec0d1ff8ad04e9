package org.recjpq.backend;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * The contract suite of the scoring heads and losses (docs/architecture.md §3): sampled scores
 * (dense and RecJPQ, forward and backward, with ignored rows, PAD items and repeated items), BCE
 * and gBCE, sampled softmax with logQ, and the full-catalogue cross-entropy (dense and RecJPQ;
 * ignored rows; N not a multiple of any tile; several tiles and row blocks; each tile strategy
 * forced), each run on the CPU reference and on the engine under test and compared with one {@link
 * Tolerance}: REDUCTION for scores and losses, GRADIENT for gradients, EXACT where inputs are small
 * integers (sums exact in any order).
 *
 * <p>Every check takes the engine it runs ({@code under}) so that an engine's suite can also run it
 * on a second configuration of itself (e.g. the CUDA engine without its deterministic mode).
 * Gradients start from NaN where the op overwrites (so every element, ignored rows included, must
 * be written) and from small random values where it accumulates (so {@code +=} is checked).
 */
public abstract class LossContract extends OpsContract {
  /** Sub-ids per split. */
  protected static final int B = 256;

  /** The full cross-entropy's tile strategies (docs/architecture.md §5). */
  public enum Strategy {
    /** RecJPQ sub-id score tables and look-ups. */
    LOOKUP,
    /** Decode-then-GEMM (a dense table: GEMM without the decode). */
    GEMM
  }

  /**
   * A full cross-entropy plan forced on the engine under test: the strategy (null: the engine's
   * choice), items per tile and rows per block ({@code 0}: the engine's).
   */
  public record Forced(Strategy strategy, int tile, int rowBlock) {}

  /**
   * The item head of one engine: a dense table (N, dim), or codes (N, splits) + codebooks (splits,
   * 256, subDim).
   */
  public record Head(Buf table, ByteBuf codes, Buf codebooks, int dim, int splits, int subDim) {
    public boolean isJpq() {
      return codes != null;
    }
  }

  /**
   * What a forced run did: its loss, the strategy used and how many tiles (or chunks) each row's
   * items took.
   */
  public record FullCeRun(double loss, Strategy strategy, int tiles) {}

  /**
   * The engine's full cross-entropy on {@code under} with a forced plan (through the engine's
   * package-private entry point, which the public {@link ItemTable} methods call with no plan
   * forced).
   */
  protected abstract FullCeRun fullCrossEntropyForced(
      Ops under,
      Forced plan,
      Buf dH,
      Buf dTable,
      Buf h,
      IntBuf targets,
      Head head,
      int rows,
      int numItems);

  // ---- sampled scores ------------------------------------------------------------------------

  @Test
  void sampledScoresDense() {
    checkSampledScores(engine(), false, false);
  }

  @Test
  void sampledScoresJpq() {
    checkSampledScores(engine(), true, false);
  }

  @Test
  void sampledScoresDenseExactOnSmallIntegers() {
    checkSampledScores(engine(), false, true);
  }

  @Test
  void sampledScoresJpqExactOnSmallIntegers() {
    checkSampledScores(engine(), true, true);
  }

  /**
   * Sampled scores forward and backward: rows 0 and 5 ignored, a negative equal to the positive, a
   * repeated negative, PAD negatives, codes in [0, 5) so that items share sub-ids.
   */
  protected void checkSampledScores(Ops under, boolean jpq, boolean integers) {
    int rows = 9;
    int cols = 6;
    int m = 3;
    int s = 4;
    int d = m * s;
    int n = 17;
    SplittableRandom rnd = new SplittableRandom((jpq ? 11 : 12) + (integers ? 100 : 0));
    int[] targets = new int[rows];
    int[] ids = new int[rows * cols];
    for (int r = 0; r < rows; r++) {
      targets[r] = r == 0 || r == 5 ? -1 : rnd.nextInt(n);
      ids[r * cols] = targets[r] >= 0 ? targets[r] : rnd.nextInt(n);
      for (int c = 1; c < cols; c++) {
        ids[r * cols + c] = rnd.nextInt(n);
      }
    }
    ids[2 * cols + 1] = targets[2]; // a negative equal to the positive
    ids[3 * cols + 2] = ids[3 * cols + 3]; // a repeated negative
    ids[4 * cols + 4] = -1; // PAD negatives
    ids[6 * cols + 5] = -1;
    byte[] codes = new byte[n * m];
    for (int i = 0; i < codes.length; i++) {
      codes[i] = (byte) rnd.nextInt(5);
    }
    float[] h = values(rnd, rows * d, integers, 3);
    float[] weights = jpq ? values(rnd, m * B * s, integers, 3) : values(rnd, n * d, integers, 3);
    float[] dScores = values(rnd, rows * cols, integers, 2);
    float[] dWeights = values(rnd, weights.length, integers, 2);
    Tolerance forward = integers ? Tolerance.EXACT : Tolerance.REDUCTION;
    Tolerance backward = integers ? Tolerance.EXACT : Tolerance.GRADIENT;

    float[][] scores = new float[2][];
    float[][] dh = new float[2][];
    float[][] dw = new float[2][];
    Ops[] engines = {ref, under};
    for (int e = 0; e < 2; e++) {
      Ops ops = engines[e];
      Buf hb = up(ops, h);
      Buf wb = up(ops, weights);
      IntBuf idb = up(ops, ids);
      IntBuf tb = up(ops, targets);
      ByteBuf cb = up(ops, codes);
      ItemTable table = jpq ? ops.jpqTable(cb, n, m, s) : ops.denseTable(n, d);
      Buf sb = filled(ops, rows * cols, Float.NaN);
      table.sampledScores(sb, hb, idb, tb, wb, rows, cols);
      scores[e] = host(ops, sb);
      Buf dsb = up(ops, dScores);
      Buf dhb = filled(ops, rows * d, Float.NaN); // overwritten, ignored rows included
      Buf dwb = up(ops, dWeights); // accumulated into
      table.sampledScoresBackward(dhb, dwb, dsb, hb, idb, tb, wb, rows, cols);
      dh[e] = host(ops, dhb);
      dw[e] = host(ops, dwb);
    }
    String what = (jpq ? "RecJPQ" : "dense") + " sampled scores" + (integers ? " (integers)" : "");
    assertAgree(what, scores[0], scores[1], forward);
    assertAgree(what + " dH", dh[0], dh[1], backward);
    assertAgree(what + (jpq ? " dCodebooks" : " dTable"), dw[0], dw[1], backward);
  }

  // ---- sampled losses ------------------------------------------------------------------------

  @Test
  void bce() {
    checkBce(engine(), 1f);
  }

  @Test
  void gbceCalibrated() {
    // gSASRec: α = n / (N − 1), β = α (t (1 − 1/α) + 1/α), t = 0.75, n = 7 negatives, N = 1000
    // items
    double alpha = 7.0 / 999;
    float beta = (float) (alpha * (0.75 * (1 - 1 / alpha) + 1 / alpha));
    assertTrue(beta > 0.25 && beta < 0.26);
    checkBce(engine(), beta);
  }

  protected void checkBce(Ops under, float beta) {
    int rows = 11;
    int negatives = 7;
    int cols = negatives + 1;
    SplittableRandom rnd = new SplittableRandom(31);
    float[] scores = values(rnd, rows * cols, false, 4);
    int[] targets = targets(rnd, rows, 1000, 1, 7);
    double[] loss = new double[2];
    float[][] ds = new float[2][];
    Ops[] engines = {ref, under};
    for (int e = 0; e < 2; e++) {
      Ops ops = engines[e];
      Buf dsb = filled(ops, rows * cols, Float.NaN);
      loss[e] = ops.bceLoss(dsb, up(ops, scores), up(ops, targets), rows, negatives, beta);
      ds[e] = host(ops, dsb);
    }
    assertAgree("bce loss (beta " + beta + ")", loss[0], loss[1], Tolerance.REDUCTION);
    assertAgree("bce dScores (beta " + beta + ")", ds[0], ds[1], Tolerance.GRADIENT);
  }

  @Test
  void sampledSoftmax() {
    checkSampledSoftmax(engine());
  }

  protected void checkSampledSoftmax(Ops under) {
    int rows = 10;
    int negatives = 40; // more columns than a warp's lanes
    int cols = negatives + 1;
    SplittableRandom rnd = new SplittableRandom(41);
    float[] scores = values(rnd, rows * cols, false, 3);
    float[] logQ = new float[rows * cols];
    for (int i = 0; i < logQ.length; i++) {
      logQ[i] = (float) Math.log(1e-4 + rnd.nextDouble());
    }
    int[] targets = targets(rnd, rows, 1000, 0, 4, 9);
    double[] loss = new double[2];
    float[][] ds = new float[2][];
    Ops[] engines = {ref, under};
    for (int e = 0; e < 2; e++) {
      Ops ops = engines[e];
      Buf dsb = filled(ops, rows * cols, Float.NaN);
      loss[e] =
          ops.sampledSoftmaxLoss(
              dsb, up(ops, scores), up(ops, logQ), up(ops, targets), rows, negatives);
      ds[e] = host(ops, dsb);
    }
    assertAgree("sampled softmax loss", loss[0], loss[1], Tolerance.REDUCTION);
    assertAgree("sampled softmax dScores", ds[0], ds[1], Tolerance.GRADIENT);
  }

  @Test
  void lossesWithoutAnyTargetAreZeroWithZeroGradients() {
    Ops under = engine();
    int rows = 5;
    int cols = 4;
    int[] none = {-1, -1, -1, -1, -1};
    SplittableRandom rnd = new SplittableRandom(51);
    float[] scores = values(rnd, rows * cols, false, 2);
    Buf ds = filled(under, rows * cols, Float.NaN);
    assertEquals(0.0, under.bceLoss(ds, up(under, scores), up(under, none), rows, cols - 1, 1f));
    assertAgree(
        "bce dScores without targets", new float[rows * cols], host(under, ds), Tolerance.EXACT);
    ds = filled(under, rows * cols, Float.NaN);
    assertEquals(
        0.0,
        under.sampledSoftmaxLoss(
            ds,
            up(under, scores),
            up(under, new float[rows * cols]),
            up(under, none),
            rows,
            cols - 1));
    assertAgree(
        "sampled softmax dScores without targets",
        new float[rows * cols],
        host(under, ds),
        Tolerance.EXACT);

    FullCeProblem p = fullCeProblem(52, true, rows, 40, 2, 3, new int[] {0, 1, 2, 3, 4});
    checkFullCe(under, p, null);
  }

  // ---- full cross-entropy --------------------------------------------------------------------

  @Test
  void fullCrossEntropyDense() {
    checkFullCe(engine(), fullCeProblem(61, false, 13, 301, 4, 6, new int[] {0, 6, 12}), null);
  }

  @Test
  void fullCrossEntropyJpq() {
    checkFullCe(engine(), fullCeProblem(62, true, 13, 301, 4, 6, new int[] {0, 6, 12}), null);
  }

  @Test
  void fullCrossEntropyEveryRowValid() {
    checkFullCe(engine(), fullCeProblem(63, false, 7, 123, 2, 5, new int[0]), null);
    checkFullCe(engine(), fullCeProblem(64, true, 7, 123, 2, 5, new int[0]), null);
  }

  @Test
  void fullCrossEntropyDenseSeveralTilesAndRowBlocks() {
    FullCeProblem p = fullCeProblem(65, false, 13, 301, 4, 6, new int[] {1, 6, 12});
    FullCeRun run = checkFullCe(engine(), p, new Forced(Strategy.GEMM, 37, 4));
    assertEquals(Strategy.GEMM, run.strategy());
    assertEquals(9, run.tiles()); // 301 = 8·37 + 5
  }

  @Test
  void fullCrossEntropyJpqLookupSeveralTilesAndRowBlocks() {
    FullCeProblem p = fullCeProblem(66, true, 13, 301, 4, 6, new int[] {1, 6, 12});
    FullCeRun run = checkFullCe(engine(), p, new Forced(Strategy.LOOKUP, 37, 4));
    assertEquals(Strategy.LOOKUP, run.strategy());
    assertEquals(9, run.tiles());
  }

  @Test
  void fullCrossEntropyJpqDecodeGemmSeveralTilesAndRowBlocks() {
    FullCeProblem p = fullCeProblem(67, true, 13, 301, 4, 6, new int[] {1, 6, 12});
    FullCeRun run = checkFullCe(engine(), p, new Forced(Strategy.GEMM, 37, 4));
    assertEquals(Strategy.GEMM, run.strategy());
    assertEquals(9, run.tiles());
  }

  @Test
  void fullCrossEntropyJpqEachStrategyWithItsOwnPlan() {
    for (Strategy strategy : Strategy.values()) {
      FullCeProblem p = fullCeProblem(68, true, 13, 301, 4, 6, new int[] {3});
      FullCeRun run = checkFullCe(engine(), p, new Forced(strategy, 0, 0));
      assertEquals(strategy, run.strategy());
    }
  }

  @Test
  void fullCrossEntropyJpqSplitsNotAMultipleOfFour() {
    // 3 splits: the look-up kernels read codes byte by byte instead of as 32-bit words
    for (Strategy strategy : Strategy.values()) {
      FullCeProblem p = fullCeProblem(69, true, 9, 211, 3, 5, new int[] {4});
      checkFullCe(engine(), p, new Forced(strategy, 50, 0));
    }
  }

  @Test
  void fullCrossEntropyJpqFewRowsLargerCatalogue() {
    // few rows and N = 5000: each row's items are spread over several chunks by the plan itself
    FullCeProblem p = fullCeProblem(70, true, 4, 5000, 8, 4, new int[] {2});
    checkFullCe(engine(), p, null);
    for (Strategy strategy : Strategy.values()) {
      checkFullCe(engine(), p, new Forced(strategy, 0, 0));
    }
  }

  @Test
  void fullCrossEntropyWithItemBiases() {
    // dense and RecJPQ; many rows (GEMMs) and few rows over a larger catalogue (where the engine
    // would otherwise take look-ups)
    checkFullCeBiased(engine(), fullCeProblem(71, false, 13, 301, 4, 6, new int[] {0, 6}));
    checkFullCeBiased(engine(), fullCeProblem(72, true, 13, 301, 4, 6, new int[] {1, 12}));
    checkFullCeBiased(engine(), fullCeProblem(73, true, 3, 5000, 8, 8, new int[] {1}));
  }

  /**
   * A full cross-entropy with per-item score offsets in [-2, 2) on the reference and on {@code
   * under}, through {@link ItemTable}: loss (REDUCTION), dH (GRADIENT, NaN beforehand), the
   * accumulated table and offset gradients (GRADIENT, from small random values).
   */
  protected void checkFullCeBiased(Ops under, FullCeProblem p) {
    int d = p.dim();
    SplittableRandom rnd = new SplittableRandom(p.n());
    float[] bias = values(rnd, p.n(), false, 2);
    float[] dBias = values(rnd, p.n(), false, 0.01);
    double[] loss = new double[2];
    float[][] dh = new float[2][];
    float[][] dw = new float[2][];
    float[][] db = new float[2][];
    Ops[] engines = {ref, under};
    for (int e = 0; e < 2; e++) {
      Ops ops = engines[e];
      Buf hb = up(ops, p.h());
      Buf wb = up(ops, p.weights());
      IntBuf tb = up(ops, p.targets());
      ByteBuf cb = up(ops, p.codes());
      Buf bb = up(ops, bias);
      Buf dhb = filled(ops, p.rows() * d, Float.NaN);
      Buf dwb = up(ops, p.dWeights());
      Buf dbb = up(ops, dBias);
      loss[e] = p.table(ops, cb).fullCrossEntropy(dhb, dwb, dbb, hb, tb, wb, bb, p.rows());
      dh[e] = host(ops, dhb);
      dw[e] = host(ops, dwb);
      db[e] = host(ops, dbb);
    }
    String what =
        (p.jpq() ? "RecJPQ" : "dense")
            + " full CE with item biases, N = "
            + p.n()
            + ", rows "
            + p.rows();
    assertAgree(what + " loss", loss[0], loss[1], Tolerance.REDUCTION);
    assertAgree(what + " dH", dh[0], dh[1], Tolerance.GRADIENT);
    assertAgree(what + (p.jpq() ? " dCodebooks" : " dTable"), dw[0], dw[1], Tolerance.GRADIENT);
    assertAgree(what + " dBias", db[0], db[1], Tolerance.GRADIENT);
    // and the offsets are in the loss: without them it differs
    Buf dhb = filled(ref, p.rows() * d, 0f);
    double plain =
        p.table(ref, up(ref, p.codes()))
            .fullCrossEntropy(
                dhb,
                up(ref, p.dWeights()),
                up(ref, p.h()),
                up(ref, p.targets()),
                up(ref, p.weights()),
                p.rows());
    assertTrue(Math.abs(plain - loss[0]) > 1e-3, what + ": the offsets change the loss");
  }

  /**
   * A full cross-entropy problem on the host; codes in [0, codeRange) so that items share sub-ids.
   */
  protected record FullCeProblem(
      boolean jpq,
      int rows,
      int n,
      int m,
      int s,
      float[] h,
      float[] weights,
      float[] dWeights,
      byte[] codes,
      int[] targets) {
    int dim() {
      return m * s;
    }

    /** The problem's item table on {@code ops}, over {@code codes} (its codes there) if RecJPQ. */
    ItemTable table(Ops ops, ByteBuf codes) {
      return jpq ? ops.jpqTable(codes, n, m, s) : ops.denseTable(n, dim());
    }
  }

  /**
   * Rows with targets (the rows in {@code ignored} get -1; a target on item 0, one on the last
   * item, two rows sharing one), h and weights in [-1.5, 1.5) so that the softmax has mass on a few
   * items, accumulated-into gradients starting at small random values.
   */
  protected static FullCeProblem fullCeProblem(
      long seed, boolean jpq, int rows, int n, int m, int s, int[] ignored) {
    SplittableRandom rnd = new SplittableRandom(seed);
    int d = m * s;
    int[] targets = new int[rows];
    for (int r = 0; r < rows; r++) {
      targets[r] = rnd.nextInt(n);
    }
    targets[0] = 0;
    if (rows > 1) {
      targets[rows - 1] = n - 1;
    }
    if (rows > 3) {
      targets[2] = targets[3];
    }
    for (int r : ignored) {
      targets[r] = -1;
    }
    int codeRange = n < 1000 ? 16 : B;
    byte[] codes = new byte[n * m];
    for (int i = 0; i < codes.length; i++) {
      codes[i] = (byte) rnd.nextInt(codeRange);
    }
    float[] h = values(rnd, rows * d, false, 1.5);
    float[] weights = values(rnd, jpq ? m * B * s : n * d, false, 1.5);
    float[] dWeights = values(rnd, weights.length, false, 0.01);
    return new FullCeProblem(jpq, rows, n, m, s, h, weights, dWeights, codes, targets);
  }

  /**
   * Runs a full cross-entropy problem on the reference (its own plan, through {@link ItemTable})
   * and on {@code under} ({@code plan == null}: through {@link ItemTable}; else forced) and
   * compares the loss (REDUCTION), dH (GRADIENT; NaN beforehand, so ignored rows must be written as
   * 0) and the accumulated table gradient (GRADIENT).
   */
  protected FullCeRun checkFullCe(Ops under, FullCeProblem p, Forced plan) {
    int d = p.dim();
    double[] loss = new double[2];
    float[][] dh = new float[2][];
    float[][] dw = new float[2][];
    FullCeRun run = null;
    Ops[] engines = {ref, under};
    for (int e = 0; e < 2; e++) {
      Ops ops = engines[e];
      Buf hb = up(ops, p.h());
      Buf wb = up(ops, p.weights());
      IntBuf tb = up(ops, p.targets());
      ByteBuf cb = up(ops, p.codes());
      Buf dhb = filled(ops, p.rows() * d, Float.NaN);
      Buf dwb = up(ops, p.dWeights());
      if (e == 1 && plan != null) {
        Head head =
            p.jpq() ? new Head(null, cb, wb, d, p.m(), p.s()) : new Head(wb, null, null, d, 0, 0);
        run = fullCrossEntropyForced(ops, plan, dhb, dwb, hb, tb, head, p.rows(), p.n());
        loss[e] = run.loss();
      } else {
        loss[e] = p.table(ops, cb).fullCrossEntropy(dhb, dwb, hb, tb, wb, p.rows());
      }
      dh[e] = host(ops, dhb);
      dw[e] = host(ops, dwb);
    }
    String what =
        (p.jpq() ? "RecJPQ" : "dense")
            + " full CE, N = "
            + p.n()
            + ", plan "
            + (plan == null ? "the engine's" : plan.toString());
    assertAgree(what + " loss", loss[0], loss[1], Tolerance.REDUCTION);
    assertAgree(what + " dH", dh[0], dh[1], Tolerance.GRADIENT);
    assertAgree(what + (p.jpq() ? " dCodebooks" : " dTable"), dw[0], dw[1], Tolerance.GRADIENT);
    return run;
  }

  // ---- helpers -------------------------------------------------------------------------------

  /** {@code n} values in [-scale, scale), or small integers in [-scale, scale]. */
  protected static float[] values(SplittableRandom rnd, int n, boolean integers, double scale) {
    float[] v = new float[n];
    for (int i = 0; i < n; i++) {
      v[i] =
          integers
              ? rnd.nextInt(-(int) scale, (int) scale + 1)
              : (float) ((rnd.nextDouble() * 2 - 1) * scale);
    }
    return v;
  }

  /** Random targets in [0, items), -1 at the rows listed. */
  protected static int[] targets(SplittableRandom rnd, int rows, int items, int... ignored) {
    int[] t = new int[rows];
    for (int r = 0; r < rows; r++) {
      t[r] = rnd.nextInt(items);
    }
    for (int r : ignored) {
      t[r] = -1;
    }
    return t;
  }

  protected static Buf up(Ops ops, float[] v) {
    Buf b = ops.alloc(v.length);
    ops.upload(b, v);
    return b;
  }

  protected static IntBuf up(Ops ops, int[] v) {
    IntBuf b = ops.allocInts(v.length);
    ops.upload(b, v);
    return b;
  }

  protected static ByteBuf up(Ops ops, byte[] v) {
    ByteBuf b = ops.allocBytes(v.length);
    ops.upload(b, v);
    return b;
  }

  protected static Buf filled(Ops ops, int n, float value) {
    Buf b = ops.alloc(n);
    ops.fill(b, value);
    return b;
  }
}
