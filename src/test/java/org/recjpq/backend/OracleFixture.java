package org.recjpq.backend;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.SplittableRandom;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.TestInstance;

/**
 * What the tests of {@link ReferenceOracle} share: the oracle ({@link ReferenceOps}) and the engine
 * under test (opened once per class by {@link #openEngine}, closed after all), inputs uploaded to
 * both, one op run on both, and the comparison of every output with a {@link Tolerance}.
 *
 * <p>The tolerances, {@code |engine - oracle| <= atol + rtol·|oracle|}. The oracle computes in
 * double and rounds each output once, so it is within half a float32 ulp (6e-8 relative) of the
 * exact result on the given float inputs; what separates an engine from it is the engine's own
 * float32 rounding:
 *
 * <ul>
 *   <li>{@link #EXACT}: gathers, masks, copies, and single float operations (x·a, x + y): one
 *       correctly rounded operation gives the same float as the double result rounded once.
 *   <li>{@link #ROUNDED}: element-wise formulas of a few float operations or a float exp/erf
 *       (activations, dropout's {@code x·(1/(1-p))}, Adam, BCE): a few ulps, 1e-5 relative, and
 *       1e-6 absolute for results that cancel to near 0 (the CPU engine's erf has an absolute error
 *       below 2.4e-7).
 *   <li>{@link #SUMS}: dot products and sums of up to a few dozen float32 terms (linear layers,
 *       layer norm, attention, sampled scores, scatter-adds, log-sum-exp over columns): a float sum
 *       of k terms is off by about √k·6e-8 (at worst k·6e-8) of Σ|terms|; with inputs of order 1
 *       and k ≤ 64 that stays well under 1e-5 + 1e-4·|result|.
 *   <li>{@link #CHAINS}: gradients that chain several such sums through saved float activations
 *       (attention and GRU backward through time, layer-norm backward): the rounding of each stage
 *       is amplified by the next, so 10× {@link #SUMS}.
 * </ul>
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
public abstract class OracleFixture {
  public static final Tolerance EXACT = Tolerance.EXACT;
  public static final Tolerance ROUNDED = new Tolerance("a few float roundings", 1e-6, 1e-5);
  public static final Tolerance SUMS = new Tolerance("float32 sums", 1e-5, 1e-4);
  public static final Tolerance CHAINS = new Tolerance("chained float32 sums", 1e-4, 1e-3);

  /** The oracle. */
  protected final ReferenceOps ref = new ReferenceOps();

  private Ops engine;

  /** Opens the engine under test (once per class; skip with an assumption if it cannot run). */
  protected abstract Ops openEngine();

  /** The engine under test. */
  protected Ops engine() {
    if (engine == null) {
      engine = openEngine();
    }
    return engine;
  }

  @AfterAll
  void closeEngine() {
    if (engine != null) {
      engine.close();
    }
  }

  /** Which of the two engines a step runs on. */
  public enum Side {
    ORACLE,
    ENGINE
  }

  /** The engine of a side. */
  protected Ops ops(Side s) {
    return s == Side.ORACLE ? ref : engine();
  }

  /** One op, run once per side with that side's buffers. */
  @FunctionalInterface
  protected interface Step {
    void run(Ops ops, Side side);
  }

  /** One op that returns a loss. */
  @FunctionalInterface
  protected interface LossStep {
    double run(Ops ops, Side side);
  }

  /** Runs {@code step} on the oracle, then on the engine. */
  protected void onBoth(Step step) {
    step.run(ref, Side.ORACLE);
    step.run(engine(), Side.ENGINE);
  }

  /** Runs a loss on both and compares the two losses with {@code tol}. */
  protected void lossOnBoth(String what, LossStep step, Tolerance tol) {
    double want = step.run(ref, Side.ORACLE);
    double got = step.run(engine(), Side.ENGINE);
    OpsContract.assertAgree(what + " (loss)", want, got, tol);
  }

  /** The same floats on both sides. */
  public record F(Buf oracle, Buf engine) {
    public Buf at(Side s) {
      return s == Side.ORACLE ? oracle : engine;
    }
  }

  /** The same ints on both sides. */
  public record I(IntBuf oracle, IntBuf engine) {
    public IntBuf at(Side s) {
      return s == Side.ORACLE ? oracle : engine;
    }
  }

  /** The same bytes on both sides. */
  public record B(ByteBuf oracle, ByteBuf engine) {
    public ByteBuf at(Side s) {
      return s == Side.ORACLE ? oracle : engine;
    }
  }

  protected F floats(float[] v) {
    Buf r = ref.alloc(v.length);
    ref.upload(r, v);
    Buf g = engine().alloc(v.length);
    engine().upload(g, v);
    return new F(r, g);
  }

  /** {@code n} floats uniform in [-scale, scale), from {@code seed}. */
  protected static float[] uniform(long seed, int n, double scale) {
    SplittableRandom rnd = new SplittableRandom(seed);
    float[] v = new float[n];
    for (int i = 0; i < n; i++) {
      v[i] = (float) ((rnd.nextDouble() * 2 - 1) * scale);
    }
    return v;
  }

  protected F random(long seed, int n, double scale) {
    return floats(uniform(seed, n, scale));
  }

  protected F zeros(int n) {
    return floats(new float[n]);
  }

  protected I ints(int[] v) {
    IntBuf r = ref.allocInts(v.length);
    ref.upload(r, v);
    IntBuf g = engine().allocInts(v.length);
    engine().upload(g, v);
    return new I(r, g);
  }

  /** {@code n} ids in [0, bound), each PAD (-1) with probability {@code padShare}. */
  protected static int[] ids(long seed, int n, int bound, double padShare) {
    SplittableRandom rnd = new SplittableRandom(seed);
    int[] v = new int[n];
    for (int i = 0; i < n; i++) {
      v[i] = rnd.nextDouble() < padShare ? -1 : rnd.nextInt(bound);
    }
    return v;
  }

  protected B bytes(byte[] v) {
    ByteBuf r = ref.allocBytes(v.length);
    ref.upload(r, v);
    ByteBuf g = engine().allocBytes(v.length);
    engine().upload(g, v);
    return new B(r, g);
  }

  /** Random RecJPQ codes of {@code n} items × {@code splits}, each in [0, 256). */
  protected B codes(long seed, int n, int splits) {
    SplittableRandom rnd = new SplittableRandom(seed);
    byte[] v = new byte[n * splits];
    for (int i = 0; i < v.length; i++) {
      v[i] = (byte) rnd.nextInt(256);
    }
    return bytes(v);
  }

  /** Compares the engine's copy of {@code x} with the oracle's, element by element. */
  protected void check(String what, F x, Tolerance tol) {
    float[] want = new float[(int) x.oracle().size()];
    ref.download(want, x.oracle());
    float[] got = new float[(int) x.engine().size()];
    engine().download(got, x.engine());
    OpsContract.assertAgree(what + " on " + engine().name() + " vs the oracle", want, got, tol);
  }

  /** Compares int buffers exactly. */
  protected void check(String what, I x) {
    int[] want = new int[(int) x.oracle().size()];
    ref.download(want, x.oracle());
    int[] got = new int[(int) x.engine().size()];
    engine().download(got, x.engine());
    for (int i = 0; i < want.length; i++) {
      assertEquals(want[i], got[i], what + "[" + i + "] on " + engine().name());
    }
  }
}
