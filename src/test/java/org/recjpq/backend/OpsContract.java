package org.recjpq.backend;

import static org.junit.jupiter.api.Assertions.fail;

import java.util.SplittableRandom;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.TestInstance;
import org.recjpq.backend.cpu.CpuOps;

/**
 * The base of the engine contract suites (docs/architecture.md §3): each suite (core ops,
 * attention, losses, GRU) is an abstract subclass whose tests run an op on the CPU reference engine
 * and on the engine under test with the same inputs and compare every output with one {@link
 * Tolerance}. A concrete class per engine supplies {@link #engine()}: the CPU engine with 2 threads
 * (thread-count independence) and the CUDA engine (tagged {@code gpu}; skipped with the reason
 * where no GPU is present).
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
public abstract class OpsContract {
  /** The specification: the CPU engine on one thread. */
  protected final Ops ref = new CpuOps(1);

  private Ops engine;

  /**
   * Opens the engine under test (called once per test class; skip with an assumption if it cannot
   * run).
   */
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

  /** The same float values on both engines. */
  public record Floats(Buf ref, Buf got, float[] host) {}

  /** The same int values on both engines. */
  public record Ints(IntBuf ref, IntBuf got, int[] host) {}

  /** The same bytes on both engines. */
  public record Bytes(ByteBuf ref, ByteBuf got, byte[] host) {}

  /** Uploads {@code values} to both engines. */
  protected Floats floats(float[] values) {
    Buf r = ref.alloc(values.length);
    ref.upload(r, values);
    Buf g = engine().alloc(values.length);
    engine().upload(g, values);
    return new Floats(r, g, values.clone());
  }

  /** {@code n} uniform floats in [-scale, scale). */
  protected Floats randomFloats(long seed, int n, double scale) {
    SplittableRandom rnd = new SplittableRandom(seed);
    float[] v = new float[n];
    for (int i = 0; i < n; i++) {
      v[i] = (float) ((rnd.nextDouble() * 2 - 1) * scale);
    }
    return floats(v);
  }

  /** {@code n} small integers in [-range, range] as floats: sums of them are exact in any order. */
  protected Floats integerFloats(long seed, int n, int range) {
    SplittableRandom rnd = new SplittableRandom(seed);
    float[] v = new float[n];
    for (int i = 0; i < n; i++) {
      v[i] = rnd.nextInt(-range, range + 1);
    }
    return floats(v);
  }

  /** Zeros on both engines. */
  protected Floats zeros(int n) {
    return floats(new float[n]);
  }

  /** Uploads {@code values} to both engines. */
  protected Ints ints(int[] values) {
    IntBuf r = ref.allocInts(values.length);
    ref.upload(r, values);
    IntBuf g = engine().allocInts(values.length);
    engine().upload(g, values);
    return new Ints(r, g, values.clone());
  }

  /** {@code n} ids in [0, bound), about {@code padShare} of them -1 (PAD). */
  protected Ints randomIds(long seed, int n, int bound, double padShare) {
    SplittableRandom rnd = new SplittableRandom(seed);
    int[] v = new int[n];
    for (int i = 0; i < n; i++) {
      v[i] = rnd.nextDouble() < padShare ? -1 : rnd.nextInt(bound);
    }
    return ints(v);
  }

  /** Uploads {@code values} to both engines. */
  protected Bytes bytes(byte[] values) {
    ByteBuf r = ref.allocBytes(values.length);
    ref.upload(r, values);
    ByteBuf g = engine().allocBytes(values.length);
    engine().upload(g, values);
    return new Bytes(r, g, values.clone());
  }

  /** Random RecJPQ codes (n items, m splits), each in [0, 256). */
  protected Bytes randomCodes(long seed, int n, int splits) {
    SplittableRandom rnd = new SplittableRandom(seed);
    byte[] v = new byte[n * splits];
    for (int i = 0; i < v.length; i++) {
      v[i] = (byte) rnd.nextInt(256);
    }
    return bytes(v);
  }

  /** Downloads a buffer of either engine. */
  protected float[] host(Ops ops, Buf b) {
    float[] a = new float[(int) b.size()];
    ops.download(a, b);
    return a;
  }

  /** Downloads an int buffer of either engine. */
  protected int[] host(Ops ops, IntBuf b) {
    int[] a = new int[(int) b.size()];
    ops.download(a, b);
    return a;
  }

  /** Compares the two engines' copies of {@code x} element by element. */
  protected void assertAgree(String what, Floats x, Tolerance tol) {
    assertAgree(what, host(ref, x.ref()), host(engine(), x.got()), tol);
  }

  /** Compares int results exactly. */
  protected void assertAgree(String what, Ints x) {
    int[] r = host(ref, x.ref());
    int[] g = host(engine(), x.got());
    for (int i = 0; i < r.length; i++) {
      if (r[i] != g[i]) {
        fail(
            what
                + "["
                + i
                + "]: "
                + engine().name()
                + " gave "
                + g[i]
                + ", the CPU reference "
                + r[i]);
      }
    }
  }

  /** Compares arrays with {@code tol}; reports the worst element and how many disagree. */
  public static void assertAgree(String what, float[] ref, float[] got, Tolerance tol) {
    if (ref.length != got.length) {
      fail(what + ": lengths differ (" + got.length + " vs the reference's " + ref.length + ")");
    }
    int bad = 0;
    int worst = -1;
    double worstExcess = -1;
    for (int i = 0; i < ref.length; i++) {
      if (!tol.accepts(got[i], ref[i])) {
        bad++;
        double excess = Math.abs(got[i] - ref[i]) - (tol.atol() + tol.rtol() * Math.abs(ref[i]));
        if (Double.isNaN(excess) || excess > worstExcess) {
          worstExcess = Double.isNaN(excess) ? Double.POSITIVE_INFINITY : excess;
          worst = i;
        }
      }
    }
    if (bad > 0) {
      fail(
          what
              + ": "
              + bad
              + " of "
              + ref.length
              + " elements outside tolerance '"
              + tol.name()
              + "' (atol "
              + tol.atol()
              + ", rtol "
              + tol.rtol()
              + "); worst ["
              + worst
              + "]: got "
              + got[worst]
              + ", reference "
              + ref[worst]);
    }
  }

  /** Compares two scalars (losses). */
  public static void assertAgree(String what, double ref, double got, Tolerance tol) {
    if (!tol.accepts(got, ref)) {
      fail(what + ": got " + got + ", reference " + ref + " (tolerance '" + tol.name() + "')");
    }
  }
}
