package org.recjpq.backend;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.util.Arrays;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.recjpq.backend.cpu.Blas;

/**
 * The attention contract ({@link Ops#attentionForward}, {@link Ops#attentionBackward}): the engine
 * under test against the CPU reference on the same inputs, causal and bidirectional, one and
 * several heads, with PAD ids of every kind: left padding, a PAD in the middle and at the end, a
 * fully padded sequence and one without PAD (sequence b gets pattern b mod 4, see {@link #ids}).
 * Outputs start as NaN on both engines, so an entry an engine fails to write shows up. Forward
 * outputs are compared with {@link Tolerance#REDUCTION}, gradients with {@link Tolerance#GRADIENT};
 * the masking rules (exact zeros, rows summing to 1) are checked on the engine's own results.
 */
public abstract class AttentionContract extends OpsContract {

  /** The CPU reference runs its products on OpenBLAS. */
  @BeforeEach
  void requireReferenceBlas() {
    assumeTrue(Blas.isAvailable(), Blas.status().description());
  }

  /** One shape and its inputs, uploaded to both engines. */
  private final class Case {
    final int batch;
    final int len;
    final int dim;
    final int heads;
    final boolean causal;
    final int[] hostIds;
    final Ints ids;
    final Floats q;
    final Floats k;
    final Floats v;
    final Floats dOut;
    final Floats out;
    final Floats probs;
    final Floats dq;
    final Floats dk;
    final Floats dv;

    Case(int batch, int len, int dim, int heads, boolean causal, long seed) {
      this.batch = batch;
      this.len = len;
      this.dim = dim;
      this.heads = heads;
      this.causal = causal;
      int n = batch * len * dim;
      hostIds = ids(batch, len);
      ids = ints(hostIds);
      q = randomFloats(seed, n, 1.5);
      k = randomFloats(seed + 1, n, 1.5);
      v = randomFloats(seed + 2, n, 1.0);
      dOut = randomFloats(seed + 3, n, 1.0);
      out = nans(n);
      probs = nans(batch * heads * len * len);
      dq = nans(n);
      dk = nans(n);
      dv = nans(n);
    }

    void forward(Ops ops, boolean onRef) {
      ops.attentionForward(
          pick(out, onRef),
          pick(probs, onRef),
          pick(q, onRef),
          pick(k, onRef),
          pick(v, onRef),
          onRef ? ids.ref() : ids.got(),
          batch,
          len,
          dim,
          heads,
          causal);
    }

    void backward(Ops ops, boolean onRef) {
      ops.attentionBackward(
          pick(dq, onRef),
          pick(dk, onRef),
          pick(dv, onRef),
          pick(dOut, onRef),
          pick(probs, onRef),
          pick(q, onRef),
          pick(k, onRef),
          pick(v, onRef),
          onRef ? ids.ref() : ids.got(),
          batch,
          len,
          dim,
          heads,
          causal);
    }

    /** Forward, then backward, on both engines. */
    Case run() {
      forward(ref, true);
      forward(engine(), false);
      backward(ref, true);
      backward(engine(), false);
      return this;
    }

    String what() {
      return "B"
          + batch
          + " T"
          + len
          + " D"
          + dim
          + " H"
          + heads
          + (causal ? " causal" : " bidirectional");
    }

    boolean pad(int b, int t) {
      return hostIds[b * len + t] < 0;
    }
  }

  private static Buf pick(Floats x, boolean onRef) {
    return onRef ? x.ref() : x.got();
  }

  private Floats nans(int n) {
    float[] a = new float[n];
    Arrays.fill(a, Float.NaN);
    return floats(a);
  }

  /**
   * ids (batch, len), sequence b by pattern b mod 4: 0 left padding (the first len/3 positions); 1
   * a PAD in the middle and the last two positions PAD; 2 all PAD; 3 no PAD.
   */
  static int[] ids(int batch, int len) {
    int[] ids = new int[batch * len];
    for (int b = 0; b < batch; b++) {
      for (int t = 0; t < len; t++) {
        boolean pad =
            switch (b % 4) {
              case 0 -> t < len / 3;
              case 1 -> t == len / 2 || t >= len - 2;
              case 2 -> true;
              default -> false;
            };
        ids[b * len + t] = pad ? -1 : 1 + (b * 31 + t * 7) % 50;
      }
    }
    return ids;
  }

  // ---- agreement with the reference ----------------------------------------------------------

  @ParameterizedTest(name = "B{0} T{1} D{2} H{3} causal={4}")
  @CsvSource({
    "3, 7, 8, 1, true", "3, 7, 8, 2, true", "3, 7, 8, 1, false", "3, 7, 8, 2, false",
    "3, 33, 64, 1, true", "3, 33, 64, 2, true", "3, 33, 64, 1, false", "3, 33, 64, 2, false",
    "4, 20, 24, 2, true", "4, 20, 24, 2, false", "5, 12, 16, 4, true", "2, 1, 8, 2, false"
  })
  void forwardAgrees(int batch, int len, int dim, int heads, boolean causal) {
    Case c = new Case(batch, len, dim, heads, causal, 1000L * len + dim + heads).run();
    assertAgree(c.what() + " out", c.out, Tolerance.REDUCTION);
    assertAgree(c.what() + " probs", c.probs, Tolerance.REDUCTION);
  }

  @ParameterizedTest(name = "B{0} T{1} D{2} H{3} causal={4}")
  @CsvSource({
    "3, 7, 8, 1, true", "3, 7, 8, 2, true", "3, 7, 8, 1, false", "3, 7, 8, 2, false",
    "3, 33, 64, 1, true", "3, 33, 64, 2, true", "3, 33, 64, 1, false", "3, 33, 64, 2, false",
    "4, 20, 24, 2, true", "4, 20, 24, 2, false", "5, 12, 16, 4, true", "2, 1, 8, 2, false"
  })
  void backwardAgrees(int batch, int len, int dim, int heads, boolean causal) {
    Case c = new Case(batch, len, dim, heads, causal, 2000L * len + dim + heads).run();
    assertAgree(c.what() + " dq", c.dq, Tolerance.GRADIENT);
    assertAgree(c.what() + " dk", c.dk, Tolerance.GRADIENT);
    assertAgree(c.what() + " dv", c.dv, Tolerance.GRADIENT);
  }

  /** A second call with other inputs overwrites every output (no state kept from the first). */
  @Test
  void repeatedCallsOverwrite() {
    Case big = new Case(3, 33, 64, 2, true, 7).run();
    assertAgree(big.what() + " out", big.out, Tolerance.REDUCTION);
    Case small = new Case(3, 9, 16, 2, false, 8).run();
    assertAgree(small.what() + " out", small.out, Tolerance.REDUCTION);
    assertAgree(small.what() + " probs", small.probs, Tolerance.REDUCTION);
    assertAgree(small.what() + " dq", small.dq, Tolerance.GRADIENT);
    assertAgree(small.what() + " dk", small.dk, Tolerance.GRADIENT);
    assertAgree(small.what() + " dv", small.dv, Tolerance.GRADIENT);
    // the same buffers again, with new values in q: every output follows
    float[] q2 = host(ref, small.k.ref());
    ref.upload(small.q.ref(), q2);
    engine().upload(small.q.got(), q2);
    small.run();
    assertAgree(small.what() + " out (second call)", small.out, Tolerance.REDUCTION);
    assertAgree(small.what() + " probs (second call)", small.probs, Tolerance.REDUCTION);
    assertAgree(small.what() + " dq (second call)", small.dq, Tolerance.GRADIENT);
    assertAgree(small.what() + " dk (second call)", small.dk, Tolerance.GRADIENT);
  }

  // ---- masking rules on the engine's own results -----------------------------------------------

  @ParameterizedTest(name = "H{0} causal={1}")
  @CsvSource({"1, true", "2, true", "1, false", "2, false"})
  void masksAreExactOnEngine(int heads, boolean causal) {
    Case c = new Case(4, 33, 32, heads, causal, 31L + heads).run();
    Ops e = engine();
    float[] probs = host(e, c.probs.got());
    int len = c.len;
    for (int b = 0; b < c.batch; b++) {
      for (int h = 0; h < heads; h++) {
        for (int i = 0; i < len; i++) {
          int row = ((b * heads + h) * len + i) * len;
          double sum = 0;
          for (int j = 0; j < len; j++) {
            float p = probs[row + j];
            boolean masked = c.pad(b, i) || c.pad(b, j) || (causal && j > i);
            if (masked && p != 0f) {
              fail(c.what() + " probs[" + b + "," + h + "," + i + "," + j + "] is masked but " + p);
            }
            if (!(p >= 0f && p <= 1f + 1e-6f)) {
              fail(c.what() + " probs[" + b + "," + h + "," + i + "," + j + "] = " + p);
            }
            sum += p;
          }
          assertEquals(
              c.pad(b, i) ? 0.0 : 1.0, sum, 1e-5, c.what() + " probs row " + b + "," + h + "," + i);
        }
      }
    }
    String[] names = {"out", "dq", "dk", "dv"};
    Floats[] outputs = {c.out, c.dq, c.dk, c.dv};
    for (int x = 0; x < names.length; x++) {
      float[] a = host(e, outputs[x].got());
      for (int b = 0; b < c.batch; b++) {
        for (int t = 0; t < len; t++) {
          for (int d = 0; d < c.dim; d++) {
            float value = a[(b * len + t) * c.dim + d];
            if (c.pad(b, t) ? value != 0f : !Float.isFinite(value)) {
              fail(
                  c.what()
                      + " "
                      + names[x]
                      + "["
                      + b
                      + ","
                      + t
                      + ","
                      + d
                      + "] = "
                      + value
                      + (c.pad(b, t) ? " at a PAD position" : ""));
            }
          }
        }
      }
    }
  }

  // ---- shapes ----------------------------------------------------------------------------------

  @Test
  void emptyShapesDoNothing() {
    for (int[] s : new int[][] {{0, 5}, {2, 0}}) {
      Case c = new Case(s[0], s[1], 8, 2, true, 5);
      c.run(); // no exception on either engine
    }
  }

  @Test
  void badShapesAreRejected() {
    Ops e = engine();
    int batch = 2;
    int len = 5;
    int dim = 8;
    int n = batch * len * dim;
    Buf x = e.alloc(n);
    Buf probs = e.alloc((long) batch * 2 * len * len);
    IntBuf ids = e.allocInts(batch * len);
    assertThrows(
        IllegalArgumentException.class,
        () -> e.attentionForward(x, probs, x, x, x, ids, batch, len, dim, 3, true),
        "dim not divisible by heads");
    assertThrows(
        IllegalArgumentException.class,
        () -> e.attentionForward(x, probs, x, x, x, ids, batch, len, dim, 0, true),
        "no heads");
    assertThrows(
        IllegalArgumentException.class,
        () -> e.attentionForward(x, probs, x, x, x, ids, batch, -1, dim, 2, true),
        "negative len");
    Buf small = e.alloc(n - 1);
    assertThrows(
        IllegalArgumentException.class,
        () -> e.attentionForward(x, probs, small, x, x, ids, batch, len, dim, 2, true),
        "q too small");
    assertThrows(
        IllegalArgumentException.class,
        () -> e.attentionForward(x, probs, x, x, x, ids, batch, len, dim, 4, true),
        "probs too small for 4 heads");
    IntBuf fewIds = e.allocInts(batch * len - 1);
    assertThrows(
        IllegalArgumentException.class,
        () -> e.attentionForward(x, probs, x, x, x, fewIds, batch, len, dim, 2, true),
        "too few ids");
    assertThrows(
        IllegalArgumentException.class,
        () -> e.attentionBackward(x, x, small, x, probs, x, x, x, ids, batch, len, dim, 2, false),
        "dv too small");
    assertThrows(
        IllegalArgumentException.class,
        () -> e.attentionBackward(x, x, x, x, probs, x, x, x, ids, batch, len, dim, 4, false),
        "probs too small for 4 heads");
  }
}
