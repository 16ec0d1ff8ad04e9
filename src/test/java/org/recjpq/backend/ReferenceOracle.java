package org.recjpq.backend;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Every numeric op of an engine against the oracle {@link ReferenceOps}: one test per op group,
 * seeded random inputs of small odd sizes (rows that are no multiple of any block, PAD ids, ignored
 * targets), every output and every accumulated gradient compared with the tolerance of its family
 * (see {@link OracleFixture}). Accumulated gradients start from random values, so that "+=" is
 * checked, not just "=". Attention and the GRU are in {@link ReferenceSequenceOracle}, the item
 * tables and losses in {@link ReferenceTableOracle}: this class inherits their tests, so a concrete
 * subclass per engine runs them all.
 */
public abstract class ReferenceOracle extends ReferenceTableOracle {

  @Test
  void memoryAndElementwise() {
    int n = 1001;
    F x = random(1, n, 3);
    check("upload/download", x, EXACT);
    F y = zeros(n);
    onBoth((o, s) -> o.copy(y.at(s), x.at(s)));
    check("copy", y, EXACT);
    onBoth((o, s) -> o.scale(y.at(s), -0.37f));
    check("scale", y, EXACT);
    F z = zeros(n);
    onBoth((o, s) -> o.add(z.at(s), x.at(s), y.at(s)));
    check("add", z, EXACT);
    onBoth((o, s) -> o.addInPlace(z.at(s), x.at(s)));
    check("addInPlace", z, EXACT);
    onBoth((o, s) -> o.fill(y.at(s).slice(100, 333), 2.5f));
    check("fill of a slice", y, EXACT);
    OpsContract.assertAgree(
        "sumOfSquares",
        ref.sumOfSquares(x.oracle()),
        engine().sumOfSquares(x.engine()),
        new Tolerance("double sum", 0, 1e-12));
    assertEquals(false, engine().hasNonFinite(x.engine()), "hasNonFinite of finite values");
    float[] bad = uniform(2, n, 1);
    bad[n - 3] = Float.NaN;
    assertEquals(
        ref.hasNonFinite(floats(bad).oracle()),
        engine().hasNonFinite(floats(bad).engine()),
        "hasNonFinite with a NaN");
  }

  @Test
  void positionsAndTokens() {
    int batch = 3;
    int len = 7;
    int dim = 10;
    int rows = batch * len;
    I id = ints(ids(3, rows, 50, 0.3));
    F x = random(4, rows * dim, 1);
    F pos = random(5, len * dim, 1);
    F out = zeros(rows * dim);
    onBoth(
        (o, s) ->
            o.positionsForward(out.at(s), x.at(s), id.at(s), pos.at(s), 1.7f, batch, len, dim));
    check("positionsForward", out, ROUNDED);
    onBoth(
        (o, s) -> o.positionsForward(x.at(s), x.at(s), id.at(s), pos.at(s), 0.5f, batch, len, dim));
    check("positionsForward in place", x, ROUNDED);
    F dOut = random(6, rows * dim, 1);
    F dIn = random(7, rows * dim, 1);
    F dPos = random(8, len * dim, 1);
    onBoth(
        (o, s) ->
            o.positionsBackward(
                dIn.at(s), dPos.at(s), dOut.at(s), id.at(s), 1.7f, batch, len, dim));
    check("positionsBackward dIn", dIn, EXACT);
    check("positionsBackward dPositions", dPos, SUMS);
    I mapped = ints(new int[rows]);
    onBoth((o, s) -> o.mapIds(mapped.at(s), id.at(s), rows, -1, 49));
    check("mapIds", mapped);
    int[] tokens = ids(9, rows, 3, 0.2);
    I tok = ints(tokens);
    F vec = random(10, dim, 1);
    F y = random(11, rows * dim, 1);
    onBoth((o, s) -> o.addTokenVector(y.at(s), tok.at(s), 2, vec.at(s), rows, dim));
    check("addTokenVector", y, EXACT);
    F dVec = random(12, dim, 1);
    onBoth((o, s) -> o.addTokenVectorBackward(dVec.at(s), dOut.at(s), tok.at(s), 2, rows, dim));
    check("addTokenVectorBackward", dVec, SUMS);
    onBoth((o, s) -> o.maskPadRows(y.at(s), tok.at(s), rows, dim));
    check("maskPadRows", y, EXACT);
  }

  @ParameterizedTest
  @ValueSource(ints = {24, 37})
  void layerNorm(int dim) {
    int rows = 13;
    // rows of spread 2, 0.2, 0.02 and 0.002 around 0.05: the last have a variance below eps, so
    // where eps goes (inside the square root) matters
    float[] x = uniform(20 + dim, rows * dim, 2);
    for (int i = 0; i < x.length; i++) {
      x[i] = 0.05f + x[i] * (float) Math.pow(10, -((i / dim) % 4));
    }
    F in = floats(x);
    float[] g = uniform(21, dim, 0.5);
    for (int j = 0; j < dim; j++) {
      g[j] += 1;
    }
    F gamma = floats(g);
    F beta = random(22, dim, 0.5);
    F out = zeros(rows * dim);
    F mean = zeros(rows);
    F rstd = zeros(rows);
    onBoth(
        (o, s) ->
            o.layerNormForward(
                out.at(s),
                mean.at(s),
                rstd.at(s),
                in.at(s),
                gamma.at(s),
                beta.at(s),
                rows,
                dim,
                1e-5f));
    check("layerNorm out", out, SUMS);
    check("layerNorm mean", mean, SUMS);
    check("layerNorm rstd", rstd, SUMS);
    F dOut = random(23, rows * dim, 1);
    F dIn = random(24, rows * dim, 1);
    F dGamma = random(25, dim, 1);
    F dBeta = random(26, dim, 1);
    onBoth(
        (o, s) ->
            o.layerNormBackward(
                dIn.at(s),
                dGamma.at(s),
                dBeta.at(s),
                dOut.at(s),
                in.at(s),
                mean.at(s),
                rstd.at(s),
                gamma.at(s),
                rows,
                dim));
    check("layerNorm dIn (+=)", dIn, CHAINS);
    check("layerNorm dGamma", dGamma, SUMS);
    check("layerNorm dBeta", dBeta, SUMS);
  }

  @ParameterizedTest
  @CsvSource({"true, true", "false, true", "true, false"})
  void linear(boolean withBias, boolean withDIn) {
    int rows = 11;
    int inDim = 9;
    int outDim = 13;
    F in = random(30, rows * inDim, 1);
    F w = random(31, inDim * outDim, 1);
    F b = withBias ? random(32, outDim, 1) : null;
    F out = zeros(rows * outDim);
    onBoth(
        (o, s) ->
            o.linearForward(
                out.at(s), in.at(s), w.at(s), b == null ? null : b.at(s), rows, inDim, outDim));
    check("linear out", out, SUMS);
    F dOut = random(33, rows * outDim, 1);
    F dIn = withDIn ? random(34, rows * inDim, 1) : null;
    F dW = random(35, inDim * outDim, 1);
    F dB = withBias ? random(36, outDim, 1) : null;
    onBoth(
        (o, s) ->
            o.linearBackward(
                dIn == null ? null : dIn.at(s),
                dW.at(s),
                dB == null ? null : dB.at(s),
                dOut.at(s),
                in.at(s),
                w.at(s),
                rows,
                inDim,
                outDim));
    if (withDIn) {
      check("linear dIn", dIn, SUMS);
    }
    check("linear dWeight", dW, SUMS);
    if (withBias) {
      check("linear dBias", dB, SUMS);
    }
    int n = 17;
    F items = random(37, n * inDim, 1);
    F scores = zeros(rows * n);
    onBoth((o, s) -> o.matmulTransposed(scores.at(s), in.at(s), items.at(s), rows, n, inDim));
    check("matmulTransposed", scores, SUMS);
  }

  @ParameterizedTest
  @EnumSource(Activation.class)
  void activations(Activation act) {
    float[] u = uniform(40, 301, 5);
    float[] edges = {0f, -0f, 1e-30f, -1e-30f, 9f, -9f, 20f, -20f};
    System.arraycopy(edges, 0, u, 0, edges.length);
    F in = floats(u);
    F out = zeros(u.length);
    onBoth((o, s) -> o.activationForward(out.at(s), in.at(s), act));
    check(act + " forward", out, ROUNDED);
    F dOut = random(41, u.length, 1);
    F dIn = random(42, u.length, 1);
    onBoth((o, s) -> o.activationBackward(dIn.at(s), dOut.at(s), in.at(s), act));
    check(act + " backward", dIn, ROUNDED);
  }

  @ParameterizedTest
  @ValueSource(floats = {0f, 0.1f, 0.5f, 0.9f})
  void dropout(float p) {
    int n = 1003;
    float[] v = uniform(50, n, 1);
    for (int i = 0; i < n; i++) {
      v[i] += Math.copySign(0.5f, v[i]); // no zeros: a 0 in the output means dropped
    }
    F in = floats(v);
    F out = zeros(n);
    onBoth((o, s) -> o.dropoutForward(out.at(s), in.at(s), p, 77, CounterRng.stream(5, 2)));
    check("dropout forward, p " + p, out, p == 0 ? EXACT : ROUNDED);
    F dIn = zeros(n);
    onBoth((o, s) -> o.dropoutBackward(dIn.at(s), in.at(s), p, 77, CounterRng.stream(5, 2)));
    check("dropout backward, p " + p, dIn, p == 0 ? EXACT : ROUNDED);
    onBoth((o, s) -> o.dropoutForward(in.at(s), in.at(s), p, 78, CounterRng.stream(6, 1)));
    check("dropout in place, p " + p, in, p == 0 ? EXACT : ROUNDED);
  }

  @ParameterizedTest
  @ValueSource(floats = {0f, 0.01f})
  void adam(float weightDecay) {
    int n = 1001;
    F p = random(60, n, 1);
    F m = zeros(n);
    F v = zeros(n);
    for (int step = 1; step <= 3; step++) {
      F g = random(60 + step, n, 1);
      int t = step;
      onBoth(
          (o, s) ->
              o.adamStep(
                  p.at(s), g.at(s), m.at(s), v.at(s), 1e-3f, 0.9f, 0.98f, 1e-8f, weightDecay, t));
    }
    check("adam params", p, ROUNDED);
    check("adam m", m, ROUNDED);
    check("adam v", v, ROUNDED);
  }
}
