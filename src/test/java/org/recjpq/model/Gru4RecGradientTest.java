package org.recjpq.model;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Random;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.recjpq.backend.Activation;
import org.recjpq.backend.Buf;
import org.recjpq.backend.GradCheck;
import org.recjpq.backend.cpu.CpuBuf;
import org.recjpq.backend.cpu.CpuIntBuf;
import org.recjpq.backend.cpu.CpuOps;
import org.recjpq.codes.ItemCodes;
import org.recjpq.model.ModelConfig.EmbeddingKind;

/**
 * GRU4Rec plus the full softmax CE against central finite differences of an independent double
 * forward (embedding, masked GRU layers, projection, CE over tied item embeddings): every
 * parameter.
 */
class Gru4RecGradientTest {
  static final int N = 11;
  static final int D = 6;
  static final int M = 2;
  static final int LAYERS = 2;
  static final int BATCH = 2;
  static final int LEN = 5;

  @ParameterizedTest
  @EnumSource(EmbeddingKind.class)
  void everyParameterGradientMatchesFiniteDifferences(EmbeddingKind kind) {
    ModelConfig c =
        new ModelConfig(
            ModelConfig.Backbone.GRU4REC,
            N,
            D,
            LAYERS,
            1,
            LEN,
            0f,
            D,
            Activation.RELU,
            kind,
            M,
            true,
            ModelConfig.BlockStyle.PRE_LN,
            1e-8f);
    Random rnd = new Random(5);
    byte[] codes = new byte[N * M];
    for (int i = 0; i < codes.length; i++) {
      codes[i] = (byte) rnd.nextInt(4);
    }
    CpuOps ops = new CpuOps(2);
    SequenceModel model =
        SequenceModel.create(c, ops, kind == EmbeddingKind.JPQ ? new ItemCodes(N, M, codes) : null);
    assertEquals(Gru4Rec.class, model.getClass());
    model.initialize(3);
    float[] p0 = ((CpuBuf) model.params()).toArray();
    for (ParameterLayout.Entry e :
        model.layout().entries()) { // generic biases, larger item vectors
      for (long i = 0; i < e.size(); i++) {
        int at = (int) (e.offset() + i);
        if (e.name().contains(".b")) {
          p0[at] += (float) (0.3 * rnd.nextGaussian());
        } else if (e.name().startsWith("item.")) {
          p0[at] *= 3;
        }
      }
    }
    ops.upload(model.params(), p0);
    int[] ids = {-1, -1, 4, 7, 4, 2, 9, 1, -1, 10};
    int[] targets = {-1, -1, 7, 4, 3, 9, 1, -1, -1, 5};
    model.zeroGrad();
    Buf h = model.forward(CpuIntBuf.wrap(ids), BATCH, LEN, false, 0, 0);
    Buf dH = ops.alloc((long) BATCH * LEN * D);
    double loss = new ItemHead(model).fullCrossEntropy(h, CpuIntBuf.wrap(targets), BATCH * LEN, dH);
    model.backward(dH);
    double[] p = GradCheck.toDouble(p0);
    assertEquals(
        reference(model.layout(), c, codes, p, ids, targets), loss, 1e-5 + 1e-4 * Math.abs(loss));
    double[] fd = GradCheck.numeric(p, () -> reference(model.layout(), c, codes, p, ids, targets));
    GradCheck.assertMatches(kind + " GRU4Rec", ((CpuBuf) model.grads()).toArray(), fd);
  }

  private static double[] view(ParameterLayout layout, double[] p, String name) {
    for (ParameterLayout.Entry e : layout.entries()) {
      if (e.name().equals(name)) {
        double[] out = new double[(int) e.size()];
        System.arraycopy(p, (int) e.offset(), out, 0, out.length);
        return out;
      }
    }
    throw new IllegalArgumentException(name);
  }

  static double reference(
      ParameterLayout layout, ModelConfig c, byte[] codes, double[] p, int[] ids, int[] targets) {
    double[][] e = new double[N][D];
    if (c.isJpq()) {
      double[] cb = view(layout, p, "item.codebooks");
      int s = D / M;
      for (int i = 0; i < N; i++) {
        for (int k = 0; k < M; k++) {
          int code = codes[i * M + k] & 0xff;
          for (int j = 0; j < s; j++) {
            e[i][k * s + j] = cb[(k * 256 + code) * s + j];
          }
        }
      }
    } else {
      double[] t = view(layout, p, "item.table");
      for (int i = 0; i < N; i++) {
        System.arraycopy(t, i * D, e[i], 0, D);
      }
    }
    int rows = BATCH * LEN;
    double[] x = new double[rows * D];
    for (int r = 0; r < rows; r++) {
      if (ids[r] >= 0) {
        System.arraycopy(e[ids[r]], 0, x, r * D, D);
      }
    }
    for (int l = 0; l < LAYERS; l++) {
      String n = "gru" + l + ".";
      x =
          org.recjpq.backend.cpu.CpuTestAccess.reference(
              x,
              view(layout, p, n + "w_ih"),
              view(layout, p, n + "w_hh"),
              view(layout, p, n + "b_ih"),
              view(layout, p, n + "b_hh"),
              ids,
              BATCH,
              LEN,
              D,
              D);
    }
    double[] w = view(layout, p, "proj.w");
    double[] b = view(layout, p, "proj.b");
    double sum = 0;
    int valid = 0;
    for (int r = 0; r < rows; r++) {
      if (targets[r] < 0) {
        continue;
      }
      double[] hr = new double[D];
      for (int j = 0; j < D; j++) {
        hr[j] = ids[r] < 0 ? 0 : b[j];
        for (int i = 0; i < D && ids[r] >= 0; i++) {
          hr[j] += x[r * D + i] * w[i * D + j];
        }
      }
      double[] z = new double[N];
      double max = Double.NEGATIVE_INFINITY;
      for (int i = 0; i < N; i++) {
        for (int j = 0; j < D; j++) {
          z[i] += hr[j] * e[i][j];
        }
        max = Math.max(max, z[i]);
      }
      double acc = 0;
      for (int i = 0; i < N; i++) {
        acc += Math.exp(z[i] - max);
      }
      sum += max + Math.log(acc) - z[targets[r]];
      valid++;
    }
    return sum / valid;
  }
}
