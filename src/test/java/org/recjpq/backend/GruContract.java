package org.recjpq.backend;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The GRU layer's contract ({@link Ops#gruForward}, {@link Ops#gruBackward}): the engine under test
 * against the CPU reference for a few shapes, without ids, with ids and no PAD, with a fixed PAD
 * layout (left padding, a PAD in the middle, a fully padded sequence) and with random PADs. Forward
 * outputs (y, gates) within {@link Tolerance#REDUCTION}, gradients within {@link
 * Tolerance#GRADIENT}; PAD steps must give exact zeros, dx is overwritten (it starts as garbage),
 * the parameter gradients are accumulated (they start nonzero) and dy is left untouched.
 */
public abstract class GruContract extends OpsContract {
  /** How the steps are masked. */
  protected enum Pads {
    /** {@code ids == null}: nothing masked. */
    NULL_IDS,
    /** Ids given, none negative. */
    NO_PAD,
    /** Sequence 0 left-padded, sequence 1 with a PAD in the middle, sequence 2 all PAD. */
    LAYOUT,
    /** About a third of the steps PAD, anywhere. */
    RANDOM
  }

  /** (batch, len, in, hidden) × PAD pattern. */
  protected Iterable<Arguments> cases() {
    int[][] shapes = {{3, 1, 6, 8}, {3, 4, 10, 16}, {3, 6, 7, 13}, {3, 9, 16, 32}};
    List<Arguments> out = new ArrayList<>();
    for (int[] s : shapes) {
      for (Pads p : Pads.values()) {
        out.add(Arguments.of(s[0], s[1], s[2], s[3], p));
      }
    }
    return out;
  }

  /** The ids of one pattern, or null. */
  private Ints ids(Pads pads, int batch, int len, long seed) {
    switch (pads) {
      case NULL_IDS:
        return null;
      case RANDOM:
        return randomIds(seed, batch * len, 1000, 0.35);
      default:
        int[] v = new int[batch * len];
        for (int b = 0; b < batch; b++) {
          for (int t = 0; t < len; t++) {
            boolean pad =
                pads == Pads.LAYOUT
                    && ((b % 3 == 0 && t < len / 2) || (b % 3 == 1 && t == len / 2) || b % 3 == 2);
            v[b * len + t] = pad ? -1 : 1 + (b * 31 + t * 7) % 97;
          }
        }
        return ints(v);
    }
  }

  /** The inputs of one case, on both engines. */
  private record Layer(Floats x, Floats wIh, Floats wHh, Floats bIh, Floats bHh, Ints ids) {
    IntBuf refIds() {
      return ids == null ? null : ids.ref();
    }

    IntBuf gotIds() {
      return ids == null ? null : ids.got();
    }
  }

  private Layer layer(long seed, int batch, int len, int in, int hidden, Pads pads) {
    double w = 1 / Math.sqrt(hidden); // nn.GRU's initial range
    return new Layer(
        randomFloats(seed, batch * len * in, 1.0),
        randomFloats(seed + 1, 3 * hidden * in, w),
        randomFloats(seed + 2, 3 * hidden * hidden, w),
        randomFloats(seed + 3, 3 * hidden, w),
        randomFloats(seed + 4, 3 * hidden, w),
        ids(pads, batch, len, seed + 5));
  }

  /** y and gates of the forward on both engines. */
  private Floats[] forward(Layer l, int batch, int len, int in, int hidden) {
    Floats y = zeros(batch * len * hidden);
    Floats gates = zeros(batch * len * 4 * hidden);
    ref.gruForward(
        y.ref(),
        gates.ref(),
        l.x.ref(),
        l.wIh.ref(),
        l.wHh.ref(),
        l.bIh.ref(),
        l.bHh.ref(),
        l.refIds(),
        batch,
        len,
        in,
        hidden);
    engine()
        .gruForward(
            y.got(),
            gates.got(),
            l.x.got(),
            l.wIh.got(),
            l.wHh.got(),
            l.bIh.got(),
            l.bHh.got(),
            l.gotIds(),
            batch,
            len,
            in,
            hidden);
    return new Floats[] {y, gates};
  }

  private static String label(int batch, int len, int in, int hidden, Pads pads) {
    return "gru(batch "
        + batch
        + ", len "
        + len
        + ", in "
        + in
        + ", hidden "
        + hidden
        + ", "
        + pads
        + ")";
  }

  @ParameterizedTest
  @MethodSource("cases")
  void forwardAgrees(int batch, int len, int in, int hidden, Pads pads) {
    String what = label(batch, len, in, hidden, pads);
    Layer l = layer(100 + len * 10L + hidden, batch, len, in, hidden, pads);
    Floats[] out = forward(l, batch, len, in, hidden);
    assertAgree(what + " y", out[0], Tolerance.REDUCTION);
    assertAgree(what + " gates", out[1], Tolerance.REDUCTION);
    if (l.ids != null) {
      float[] y = host(engine(), out[0].got());
      float[] g = host(engine(), out[1].got());
      for (int row = 0; row < batch * len; row++) {
        if (l.ids.host()[row] < 0) {
          for (int j = 0; j < hidden; j++) {
            assertEquals(0f, y[row * hidden + j], what + ": y of the PAD step " + row);
          }
          for (int j = 0; j < 4 * hidden; j++) {
            assertEquals(0f, g[row * 4 * hidden + j], what + ": gates of the PAD step " + row);
          }
        }
      }
    }
  }

  @ParameterizedTest
  @MethodSource("cases")
  void backwardAgrees(int batch, int len, int in, int hidden, Pads pads) {
    String what = label(batch, len, in, hidden, pads);
    long seed = 500 + len * 10L + hidden;
    Layer l = layer(seed, batch, len, in, hidden, pads);
    Floats[] out = forward(l, batch, len, in, hidden);
    Floats dy = randomFloats(seed + 6, batch * len * hidden, 1.0);
    Floats dx = randomFloats(seed + 7, batch * len * in, 50.0); // garbage: must be overwritten
    Floats dWih = randomFloats(seed + 8, 3 * hidden * in, 1.0); // nonzero: must be accumulated into
    Floats dWhh = randomFloats(seed + 9, 3 * hidden * hidden, 1.0);
    Floats dBih = randomFloats(seed + 10, 3 * hidden, 1.0);
    Floats dBhh = randomFloats(seed + 11, 3 * hidden, 1.0);
    ref.gruBackward(
        dx.ref(),
        dWih.ref(),
        dWhh.ref(),
        dBih.ref(),
        dBhh.ref(),
        dy.ref(),
        l.x.ref(),
        out[0].ref(),
        out[1].ref(),
        l.wIh.ref(),
        l.wHh.ref(),
        l.refIds(),
        batch,
        len,
        in,
        hidden);
    engine()
        .gruBackward(
            dx.got(),
            dWih.got(),
            dWhh.got(),
            dBih.got(),
            dBhh.got(),
            dy.got(),
            l.x.got(),
            out[0].got(),
            out[1].got(),
            l.wIh.got(),
            l.wHh.got(),
            l.gotIds(),
            batch,
            len,
            in,
            hidden);
    assertAgree(what + " dx", dx, Tolerance.GRADIENT);
    assertAgree(what + " dW_ih", dWih, Tolerance.GRADIENT);
    assertAgree(what + " dW_hh", dWhh, Tolerance.GRADIENT);
    assertAgree(what + " db_ih", dBih, Tolerance.GRADIENT);
    assertAgree(what + " db_hh", dBhh, Tolerance.GRADIENT);
    assertAgree(what + " dy (read only)", dy.host(), host(engine(), dy.got()), Tolerance.EXACT);
  }
}
