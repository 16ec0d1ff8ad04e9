package org.recjpq.backend;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The contract of the core ops (memory, element-wise, embeddings, positions, special tokens, layer
 * norm, linear layers, dropout, Adam): each test runs one op on the CPU reference and on the engine
 * under test and compares. Index-heavy ops use small-integer inputs and must agree bit for bit.
 */
public abstract class CoreOpsContract extends OpsContract {

  @Test
  void memoryRoundTripsAndFills() {
    Floats x = randomFloats(1, 1000, 3);
    assertAgree("upload/download", x, Tolerance.EXACT);
    ref.fill(x.ref(), 2.5f);
    engine().fill(x.got(), 2.5f);
    assertAgree("fill", x, Tolerance.EXACT);
    Floats y = randomFloats(2, 1000, 3);
    Floats z = zeros(1000);
    ref.copy(z.ref(), y.ref());
    engine().copy(z.got(), y.got());
    assertAgree("copy", z, Tolerance.EXACT);
    ref.scale(z.ref(), -0.75f);
    engine().scale(z.got(), -0.75f);
    assertAgree("scale", z, Tolerance.EXACT);
    Ints ids = randomIds(3, 77, 50, 0.2);
    assertAgree("int upload/download", ids);
  }

  @Test
  void slicesShareMemory() {
    Floats x = zeros(100);
    ref.fill(x.ref().slice(10, 20), 1f);
    engine().fill(x.got().slice(10, 20), 1f);
    ref.scale(x.ref().slice(20, 5), 3f);
    engine().scale(x.got().slice(20, 5), 3f);
    assertAgree("fill and scale of slices", x, Tolerance.EXACT);
  }

  @ParameterizedTest
  @ValueSource(ints = {1, 1000, 65_536, 200_001})
  void sumOfSquares(int n) {
    Floats x = randomFloats(n, n, 2);
    assertAgree(
        "sum of squares (n " + n + ")",
        ref.sumOfSquares(x.ref()),
        engine().sumOfSquares(x.got()),
        new Tolerance("double sum", 0, 1e-12));
  }

  @Test
  void nonFinite() {
    float[] v = new float[5000];
    assertFalse(engine().hasNonFinite(floats(v).got()));
    v[4321] = Float.NaN;
    assertTrue(engine().hasNonFinite(floats(v).got()));
    v[4321] = 0;
    v[17] = Float.NEGATIVE_INFINITY;
    assertTrue(engine().hasNonFinite(floats(v).got()));
  }

  @Test
  void denseEmbedding() {
    int n = 40;
    int dim = 24;
    int rows = 300; // many rows share an item: the scatter-add must not lose updates
    Floats table = integerFloats(10, n * dim, 8);
    Ints ids = randomIds(11, rows, n, 0.15);
    Floats out = zeros(rows * dim);
    ItemTable refTable = ref.denseTable(n, dim);
    ItemTable dense = engine().denseTable(n, dim);
    refTable.lookup(out.ref(), ids.ref(), table.ref(), rows);
    dense.lookup(out.got(), ids.got(), table.got(), rows);
    assertAgree("embedding forward", out, Tolerance.EXACT);
    Floats dOut = integerFloats(12, rows * dim, 5);
    Floats dTable = integerFloats(13, n * dim, 3); // accumulates
    refTable.lookupBackward(dTable.ref(), dOut.ref(), ids.ref(), rows);
    dense.lookupBackward(dTable.got(), dOut.got(), ids.got(), rows);
    assertAgree("embedding backward", dTable, Tolerance.EXACT);
  }

  @ParameterizedTest
  @ValueSource(ints = {1, 4, 8})
  void jpqEmbedding(int splits) {
    int n = 500;
    int subDim = 6;
    int rows = 700;
    Bytes codes = randomCodes(20 + splits, n, splits);
    Floats codebooks = integerFloats(21, splits * 256 * subDim, 8);
    Ints ids = randomIds(22, rows, n, 0.1);
    Floats out = zeros(rows * splits * subDim);
    ItemTable refTable = ref.jpqTable(codes.ref(), n, splits, subDim);
    ItemTable jpq = engine().jpqTable(codes.got(), n, splits, subDim);
    refTable.lookup(out.ref(), ids.ref(), codebooks.ref(), rows);
    jpq.lookup(out.got(), ids.got(), codebooks.got(), rows);
    assertAgree("RecJPQ embedding forward", out, Tolerance.EXACT);
    Floats dOut = integerFloats(23, rows * splits * subDim, 5);
    Floats dCodebooks = integerFloats(24, splits * 256 * subDim, 2);
    refTable.lookupBackward(dCodebooks.ref(), dOut.ref(), ids.ref(), rows);
    jpq.lookupBackward(dCodebooks.got(), dOut.got(), ids.got(), rows);
    assertAgree("RecJPQ embedding backward", dCodebooks, Tolerance.EXACT);
  }

  @Test
  void positions() {
    int batch = 5;
    int len = 13;
    int dim = 16;
    Floats in = randomFloats(30, batch * len * dim, 1);
    Floats pos = randomFloats(31, len * dim, 1);
    Ints ids = randomIds(32, batch * len, 9, 0.3);
    Floats out = zeros(batch * len * dim);
    ref.positionsForward(out.ref(), in.ref(), ids.ref(), pos.ref(), 8f, batch, len, dim);
    engine().positionsForward(out.got(), in.got(), ids.got(), pos.got(), 8f, batch, len, dim);
    assertAgree("positions forward", out, Tolerance.EXACT);
    Floats dOut = integerFloats(33, batch * len * dim, 4);
    Floats dIn = randomFloats(34, batch * len * dim, 1); // overwritten
    Floats dPos = integerFloats(35, len * dim, 2); // accumulates
    ref.positionsBackward(dIn.ref(), dPos.ref(), dOut.ref(), ids.ref(), 0.5f, batch, len, dim);
    engine().positionsBackward(dIn.got(), dPos.got(), dOut.got(), ids.got(), 0.5f, batch, len, dim);
    assertAgree("positions backward dIn", dIn, Tolerance.EXACT);
    assertAgree("positions backward dPositions", dPos, Tolerance.EXACT);
  }

  @Test
  void specialTokens() {
    int rows = 90;
    int dim = 12;
    int mask = 50;
    Ints ids = randomIds(40, rows, 51, 0.2); // id 50 plays MASK
    Ints mapped = ints(new int[rows]);
    ref.mapIds(mapped.ref(), ids.ref(), rows, 7, mask);
    engine().mapIds(mapped.got(), ids.got(), rows, 7, mask);
    assertAgree("mapIds", mapped);
    Floats x = integerFloats(41, rows * dim, 6);
    Floats vector = integerFloats(42, dim, 6);
    ref.addTokenVector(x.ref(), ids.ref(), mask, vector.ref(), rows, dim);
    engine().addTokenVector(x.got(), ids.got(), mask, vector.got(), rows, dim);
    assertAgree("addTokenVector", x, Tolerance.EXACT);
    Floats dVector = integerFloats(43, dim, 2);
    ref.addTokenVectorBackward(dVector.ref(), x.ref(), ids.ref(), mask, rows, dim);
    engine().addTokenVectorBackward(dVector.got(), x.got(), ids.got(), mask, rows, dim);
    assertAgree("addTokenVectorBackward", dVector, Tolerance.EXACT);
    ref.maskPadRows(x.ref(), ids.ref(), rows, dim);
    engine().maskPadRows(x.got(), ids.got(), rows, dim);
    assertAgree("maskPadRows", x, Tolerance.EXACT);
  }

  @ParameterizedTest
  @ValueSource(ints = {8, 64, 100})
  void layerNorm(int dim) {
    int rows = 600; // more than one 256-row block of gamma/beta partial sums
    Floats in = randomFloats(50 + dim, rows * dim, 2);
    Floats gamma = randomFloats(51, dim, 1.5);
    Floats beta = randomFloats(52, dim, 0.5);
    Floats out = zeros(rows * dim);
    Floats mean = zeros(rows);
    Floats rstd = zeros(rows);
    ref.layerNormForward(
        out.ref(), mean.ref(), rstd.ref(), in.ref(), gamma.ref(), beta.ref(), rows, dim, 1e-8f);
    engine()
        .layerNormForward(
            out.got(), mean.got(), rstd.got(), in.got(), gamma.got(), beta.got(), rows, dim, 1e-8f);
    assertAgree("layer norm out", out, Tolerance.REDUCTION);
    assertAgree("layer norm mean", mean, Tolerance.REDUCTION);
    assertAgree("layer norm rstd", rstd, Tolerance.REDUCTION);
    Floats dOut = randomFloats(53, rows * dim, 1);
    Floats dIn = randomFloats(54, rows * dim, 1); // accumulates (residual stream)
    Floats dGamma = randomFloats(55, dim, 1);
    Floats dBeta = randomFloats(56, dim, 1);
    ref.layerNormBackward(
        dIn.ref(),
        dGamma.ref(),
        dBeta.ref(),
        dOut.ref(),
        in.ref(),
        mean.ref(),
        rstd.ref(),
        gamma.ref(),
        rows,
        dim);
    engine()
        .layerNormBackward(
            dIn.got(),
            dGamma.got(),
            dBeta.got(),
            dOut.got(),
            in.got(),
            mean.got(),
            rstd.got(),
            gamma.got(),
            rows,
            dim);
    assertAgree("layer norm dIn", dIn, Tolerance.GRADIENT);
    assertAgree("layer norm dGamma", dGamma, Tolerance.GRADIENT);
    assertAgree("layer norm dBeta", dBeta, Tolerance.GRADIENT);
  }

  @ParameterizedTest
  @ValueSource(booleans = {true, false})
  void linear(boolean withBias) {
    int rows = 333;
    int inDim = 48;
    int outDim = 80;
    Floats in = randomFloats(60, rows * inDim, 1);
    Floats w = randomFloats(61, inDim * outDim, 0.3);
    Floats b = randomFloats(62, outDim, 0.5);
    Floats out = randomFloats(63, rows * outDim, 1); // overwritten
    ref.linearForward(out.ref(), in.ref(), w.ref(), withBias ? b.ref() : null, rows, inDim, outDim);
    engine()
        .linearForward(
            out.got(), in.got(), w.got(), withBias ? b.got() : null, rows, inDim, outDim);
    assertAgree("linear forward", out, Tolerance.REDUCTION);
    Floats dOut = randomFloats(64, rows * outDim, 1);
    Floats dIn = randomFloats(65, rows * inDim, 1);
    Floats dW = randomFloats(66, inDim * outDim, 1);
    Floats dB = randomFloats(67, outDim, 1);
    ref.linearBackward(
        dIn.ref(),
        dW.ref(),
        withBias ? dB.ref() : null,
        dOut.ref(),
        in.ref(),
        w.ref(),
        rows,
        inDim,
        outDim);
    engine()
        .linearBackward(
            dIn.got(),
            dW.got(),
            withBias ? dB.got() : null,
            dOut.got(),
            in.got(),
            w.got(),
            rows,
            inDim,
            outDim);
    assertAgree("linear dIn", dIn, Tolerance.GRADIENT);
    assertAgree("linear dWeight", dW, Tolerance.GRADIENT);
    assertAgree("linear dBias", dB, Tolerance.GRADIENT);
    // dIn = null skips the input gradient
    ref.linearBackward(null, dW.ref(), null, dOut.ref(), in.ref(), w.ref(), rows, inDim, outDim);
    engine()
        .linearBackward(null, dW.got(), null, dOut.got(), in.got(), w.got(), rows, inDim, outDim);
    assertAgree("linear dWeight (no dIn)", dW, Tolerance.GRADIENT);
  }

  @Test
  void matmulTransposed() {
    int rows = 70;
    int n = 513;
    int k = 64;
    Floats a = randomFloats(70, rows * k, 1);
    Floats b = randomFloats(71, n * k, 1);
    Floats out = zeros(rows * n);
    ref.matmulTransposed(out.ref(), a.ref(), b.ref(), rows, n, k);
    engine().matmulTransposed(out.got(), a.got(), b.got(), rows, n, k);
    assertAgree("matmulTransposed", out, Tolerance.REDUCTION);
  }

  @ParameterizedTest
  @EnumSource(Activation.class)
  void activations(Activation act) {
    int n = 10_000;
    Floats in = randomFloats(80, n, 6);
    Floats out = zeros(n);
    ref.activationForward(out.ref(), in.ref(), act);
    engine().activationForward(out.got(), in.got(), act);
    assertAgree(act + " forward", out, Tolerance.ELEMENTWISE);
    Floats dOut = randomFloats(81, n, 1);
    Floats dIn = zeros(n);
    ref.activationBackward(dIn.ref(), dOut.ref(), in.ref(), act);
    engine().activationBackward(dIn.got(), dOut.got(), in.got(), act);
    assertAgree(act + " backward", dIn, Tolerance.ELEMENTWISE);
  }

  @Test
  void addAndAddInPlace() {
    Floats a = randomFloats(90, 5000, 1);
    Floats b = randomFloats(91, 5000, 1);
    Floats out = zeros(5000);
    ref.add(out.ref(), a.ref(), b.ref());
    engine().add(out.got(), a.got(), b.got());
    assertAgree("add", out, Tolerance.EXACT);
    ref.addInPlace(a.ref(), b.ref());
    engine().addInPlace(a.got(), b.got());
    assertAgree("addInPlace", a, Tolerance.EXACT);
  }

  @ParameterizedTest
  @ValueSource(floats = {0f, 0.2f, 0.5f})
  void dropoutDrawsTheSameMask(float p) {
    int n = 70_001;
    Floats in = integerFloats(100, n, 9);
    Floats out = zeros(n);
    ref.dropoutForward(out.ref(), in.ref(), p, 42, CounterRng.stream(17, 3));
    engine().dropoutForward(out.got(), in.got(), p, 42, CounterRng.stream(17, 3));
    assertAgree("dropout forward p " + p, out, Tolerance.EXACT);
    Floats dIn = zeros(n);
    ref.dropoutBackward(dIn.ref(), in.ref(), p, 42, CounterRng.stream(17, 3));
    engine().dropoutBackward(dIn.got(), in.got(), p, 42, CounterRng.stream(17, 3));
    assertAgree("dropout backward p " + p, dIn, Tolerance.EXACT);
    // in place, on a slice: the mask follows the element's index in the view
    ref.dropoutForward(in.ref().slice(1000, 5000), in.ref().slice(1000, 5000), p, 7, 9);
    engine().dropoutForward(in.got().slice(1000, 5000), in.got().slice(1000, 5000), p, 7, 9);
    assertAgree("dropout in place on a slice", in, Tolerance.EXACT);
  }

  @ParameterizedTest
  @ValueSource(floats = {0f, 0.01f})
  void adam(float weightDecay) {
    int n = 20_000;
    Floats p = randomFloats(110, n, 1);
    Floats m = randomFloats(111, n, 0.01);
    Floats v = randomFloats(112, n, 0.0001);
    float[] vAbs = host(ref, v.ref());
    for (int i = 0; i < n; i++) {
      vAbs[i] = Math.abs(vAbs[i]);
    }
    v = floats(vAbs);
    for (int step = 1; step <= 3; step++) {
      Floats g = randomFloats(113 + step, n, 0.1);
      ref.adamStep(
          p.ref(), g.ref(), m.ref(), v.ref(), 1e-3f, 0.9f, 0.98f, 1e-8f, weightDecay, step);
      engine()
          .adamStep(
              p.got(), g.got(), m.got(), v.got(), 1e-3f, 0.9f, 0.98f, 1e-8f, weightDecay, step);
    }
    assertAgree("Adam params", p, Tolerance.ELEMENTWISE);
    assertAgree("Adam m", m, Tolerance.ELEMENTWISE);
    assertAgree("Adam v", v, Tolerance.ELEMENTWISE);
  }
}
