package org.recjpq.backend;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The item tables (dense and RecJPQ) and the losses against the oracle (part of {@link
 * ReferenceOracle}).
 */
public abstract class ReferenceTableOracle extends ReferenceSequenceOracle {
  static final int ITEMS = 37;
  static final int SPLITS = 3;
  static final int SUB_DIM = 4;
  static final int DIM = SPLITS * SUB_DIM;

  /** A table of {@code items} items on both sides, with its parameters and their gradient. */
  record Table(ItemTable oracle, ItemTable engine, F params, F grad) {
    ItemTable at(OracleFixture.Side s) {
      return s == OracleFixture.Side.ORACLE ? oracle : engine;
    }
  }

  /** A dense (N, 12) or RecJPQ (3 splits × 4) table with random parameters and gradient. */
  Table table(boolean jpq, int items, long seed) {
    if (jpq) {
      B codes = codes(seed, items, SPLITS);
      return new Table(
          ref.jpqTable(codes.oracle(), items, SPLITS, SUB_DIM),
          engine().jpqTable(codes.engine(), items, SPLITS, SUB_DIM),
          random(seed + 1, 256 * DIM, 1),
          random(seed + 2, 256 * DIM, 1));
    }
    return new Table(
        ref.denseTable(items, DIM),
        engine().denseTable(items, DIM),
        random(seed + 1, items * DIM, 1),
        random(seed + 2, items * DIM, 1));
  }

  static String kind(boolean jpq) {
    return jpq ? "RecJPQ " : "dense ";
  }

  @ParameterizedTest
  @ValueSource(booleans = {false, true})
  void lookup(boolean jpq) {
    Table t = table(jpq, ITEMS, 300);
    int rows = 23;
    int[] v = ids(303, rows, ITEMS, 0.25);
    v[1] = v[2] = v[5]; // repeated items: their gradients add up
    I id = ints(v);
    F out = random(304, rows * DIM, 1);
    onBoth((o, s) -> t.at(s).lookup(out.at(s), id.at(s), t.params().at(s), rows));
    check(kind(jpq) + "lookup", out, EXACT);
    F dOut = random(305, rows * DIM, 1);
    onBoth((o, s) -> t.at(s).lookupBackward(t.grad().at(s), dOut.at(s), id.at(s), rows));
    check(kind(jpq) + "lookupBackward", t.grad(), SUMS);
  }

  @ParameterizedTest
  @ValueSource(booleans = {false, true})
  void sampledScores(boolean jpq) {
    Table t = table(jpq, ITEMS, 310);
    int rows = 9;
    int cols = 5;
    I items = ints(ids(313, rows * cols, ITEMS, 0.15));
    int[] tg = ids(314, rows, ITEMS, 0.3);
    I targets = ints(tg);
    F h = random(315, rows * DIM, 1);
    F scores = random(316, rows * cols, 1);
    onBoth(
        (o, s) ->
            t.at(s)
                .sampledScores(
                    scores.at(s),
                    h.at(s),
                    items.at(s),
                    targets.at(s),
                    t.params().at(s),
                    rows,
                    cols));
    check(kind(jpq) + "sampledScores", scores, SUMS);
    F dScores = random(317, rows * cols, 1);
    F dH = random(318, rows * DIM, 1);
    onBoth(
        (o, s) ->
            t.at(s)
                .sampledScoresBackward(
                    dH.at(s),
                    t.grad().at(s),
                    dScores.at(s),
                    h.at(s),
                    items.at(s),
                    targets.at(s),
                    t.params().at(s),
                    rows,
                    cols));
    check(kind(jpq) + "sampledScoresBackward dH", dH, SUMS);
    check(kind(jpq) + "sampledScoresBackward dParams", t.grad(), SUMS);
  }

  @ParameterizedTest
  @ValueSource(floats = {1f, 0.3f})
  void bce(float beta) {
    int rows = 9;
    int negatives = 6;
    int cols = negatives + 1;
    F scores = random(320, rows * cols, 4);
    I targets = ints(ids(321, rows, ITEMS, 0.3));
    F dScores = random(322, rows * cols, 1);
    lossOnBoth(
        "gBCE beta " + beta,
        (o, s) -> o.bceLoss(dScores.at(s), scores.at(s), targets.at(s), rows, negatives, beta),
        SUMS);
    check("gBCE beta " + beta + " dScores", dScores, ROUNDED);
  }

  @Test
  void sampledSoftmax() {
    int rows = 9;
    int negatives = 6;
    int cols = negatives + 1;
    F scores = random(330, rows * cols, 4);
    F logQ = random(331, rows * cols, 2);
    I targets = ints(ids(332, rows, ITEMS, 0.3));
    F dScores = random(333, rows * cols, 1);
    lossOnBoth(
        "sampled softmax",
        (o, s) ->
            o.sampledSoftmaxLoss(
                dScores.at(s), scores.at(s), logQ.at(s), targets.at(s), rows, negatives),
        SUMS);
    check("sampled softmax dScores", dScores, SUMS);
  }

  @Test
  void lossesWithoutTargets() {
    int rows = 4;
    int negatives = 3;
    F scores = random(340, rows * (negatives + 1), 2);
    I none = ints(new int[] {-1, -1, -1, -1});
    F dScores = random(341, rows * (negatives + 1), 1);
    lossOnBoth(
        "gBCE, no targets",
        (o, s) -> o.bceLoss(dScores.at(s), scores.at(s), none.at(s), rows, negatives, 0.5f),
        EXACT);
    check("gBCE, no targets: dScores", dScores, EXACT);
    F dScores2 = random(342, rows * (negatives + 1), 1);
    lossOnBoth(
        "sampled softmax, no targets",
        (o, s) ->
            o.sampledSoftmaxLoss(
                dScores2.at(s), scores.at(s), scores.at(s), none.at(s), rows, negatives),
        EXACT);
    check("sampled softmax, no targets: dScores", dScores2, EXACT);
  }

  /**
   * The full cross-entropy: a single row (the CPU engine's look-up strategy for RecJPQ), a batch
   * with ignored rows (its GEMM strategy), and a batch with no target at all; {@code ignored} is
   * the share of ignored rows.
   */
  @ParameterizedTest
  @CsvSource({
    "false, false, 1, 0",
    "false, true, 1, 0",
    "false, false, 19, 0.3",
    "false, true, 19, 0.3",
    "true, false, 1, 0",
    "true, true, 1, 0",
    "true, false, 19, 0.3",
    "true, true, 19, 0.3",
    "true, true, 5, 1",
    "false, false, 5, 1"
  })
  void fullCrossEntropy(boolean jpq, boolean withBias, int rows, double ignored) {
    int items = 301;
    Table t = table(jpq, items, 350 + rows);
    I targets = ints(ids(353, rows, items, ignored));
    F h = random(354, rows * DIM, 1);
    F bias = withBias ? random(355, items, 1) : null;
    F dBias = withBias ? random(356, items, 1) : null;
    F dH = random(357, rows * DIM, 1);
    String what = kind(jpq) + "full CE (bias " + withBias + ", rows " + rows + ") ";
    lossOnBoth(
        what,
        (o, s) ->
            t.at(s)
                .fullCrossEntropy(
                    dH.at(s),
                    t.grad().at(s),
                    dBias == null ? null : dBias.at(s),
                    h.at(s),
                    targets.at(s),
                    t.params().at(s),
                    bias == null ? null : bias.at(s),
                    rows),
        SUMS);
    check(what + "dH", dH, SUMS);
    check(what + "dParams", t.grad(), SUMS);
    if (withBias) {
      check(what + "dBias", dBias, SUMS);
    }
  }
}
