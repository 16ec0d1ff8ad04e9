package org.recjpq.model;

import java.util.Random;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.recjpq.backend.Activation;
import org.recjpq.backend.Buf;
import org.recjpq.backend.Golden;
import org.recjpq.backend.GradCheck;
import org.recjpq.backend.cpu.CpuBuf;
import org.recjpq.backend.cpu.CpuIntBuf;
import org.recjpq.backend.cpu.CpuOps;
import org.recjpq.codes.ItemCodes;
import org.recjpq.model.ModelConfig.BlockStyle;
import org.recjpq.model.ModelConfig.EmbeddingKind;

/**
 * The whole model plus its loss against central finite differences of an independent
 * double-precision forward ({@link SasRecReference}): every parameter's gradient.
 */
class SasRecGradientTest {

  @ParameterizedTest(name = "{0} {1} tied={2} {3} itemBias={4}")
  @CsvSource({
    "JPQ, PRE_LN, true, CE, false",
    "JPQ, SASREC, true, CE, false",
    "DENSE, PRE_LN, false, CE, false",
    "DENSE, SASREC, true, BCE, false",
    "JPQ, PRE_LN, true, GBCE, false",
    "JPQ, PRE_LN, false, CE, false",
    "JPQ, PRE_LN, true, CE, true",
    "JPQ, PRE_LN, true, GBCE, true",
    "DENSE, PRE_LN, true, CE, true",
    "DENSE, PRE_LN, false, BCE, true"
  })
  void everyParameterGradientMatchesFiniteDifferences(
      EmbeddingKind kind, BlockStyle style, boolean tied, LossKind loss, boolean itemBias) {
    int n = 13;
    int d = 8;
    int batch = 2;
    int len = 5;
    int negatives = 2;
    ModelConfig c =
        new ModelConfig(
            ModelConfig.Backbone.SASREC,
            n,
            d,
            2,
            2,
            len,
            0f,
            6,
            Activation.RELU,
            kind,
            2,
            tied,
            style,
            1e-5f,
            false,
            itemBias);
    Random rnd = new Random(3);
    byte[] codes = new byte[n * 2];
    for (int i = 0; i < codes.length; i++) {
      codes[i] = (byte) rnd.nextInt(5); // few sub-ids, so items share them
    }
    CpuOps ops = new CpuOps(2);
    SasRec model =
        new SasRec(c, ops, kind == EmbeddingKind.JPQ ? new ItemCodes(n, 2, codes) : null);
    model.initialize(11);
    // perturb the layer-norm gains and biases away from 1 and 0 so their gradients are generic
    float[] p = ((CpuBuf) model.params()).toArray();
    for (ParameterLayout.Entry e : model.layout().entries()) {
      if (e.name().endsWith("gamma") || e.name().endsWith("beta") || e.name().contains(".b")) {
        for (long i = 0; i < e.size(); i++) {
          p[(int) (e.offset() + i)] += (float) (0.3 * rnd.nextGaussian());
        }
      }
    }
    ops.upload(model.params(), p);
    int[] ids = {-1, -1, 4, 7, 4, 2, 9, 1, -1, 12}; // left padding, a repeated item, PAD inside
    int[] targets = {-1, -1, 7, 4, 3, 9, 1, -1, -1, 5};
    int rows = batch * len;
    int cols = 1 + negatives;
    int[] items = new int[rows * cols];
    for (int r = 0; r < rows; r++) {
      items[r * cols] = Math.max(0, targets[r]);
      for (int j = 1; j < cols; j++) {
        items[r * cols + j] = rnd.nextInt(n);
      }
    }
    float beta = loss == LossKind.GBCE ? LossKind.gbceBeta(negatives, n, 0.75) : 1f;

    CpuIntBuf idBuf = CpuIntBuf.wrap(ids);
    CpuIntBuf targetBuf = CpuIntBuf.wrap(targets);
    model.zeroGrad();
    Buf h = model.forward(idBuf, batch, len, false, 0, 0);
    Buf dH = ops.alloc((long) rows * d);
    ItemHead head = new ItemHead(model);
    if (loss == LossKind.CE) {
      head.fullCrossEntropy(h, targetBuf, rows, dH);
    } else {
      head.sampled(
          loss,
          h,
          targetBuf,
          CpuIntBuf.wrap(items),
          rows,
          negatives,
          beta,
          null,
          ops.alloc(rows * cols),
          ops.alloc(rows * cols),
          dH);
    }
    model.backward(dH);
    float[] analytic = ((CpuBuf) model.grads()).toArray();

    SasRecReference ref = new SasRecReference(c, model.layout(), codes);
    double[] params = GradCheck.toDouble(p);
    GradCheck.Scalar f =
        () -> {
          double[][] hh = ref.forward(params, ids, batch, len);
          return loss == LossKind.CE
              ? ref.fullCrossEntropy(params, hh, targets)
              : ref.bce(params, hh, targets, items, negatives, beta);
        };
    // forward agrees with the reference
    double[][] hRef = ref.forward(params, ids, batch, len);
    double[] flatRef = new double[rows * d];
    for (int r = 0; r < rows; r++) {
      System.arraycopy(hRef[r], 0, flatRef, r * d, d);
    }
    Golden.assertOutput("h", ((CpuBuf) h).toArray(), flatRef);
    double[] numeric = GradCheck.numeric(params, f);
    for (ParameterLayout.Entry e : model.layout().entries()) {
      float[] a =
          java.util.Arrays.copyOfRange(analytic, (int) e.offset(), (int) (e.offset() + e.size()));
      double[] fd =
          java.util.Arrays.copyOfRange(numeric, (int) e.offset(), (int) (e.offset() + e.size()));
      GradCheck.assertMatches(e.name(), a, fd);
    }
  }
}
