package org.recjpq.model;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Random;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.recjpq.backend.Activation;
import org.recjpq.backend.Buf;
import org.recjpq.backend.GradCheck;
import org.recjpq.backend.cpu.CpuBuf;
import org.recjpq.backend.cpu.CpuIntBuf;
import org.recjpq.backend.cpu.CpuOps;
import org.recjpq.codes.ItemCodes;
import org.recjpq.model.ModelConfig.EmbeddingKind;

/**
 * BERT4Rec plus the full softmax CE at masked positions against central finite differences of the
 * independent double forward ({@link SasRecReference#forwardBert}): every parameter, MASK vector
 * and positions of a shifted window included.
 */
class Bert4RecGradientTest {

  @ParameterizedTest(name = "{0} {1} transform {2}")
  @CsvSource({"JPQ, GELU, false", "DENSE, RELU, false", "JPQ, GELU, true", "DENSE, RELU, true"})
  void everyParameterGradientMatchesFiniteDifferences(
      EmbeddingKind kind, Activation act, boolean transform) {
    int n = 13;
    int d = 8;
    int batch = 2;
    int len = 5;
    int maxLen = 7;
    int first = maxLen - len;
    ModelConfig c =
        new ModelConfig(
            ModelConfig.Backbone.BERT4REC,
            n,
            d,
            2,
            2,
            maxLen,
            0f,
            12,
            act,
            kind,
            2,
            true,
            ModelConfig.BlockStyle.PRE_LN,
            1e-5f,
            transform);
    Random rnd = new Random(8);
    byte[] codes = new byte[n * 2];
    for (int i = 0; i < codes.length; i++) {
      codes[i] = (byte) rnd.nextInt(5);
    }
    CpuOps ops = new CpuOps(2);
    SequenceModel model =
        SequenceModel.create(c, ops, kind == EmbeddingKind.JPQ ? new ItemCodes(n, 2, codes) : null);
    assertEquals(Bert4Rec.class, model.getClass());
    assertEquals(n, model.maskToken());
    assertEquals(
        transform ? 4 : 0,
        model.layout().entries().stream().filter(e -> e.name().startsWith("transform.")).count());
    model.initialize(13);
    float[] p0 = ((CpuBuf) model.params()).toArray();
    for (ParameterLayout.Entry e : model.layout().entries()) {
      if (e.name().endsWith("gamma") || e.name().endsWith("beta") || e.name().contains(".b")) {
        for (long i = 0; i < e.size(); i++) {
          p0[(int) (e.offset() + i)] += (float) (0.3 * rnd.nextGaussian());
        }
      }
    }
    ops.upload(model.params(), p0);
    int mask = n;
    int[] ids = {
      -1, -1, 4, mask, 7, 2, mask, 1, 9, mask
    }; // left padding; MASK inside and at the end
    int[] targets = {-1, -1, -1, 3, -1, -1, 5, -1, -1, 11};
    model.zeroGrad();
    Buf h = model.forward(CpuIntBuf.wrap(ids), batch, len, first, false, 0, 0);
    int rows = batch * len;
    Buf dH = ops.alloc((long) rows * d);
    double loss = new ItemHead(model).fullCrossEntropy(h, CpuIntBuf.wrap(targets), rows, dH);
    model.backward(dH);
    SasRecReference ref = new SasRecReference(c, model.layout(), codes);
    double[] p = GradCheck.toDouble(p0);
    double want = ref.fullCrossEntropy(p, ref.forwardBert(p, ids, batch, len, first), targets);
    assertEquals(want, loss, 1e-5 + 1e-4 * Math.abs(want));
    double[] fd =
        GradCheck.numeric(
            p, () -> ref.fullCrossEntropy(p, ref.forwardBert(p, ids, batch, len, first), targets));
    GradCheck.assertMatches(kind + " BERT4Rec", ((CpuBuf) model.grads()).toArray(), fd);
  }
}
