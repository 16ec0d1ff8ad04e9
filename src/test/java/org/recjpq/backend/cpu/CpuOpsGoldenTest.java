package org.recjpq.backend.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.recjpq.backend.Activation;
import org.recjpq.backend.Golden;

/**
 * CPU ops against the float64 golden references (src/test/resources/golden; tolerances from its
 * README).
 */
class CpuOpsGoldenTest {
  private final CpuOps ops = new CpuOps(2);

  private CpuBuf buf(float[] values) {
    CpuBuf b = ops.alloc(values.length);
    b.put(values);
    return b;
  }

  @ParameterizedTest
  @ValueSource(strings = {"layernorm_eps1e-5.json", "layernorm_eps1e-8.json"})
  void layerNorm(String file) {
    Golden g = Golden.load(file);
    int d = (int) g.param("d");
    int rows = g.shape("x")[0] * g.shape("x")[1];
    CpuBuf x = buf(g.f("x"));
    CpuBuf gamma = buf(g.f("gamma"));
    CpuBuf beta = buf(g.f("beta"));
    CpuBuf y = ops.alloc(rows * d);
    CpuBuf mean = ops.alloc(rows);
    CpuBuf rstd = ops.alloc(rows);
    ops.layerNormForward(y, mean, rstd, x, gamma, beta, rows, d, (float) g.param("eps"));
    Golden.assertOutput("y", y.toArray(), g.d("y"));
    Golden.assertOutput("mean", mean.toArray(), g.d("mean"));
    Golden.assertOutput("rstd", rstd.toArray(), g.d("rstd"));
    CpuBuf dx = ops.alloc(rows * d);
    CpuBuf dGamma = ops.alloc(d);
    CpuBuf dBeta = ops.alloc(d);
    ops.layerNormBackward(dx, dGamma, dBeta, buf(g.f("dOut")), x, mean, rstd, gamma, rows, d);
    Golden.assertGrad("dx", dx.toArray(), g.grad("x"));
    Golden.assertGrad("dgamma", dGamma.toArray(), g.grad("gamma"));
    Golden.assertGrad("dbeta", dBeta.toArray(), g.grad("beta"));
  }

  @ParameterizedTest
  @ValueSource(strings = {"ffn_relu.json", "ffn_gelu.json"})
  void feedForward(String file) {
    Golden g = Golden.load(file);
    int d = (int) g.param("d");
    int dff = (int) g.param("dff");
    int rows = g.shape("x")[0] * g.shape("x")[1];
    Activation act = file.contains("gelu") ? Activation.GELU : Activation.RELU;
    CpuBuf x = buf(g.f("x"));
    CpuBuf w1 = buf(g.f("W1"));
    CpuBuf b1 = buf(g.f("b1"));
    CpuBuf w2 = buf(g.f("W2"));
    CpuBuf b2 = buf(g.f("b2"));
    CpuBuf pre = ops.alloc(rows * dff);
    CpuBuf hidden = ops.alloc(rows * dff);
    CpuBuf y = ops.alloc(rows * d);
    ops.linearForward(pre, x, w1, b1, rows, d, dff);
    ops.activationForward(hidden, pre, act);
    ops.linearForward(y, hidden, w2, b2, rows, dff, d);
    Golden.assertOutput("pre", pre.toArray(), g.d("pre"));
    Golden.assertOutput("hidden", hidden.toArray(), g.d("hidden"));
    Golden.assertOutput("y", y.toArray(), g.d("y"));
    CpuBuf dHidden = ops.alloc(rows * dff);
    CpuBuf dPre = ops.alloc(rows * dff);
    CpuBuf dx = ops.alloc(rows * d);
    CpuBuf dw1 = ops.alloc(d * dff);
    CpuBuf db1 = ops.alloc(dff);
    CpuBuf dw2 = ops.alloc(dff * d);
    CpuBuf db2 = ops.alloc(d);
    ops.linearBackward(dHidden, dw2, db2, buf(g.f("dOut")), hidden, w2, rows, dff, d);
    ops.activationBackward(dPre, dHidden, pre, act);
    ops.linearBackward(dx, dw1, db1, dPre, x, w1, rows, d, dff);
    Golden.assertGrad("dx", dx.toArray(), g.grad("x"));
    Golden.assertGrad("dW1", dw1.toArray(), g.grad("W1"));
    Golden.assertGrad("db1", db1.toArray(), g.grad("b1"));
    Golden.assertGrad("dW2", dw2.toArray(), g.grad("W2"));
    Golden.assertGrad("db2", db2.toArray(), g.grad("b2"));
  }

  @org.junit.jupiter.api.Test
  void jpqEmbeddingIsBitExact() {
    Golden g = Golden.load("jpq_embed.json");
    int m = (int) g.param("m");
    int b = (int) g.param("b");
    int s = (int) g.param("s");
    int rows = g.shape("ids")[0] * g.shape("ids")[1];
    // The golden codebooks have b = 8 sub-ids; the engine's are 256 wide: embed them in a (m, 256,
    // s) table.
    float[] small = g.f("codebooks");
    float[] wide = new float[m * 256 * s];
    for (int k = 0; k < m; k++) {
      System.arraycopy(small, k * b * s, wide, k * 256 * s, b * s);
    }
    CpuBuf codebooks = buf(wide);
    CpuByteBuf codes = CpuByteBuf.wrap(g.bytes("codes"));
    CpuIntBuf ids = CpuIntBuf.wrap(g.i("ids"));
    CpuBuf y = ops.alloc(rows * m * s);
    var jpq = ops.jpqTable(codes, (int) codes.size() / m, m, s);
    jpq.lookup(y, ids, codebooks, rows);
    Golden.assertExact("y", y.toArray(), g.d("y"));
    CpuBuf dWide = ops.alloc(m * 256 * s);
    jpq.lookupBackward(dWide, buf(g.f("dOut")), ids, rows);
    float[] dw = dWide.toArray();
    float[] dSmall = new float[m * b * s];
    for (int k = 0; k < m; k++) {
      System.arraycopy(dw, k * 256 * s, dSmall, k * b * s, b * s);
      for (int j = k * 256 * s + b * s; j < (k + 1) * 256 * s; j++) {
        assertEquals(0f, dw[j], "sub-ids beyond the golden b get no gradient");
      }
    }
    Golden.assertExact("dcodebooks", dSmall, g.grad("codebooks"));
  }

  @ParameterizedTest
  @ValueSource(strings = {"adam_step.json", "adamw_step.json"})
  void adamStep(String file) {
    Golden g = Golden.load(file);
    float lr = (float) g.param("lr");
    float beta1 = (float) g.param("beta1");
    float beta2 = (float) g.param("beta2");
    float eps = (float) g.param("eps");
    float wd = (float) g.param("weight_decay");
    int step = (int) g.param("step");
    float[] param0 = g.f("param");
    CpuBuf p = buf(param0);
    CpuBuf m = buf(g.f("m"));
    CpuBuf v = buf(g.f("v"));
    ops.adamStep(p, buf(g.f("grad")), m, v, lr, beta1, beta2, eps, wd, step);
    Golden.assertClose("m_new", m.toArray(), g.d("m_new"), 1e-9, 1e-5);
    Golden.assertClose("v_new", v.toArray(), g.d("v_new"), 1e-12, 1e-5);
    Golden.assertClose("param_new", p.toArray(), g.d("param_new"), 1e-7, 1e-6);
    float[] mNew = m.toArray();
    float[] vNew = v.toArray();
    float[] delta = new float[param0.length];
    for (int i = 0; i < delta.length; i++) {
      delta[i] =
          (float)
              CpuMath.adamDelta(
                  param0[i],
                  mNew[i],
                  vNew[i],
                  lr,
                  eps,
                  wd,
                  1 - Math.pow(beta1, step),
                  1 - Math.pow(beta2, step));
    }
    Golden.assertClose("delta", delta, g.d("delta"), 1e-9, 1e-4);
  }
}
