package org.recjpq.backend;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Attention and the GRU against the oracle (part of {@link ReferenceOracle}). Sequences are
 * left-padded like the models' inputs, with a few PAD steps inside as well, and one sequence all
 * PAD; each engine's backward runs on its own forward's saved tensors.
 */
public abstract class ReferenceSequenceOracle extends OracleFixture {

  /** Ids (batch, len): sequence b has {@code b} leading PADs, some inner PADs, the last all PAD. */
  protected static int[] paddedIds(long seed, int batch, int len) {
    int[] v = ids(seed, batch * len, 100, 0.15);
    for (int b = 0; b < batch; b++) {
      for (int t = 0; t < len; t++) {
        if (t < b || b == batch - 1) {
          v[b * len + t] = -1;
        }
      }
    }
    return v;
  }

  @ParameterizedTest
  @CsvSource({"3, 7, 12, 3, true", "3, 7, 12, 3, false", "2, 9, 10, 1, true", "4, 5, 16, 4, false"})
  void attention(int batch, int len, int dim, int heads, boolean causal) {
    int n = batch * len * dim;
    I id = ints(paddedIds(100 + len, batch, len));
    F q = random(101, n, 1.5);
    F k = random(102, n, 1.5);
    F v = random(103, n, 1);
    F out = zeros(n);
    F probs = zeros(batch * heads * len * len);
    onBoth(
        (o, s) ->
            o.attentionForward(
                out.at(s),
                probs.at(s),
                q.at(s),
                k.at(s),
                v.at(s),
                id.at(s),
                batch,
                len,
                dim,
                heads,
                causal));
    String what = "attention (causal " + causal + ", heads " + heads + ") ";
    check(what + "out", out, SUMS);
    check(what + "probs", probs, SUMS);
    F dOut = random(104, n, 1);
    F dq = random(105, n, 1);
    F dk = random(106, n, 1);
    F dv = random(107, n, 1);
    onBoth(
        (o, s) ->
            o.attentionBackward(
                dq.at(s),
                dk.at(s),
                dv.at(s),
                dOut.at(s),
                probs.at(s),
                q.at(s),
                k.at(s),
                v.at(s),
                id.at(s),
                batch,
                len,
                dim,
                heads,
                causal));
    check(what + "dq", dq, CHAINS);
    check(what + "dk", dk, CHAINS);
    check(what + "dv", dv, SUMS);
  }

  @ParameterizedTest
  @CsvSource({"3, 6, 5, 7, true", "3, 6, 5, 7, false", "2, 4, 9, 3, true"})
  void gru(int batch, int len, int in, int hidden, boolean withIds) {
    int h3 = 3 * hidden;
    I id = withIds ? ints(paddedIds(200 + len, batch, len)) : null;
    F x = random(201, batch * len * in, 1);
    F wIh = random(202, h3 * in, 0.6);
    F wHh = random(203, h3 * hidden, 0.6);
    F bIh = random(204, h3, 0.3);
    F bHh = random(205, h3, 0.3);
    F y = zeros(batch * len * hidden);
    F gates = zeros(batch * len * 4 * hidden);
    onBoth(
        (o, s) ->
            o.gruForward(
                y.at(s),
                gates.at(s),
                x.at(s),
                wIh.at(s),
                wHh.at(s),
                bIh.at(s),
                bHh.at(s),
                id == null ? null : id.at(s),
                batch,
                len,
                in,
                hidden));
    String what = "gru (ids " + withIds + ") ";
    check(what + "y", y, SUMS);
    check(what + "gates", gates, SUMS);
    F dy = random(206, batch * len * hidden, 1);
    F dx = random(207, batch * len * in, 1);
    F dWih = random(208, h3 * in, 1);
    F dWhh = random(209, h3 * hidden, 1);
    F dBih = random(210, h3, 1);
    F dBhh = random(211, h3, 1);
    onBoth(
        (o, s) ->
            o.gruBackward(
                dx.at(s),
                dWih.at(s),
                dWhh.at(s),
                dBih.at(s),
                dBhh.at(s),
                dy.at(s),
                x.at(s),
                y.at(s),
                gates.at(s),
                wIh.at(s),
                wHh.at(s),
                id == null ? null : id.at(s),
                batch,
                len,
                in,
                hidden));
    check(what + "dx", dx, CHAINS);
    check(what + "dWih", dWih, CHAINS);
    check(what + "dWhh", dWhh, CHAINS);
    check(what + "dBih", dBih, CHAINS);
    check(what + "dBhh", dBhh, CHAINS);
  }
}
