package org.recjpq.backend.cpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Random;
import org.junit.jupiter.api.Test;
import org.recjpq.backend.Golden;
import org.recjpq.backend.GradCheck;

/**
 * The GRU layer against the golden reference, a double reference with the PAD mask, and finite
 * differences.
 */
class CpuGruTest {
  private static CpuBuf buf(float[] v) {
    CpuBuf b = CpuBuf.allocate(v.length);
    b.put(v);
    return b;
  }

  @Test
  void golden() {
    Golden g = Golden.load("gru_layer.json");
    int batch = g.shape("x")[0];
    int len = g.shape("x")[1];
    int in = g.shape("x")[2];
    int hidden = (int) g.param("hidden");
    CpuOps ops = new CpuOps(2);
    CpuBuf x = buf(g.f("x"));
    CpuBuf wIh = buf(g.f("weight_ih"));
    CpuBuf wHh = buf(g.f("weight_hh"));
    CpuBuf bIh = buf(g.f("bias_ih"));
    CpuBuf bHh = buf(g.f("bias_hh"));
    CpuBuf y = CpuBuf.allocate(batch * len * hidden);
    CpuBuf gates = CpuBuf.allocate(batch * len * 4 * hidden);
    ops.gruForward(y, gates, x, wIh, wHh, bIh, bHh, null, batch, len, in, hidden);
    Golden.assertOutput("y", y.toArray(), g.d("y"));
    float[] gt = gates.toArray();
    float[][] rzn = new float[3][batch * len * hidden];
    for (int row = 0; row < batch * len; row++) {
      for (int k = 0; k < 3; k++) {
        System.arraycopy(gt, row * 4 * hidden + k * hidden, rzn[k], row * hidden, hidden);
      }
    }
    Golden.assertOutput("r", rzn[0], g.d("r"));
    Golden.assertOutput("z", rzn[1], g.d("z"));
    Golden.assertOutput("n", rzn[2], g.d("n"));
    CpuBuf dx = CpuBuf.allocate(batch * len * in);
    CpuBuf dWih = CpuBuf.allocate(3 * hidden * in);
    CpuBuf dWhh = CpuBuf.allocate(3 * hidden * hidden);
    CpuBuf dBih = CpuBuf.allocate(3 * hidden);
    CpuBuf dBhh = CpuBuf.allocate(3 * hidden);
    ops.gruBackward(
        dx,
        dWih,
        dWhh,
        dBih,
        dBhh,
        buf(g.f("dOut")),
        x,
        y,
        gates,
        wIh,
        wHh,
        null,
        batch,
        len,
        in,
        hidden);
    Golden.assertGrad("dx", dx.toArray(), g.grad("x"));
    Golden.assertGrad("dweight_ih", dWih.toArray(), g.grad("weight_ih"));
    Golden.assertGrad("dweight_hh", dWhh.toArray(), g.grad("weight_hh"));
    Golden.assertGrad("dbias_ih", dBih.toArray(), g.grad("bias_ih"));
    Golden.assertGrad("dbias_hh", dBhh.toArray(), g.grad("bias_hh"));
  }

  /** A double GRU with the PAD mask: a masked step outputs 0 and the next starts from 0. */
  static double[] reference(
      double[] x,
      double[] wih,
      double[] whh,
      double[] bih,
      double[] bhh,
      int[] ids,
      int batch,
      int len,
      int in,
      int hidden) {
    double[] y = new double[batch * len * hidden];
    for (int b = 0; b < batch; b++) {
      double[] h = new double[hidden];
      for (int t = 0; t < len; t++) {
        int row = b * len + t;
        if (ids != null && ids[row] < 0) {
          h = new double[hidden];
          continue;
        }
        double[] next = new double[hidden];
        for (int j = 0; j < hidden; j++) {
          double[] a = new double[3];
          double[] c = new double[3];
          for (int k = 0; k < 3; k++) {
            a[k] = bih[k * hidden + j];
            c[k] = bhh[k * hidden + j];
            for (int i = 0; i < in; i++) {
              a[k] += wih[(k * hidden + j) * in + i] * x[row * in + i];
            }
            for (int i = 0; i < hidden; i++) {
              c[k] += whh[(k * hidden + j) * hidden + i] * h[i];
            }
          }
          double r = 1 / (1 + Math.exp(-(a[0] + c[0])));
          double z = 1 / (1 + Math.exp(-(a[1] + c[1])));
          double n = Math.tanh(a[2] + r * c[2]);
          next[j] = (1 - z) * n + z * h[j];
        }
        h = next;
        System.arraycopy(h, 0, y, row * hidden, hidden);
      }
    }
    return y;
  }

  @Test
  void paddedSequencesMatchFiniteDifferencesAndTheirUnpaddedSelves() {
    int batch = 3;
    int len = 5;
    int in = 4;
    int hidden = 3;
    Random rnd = new Random(21);
    double[] x = GradCheck.random(rnd, batch * len * in, 1);
    double[] wih = GradCheck.random(rnd, 3 * hidden * in, 0.7);
    double[] whh = GradCheck.random(rnd, 3 * hidden * hidden, 0.7);
    double[] bih = GradCheck.random(rnd, 3 * hidden, 0.5);
    double[] bhh = GradCheck.random(rnd, 3 * hidden, 0.5);
    double[] dOut = GradCheck.random(rnd, batch * len * hidden, 1);
    int[] ids = {-1, -1, 3, 4, 5, 1, 2, 3, 4, 5, -1, 2, -1, 7, 8}; // left-padded, full, PADs inside
    CpuOps ops = new CpuOps(2);
    CpuBuf xb = buf(GradCheck.toFloat(x));
    CpuBuf wIh = buf(GradCheck.toFloat(wih));
    CpuBuf wHh = buf(GradCheck.toFloat(whh));
    CpuBuf bIh = buf(GradCheck.toFloat(bih));
    CpuBuf bHh = buf(GradCheck.toFloat(bhh));
    CpuBuf y = CpuBuf.allocate(batch * len * hidden);
    CpuBuf gates = CpuBuf.allocate(batch * len * 4 * hidden);
    CpuIntBuf idb = CpuIntBuf.wrap(ids);
    ops.gruForward(y, gates, xb, wIh, wHh, bIh, bHh, idb, batch, len, in, hidden);
    GradCheck.assertMatches(
        "y", y.toArray(), reference(x, wih, whh, bih, bhh, ids, batch, len, in, hidden));
    CpuBuf dx = CpuBuf.allocate(batch * len * in);
    CpuBuf[] dw = {
      CpuBuf.allocate(wih.length),
      CpuBuf.allocate(whh.length),
      CpuBuf.allocate(bih.length),
      CpuBuf.allocate(bhh.length)
    };
    ops.gruBackward(
        dx,
        dw[0],
        dw[1],
        dw[2],
        dw[3],
        buf(GradCheck.toFloat(dOut)),
        xb,
        y,
        gates,
        wIh,
        wHh,
        idb,
        batch,
        len,
        in,
        hidden);
    double[][] inputs = {x, wih, whh, bih, bhh};
    float[][] analytic = {
      dx.toArray(), dw[0].toArray(), dw[1].toArray(), dw[2].toArray(), dw[3].toArray()
    };
    String[] names = {"dx", "dW_ih", "dW_hh", "db_ih", "db_hh"};
    for (int k = 0; k < inputs.length; k++) {
      double[] v = inputs[k];
      GradCheck.assertMatches(
          names[k],
          analytic[k],
          GradCheck.numeric(
              v,
              () -> {
                double[] yy = reference(x, wih, whh, bih, bhh, ids, batch, len, in, hidden);
                double s = 0;
                for (int i = 0; i < yy.length; i++) {
                  s += yy[i] * dOut[i];
                }
                return s;
              }));
    }
    // sequence 0 (two PADs, then items) equals the same three steps without the PADs
    float[] y0 = y.toArray();
    CpuBuf x3 = buf(java.util.Arrays.copyOfRange(GradCheck.toFloat(x), 2 * in, 5 * in));
    CpuBuf y3 = CpuBuf.allocate(3 * hidden);
    ops.gruForward(
        y3, CpuBuf.allocate(3 * 4 * hidden), x3, wIh, wHh, bIh, bHh, null, 1, 3, in, hidden);
    assertArrayEquals(java.util.Arrays.copyOfRange(y0, 2 * hidden, 5 * hidden), y3.toArray());
    for (int j = 0; j < 2 * hidden; j++) {
      assertEquals(0f, y0[j], "PAD steps output 0");
    }
  }
}
