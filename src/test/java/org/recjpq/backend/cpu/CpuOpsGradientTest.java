package org.recjpq.backend.cpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.recjpq.backend.Activation;
import org.recjpq.backend.CounterRng;
import org.recjpq.backend.Golden;
import org.recjpq.backend.GradCheck;

/**
 * Each CPU backward against central finite differences of a double-precision reference forward
 * written here, and each forward against that reference, on small random shapes.
 */
class CpuOpsGradientTest {
  private final CpuOps ops = new CpuOps(2);
  private final Random rnd = new Random(17);

  private CpuBuf buf(double[] values) {
    CpuBuf b = ops.alloc(values.length);
    b.put(GradCheck.toFloat(values));
    return b;
  }

  private static double dot(double[] a, double[] b) {
    double s = 0;
    for (int i = 0; i < a.length; i++) {
      s += a[i] * b[i];
    }
    return s;
  }

  @Test
  void layerNorm() {
    int rows = 5;
    int d = 7;
    double eps = 1e-5;
    double[] x = GradCheck.toDouble(GradCheck.toFloat(GradCheck.random(rnd, rows * d, 2)));
    double[] gamma = GradCheck.toDouble(GradCheck.toFloat(GradCheck.random(rnd, d, 1.5)));
    double[] beta = GradCheck.toDouble(GradCheck.toFloat(GradCheck.random(rnd, d, 1)));
    double[] dOut = GradCheck.toDouble(GradCheck.toFloat(GradCheck.random(rnd, rows * d, 1)));
    double[] y = new double[rows * d];
    GradCheck.Scalar f =
        () -> {
          for (int r = 0; r < rows; r++) {
            double mu = 0;
            for (int j = 0; j < d; j++) {
              mu += x[r * d + j] / d;
            }
            double var = 0;
            for (int j = 0; j < d; j++) {
              var += (x[r * d + j] - mu) * (x[r * d + j] - mu) / d;
            }
            for (int j = 0; j < d; j++) {
              y[r * d + j] = (x[r * d + j] - mu) / Math.sqrt(var + eps) * gamma[j] + beta[j];
            }
          }
          return dot(y, dOut);
        };
    f.eval();
    CpuBuf out = ops.alloc(rows * d);
    CpuBuf mean = ops.alloc(rows);
    CpuBuf rstd = ops.alloc(rows);
    CpuBuf bx = buf(x);
    CpuBuf bg = buf(gamma);
    ops.layerNormForward(out, mean, rstd, bx, bg, buf(beta), rows, d, (float) eps);
    Golden.assertOutput("y", out.toArray(), y);
    CpuBuf dx = buf(GradCheck.random(rnd, rows * d, 1)); // dIn accumulates: start from noise
    float[] before = dx.toArray();
    CpuBuf dg = ops.alloc(d);
    CpuBuf db = ops.alloc(d);
    ops.layerNormBackward(dx, dg, db, buf(dOut), bx, mean, rstd, bg, rows, d);
    float[] added = dx.toArray();
    for (int i = 0; i < added.length; i++) {
      added[i] -= before[i];
    }
    GradCheck.assertMatches("dx (accumulated)", added, GradCheck.numeric(x, f));
    GradCheck.assertMatches("dgamma", dg.toArray(), GradCheck.numeric(gamma, f));
    GradCheck.assertMatches("dbeta", db.toArray(), GradCheck.numeric(beta, f));
  }

  @Test
  void linear() {
    int rows = 6;
    int in = 5;
    int outDim = 4;
    double[] x = GradCheck.toDouble(GradCheck.toFloat(GradCheck.random(rnd, rows * in, 1)));
    double[] w = GradCheck.toDouble(GradCheck.toFloat(GradCheck.random(rnd, in * outDim, 1)));
    double[] b = GradCheck.toDouble(GradCheck.toFloat(GradCheck.random(rnd, outDim, 1)));
    double[] dOut = GradCheck.toDouble(GradCheck.toFloat(GradCheck.random(rnd, rows * outDim, 1)));
    double[] y = new double[rows * outDim];
    GradCheck.Scalar f =
        () -> {
          for (int r = 0; r < rows; r++) {
            for (int j = 0; j < outDim; j++) {
              double s = b[j];
              for (int k = 0; k < in; k++) {
                s += x[r * in + k] * w[k * outDim + j];
              }
              y[r * outDim + j] = s;
            }
          }
          return dot(y, dOut);
        };
    f.eval();
    CpuBuf bx = buf(x);
    CpuBuf bw = buf(w);
    CpuBuf out = ops.alloc(rows * outDim);
    ops.linearForward(out, bx, bw, buf(b), rows, in, outDim);
    Golden.assertOutput("y", out.toArray(), y);
    CpuBuf dx = ops.alloc(rows * in);
    CpuBuf dw = ops.alloc(in * outDim);
    CpuBuf db = ops.alloc(outDim);
    ops.linearBackward(dx, dw, db, buf(dOut), bx, bw, rows, in, outDim);
    GradCheck.assertMatches("dx", dx.toArray(), GradCheck.numeric(x, f));
    GradCheck.assertMatches("dW", dw.toArray(), GradCheck.numeric(w, f));
    GradCheck.assertMatches("db", db.toArray(), GradCheck.numeric(b, f));
    // parameter gradients accumulate: a second backward doubles them
    ops.linearBackward(null, dw, db, buf(dOut), bx, bw, rows, in, outDim);
    double[] twice = GradCheck.numeric(w, f);
    for (int i = 0; i < twice.length; i++) {
      twice[i] *= 2;
    }
    GradCheck.assertMatches("dW after two backwards", dw.toArray(), twice);
  }

  @ParameterizedTest
  @EnumSource(Activation.class)
  void activations(Activation act) {
    double[] x = GradCheck.toDouble(GradCheck.toFloat(GradCheck.random(rnd, 40, 3)));
    for (int i = 0; i < x.length; i++) {
      if (Math.abs(x[i]) < 1e-3) {
        x[i] = 0.5; // keep ReLU away from its kink
      }
    }
    double[] dOut = GradCheck.random(rnd, 40, 1);
    GradCheck.Scalar f =
        () -> {
          double s = 0;
          for (int i = 0; i < x.length; i++) {
            double u = x[i];
            double y =
                act == Activation.RELU ? Math.max(u, 0) : 0.5 * u * (1 + erf(u / Math.sqrt(2)));
            s += y * dOut[i];
          }
          return s;
        };
    CpuBuf bx = buf(x);
    CpuBuf y = ops.alloc(x.length);
    ops.activationForward(y, bx, act);
    double[] expected = new double[x.length];
    for (int i = 0; i < x.length; i++) {
      expected[i] =
          act == Activation.RELU ? Math.max(x[i], 0) : 0.5 * x[i] * (1 + erf(x[i] / Math.sqrt(2)));
    }
    Golden.assertOutput("y", y.toArray(), expected);
    CpuBuf dx = ops.alloc(x.length);
    ops.activationBackward(dx, buf(dOut), bx, act);
    GradCheck.assertMatches("dx", dx.toArray(), GradCheck.numeric(x, f));
  }

  /** erf by its Maclaurin series / continued fraction in double (test-side reference, |x| ≤ 6). */
  static double erf(double x) {
    double ax = Math.abs(x);
    double r;
    if (ax < 2.5) {
      double term = ax;
      double sum = ax;
      for (int n = 1; n < 60; n++) {
        term *= -ax * ax / n;
        sum += term / (2 * n + 1);
      }
      r = 2 / Math.sqrt(Math.PI) * sum;
    } else {
      // erfc continued fraction (Lentz), accurate for x ≥ 2.5
      double f = 0;
      for (int n = 60; n >= 1; n--) {
        f = n / 2.0 / (ax + f);
      }
      r = 1 - Math.exp(-ax * ax) / Math.sqrt(Math.PI) / (ax + f);
    }
    return x < 0 ? -r : r;
  }

  @Test
  void embeddingAndPositionsWithPad() {
    int batch = 2;
    int len = 4;
    int dim = 3;
    int[] ids = {-1, 2, 0, 2, 1, 1, -1, 3};
    double[] table = GradCheck.toDouble(GradCheck.toFloat(GradCheck.random(rnd, 4 * dim, 1)));
    double[] pos = GradCheck.toDouble(GradCheck.toFloat(GradCheck.random(rnd, len * dim, 1)));
    double[] dOut = GradCheck.random(rnd, batch * len * dim, 1);
    float scale = 1.5f;
    GradCheck.Scalar f =
        () -> {
          double s = 0;
          for (int r = 0; r < batch * len; r++) {
            if (ids[r] < 0) {
              continue;
            }
            for (int j = 0; j < dim; j++) {
              s += (scale * table[ids[r] * dim + j] + pos[(r % len) * dim + j]) * dOut[r * dim + j];
            }
          }
          return s;
        };
    CpuIntBuf id = CpuIntBuf.wrap(ids);
    CpuBuf emb = ops.alloc(batch * len * dim);
    CpuBuf bt = buf(table);
    ops.denseTable(4, dim).lookup(emb, id, bt, batch * len);
    CpuBuf x = ops.alloc(batch * len * dim);
    ops.positionsForward(x, emb, id, buf(pos), scale, batch, len, dim);
    float[] xv = x.toArray();
    for (int j = 0; j < dim; j++) {
      assertEquals(0f, xv[j], "PAD row is zero");
    }
    CpuBuf dEmb = ops.alloc(batch * len * dim);
    CpuBuf dPos = ops.alloc(len * dim);
    ops.positionsBackward(dEmb, dPos, buf(dOut), id, scale, batch, len, dim);
    CpuBuf dTable = ops.alloc(4 * dim);
    ops.denseTable(4, dim).lookupBackward(dTable, dEmb, id, batch * len);
    GradCheck.assertMatches("dTable", dTable.toArray(), GradCheck.numeric(table, f));
    GradCheck.assertMatches("dPositions", dPos.toArray(), GradCheck.numeric(pos, f));
  }

  @Test
  void dropoutMasksAreCounterBasedAndSharedByBackward() {
    int n = 20_000;
    double[] x = GradCheck.random(rnd, n, 1);
    CpuBuf bx = buf(x);
    CpuBuf y = ops.alloc(n);
    float p = 0.3f;
    ops.dropoutForward(y, bx, p, 42, CounterRng.stream(7, 1));
    CpuBuf dx = ops.alloc(n);
    CpuBuf ones = ops.alloc(n);
    ops.fill(ones, 1f);
    ops.dropoutBackward(dx, ones, p, 42, CounterRng.stream(7, 1));
    float[] yv = y.toArray();
    float[] dv = dx.toArray();
    int kept = 0;
    for (int i = 0; i < n; i++) {
      boolean keep = CounterRng.uniform(42, CounterRng.stream(7, 1), i) >= p;
      assertEquals(keep ? (float) x[i] / (1 - p) : 0f, yv[i], 1e-6f);
      assertEquals(keep ? 1f / (1 - p) : 0f, dv[i], 1e-6f);
      kept += keep ? 1 : 0;
    }
    assertTrue(Math.abs(kept / (double) n - 0.7) < 0.02, "keep rate " + kept / (double) n);
    CpuBuf other = ops.alloc(n);
    ops.dropoutForward(other, bx, p, 42, CounterRng.stream(8, 1));
    assertTrue(!java.util.Arrays.equals(yv, other.toArray()), "another step draws another mask");
    CpuBuf copy = ops.alloc(n);
    ops.dropoutForward(copy, bx, 0f, 42, 0);
    assertArrayEquals(bx.toArray(), copy.toArray());
  }

  @Test
  void resultsDoNotDependOnTheThreadCount() {
    int rows = 3000;
    int d = 24;
    double[] x = GradCheck.random(rnd, rows * d, 2);
    double[] g = GradCheck.random(rnd, d, 1);
    double[] dOut = GradCheck.random(rnd, rows * d, 1);
    float[][] results = new float[2][];
    int k = 0;
    for (CpuOps engine : new CpuOps[] {new CpuOps(1), new CpuOps(3)}) {
      CpuBuf bx = engine.alloc(rows * d);
      bx.put(GradCheck.toFloat(x));
      CpuBuf bg = engine.alloc(d);
      bg.put(GradCheck.toFloat(g));
      CpuBuf out = engine.alloc(rows * d);
      CpuBuf mean = engine.alloc(rows);
      CpuBuf rstd = engine.alloc(rows);
      engine.layerNormForward(out, mean, rstd, bx, bg, bg, rows, d, 1e-5f);
      CpuBuf dx = engine.alloc(rows * d);
      CpuBuf dg = engine.alloc(d);
      CpuBuf db = engine.alloc(d);
      CpuBuf bd = engine.alloc(rows * d);
      bd.put(GradCheck.toFloat(dOut));
      engine.layerNormBackward(dx, dg, db, bd, bx, mean, rstd, bg, rows, d);
      float[] all = new float[rows * d * 2 + 2 * d + 1];
      System.arraycopy(out.toArray(), 0, all, 0, rows * d);
      System.arraycopy(dx.toArray(), 0, all, rows * d, rows * d);
      System.arraycopy(dg.toArray(), 0, all, 2 * rows * d, d);
      System.arraycopy(db.toArray(), 0, all, 2 * rows * d + d, d);
      all[all.length - 1] = (float) engine.sumOfSquares(bd);
      results[k++] = all;
    }
    assertArrayEquals(results[0], results[1]);
  }
}
