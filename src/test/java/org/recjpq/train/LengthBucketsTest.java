package org.recjpq.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.recjpq.backend.Activation;
import org.recjpq.backend.cpu.CpuOps;
import org.recjpq.codes.ItemCodes;
import org.recjpq.data.DatasetBuilder;
import org.recjpq.data.FilterOptions;
import org.recjpq.data.Format;
import org.recjpq.data.InteractionLog;
import org.recjpq.data.SequenceDataset;
import org.recjpq.model.LossKind;
import org.recjpq.model.ModelConfig;
import org.recjpq.model.ModelConfig.Backbone;
import org.recjpq.model.ModelConfig.BlockStyle;
import org.recjpq.model.ModelConfig.EmbeddingKind;
import org.recjpq.model.SequenceModel;

/** --length-buckets: batches of similar length, each run on the slots its longest example uses. */
class LengthBucketsTest {

  /** Users with the given numbers of interactions over {@code items} items (seeded). */
  static SequenceDataset dataset(int[] lengths, int items, long seed) {
    Random rnd = new Random(seed);
    InteractionLog.Builder b =
        new InteractionLog.Builder(Path.of("(test)"), Format.SASREC_PAIRS, true, true, false);
    for (int u = 0; u < lengths.length; u++) {
      for (int t = 0; t < lengths[u]; t++) {
        b.add(b.userCode(u + 1), b.itemCode(1 + rnd.nextInt(items)), 0);
      }
    }
    return DatasetBuilder.build(b.build(), FilterOptions.DEFAULT);
  }

  static TrainConfig config(boolean buckets, int batch) {
    return new TrainConfig(
        LossKind.CE,
        0,
        0.75,
        batch,
        5,
        5e-3f,
        0.9f,
        0.98f,
        1e-8f,
        0f,
        5f,
        0,
        TrainConfig.Schedule.CONSTANT,
        7,
        1,
        0,
        false,
        0,
        0.3,
        0.5,
        buckets,
        1f,
        -1f);
  }

  @Test
  void bucketedOrderIsASeededPermutationOfSimilarLengthBatches() {
    Random rnd = new Random(1);
    int[] lengths = new int[1000];
    for (int u = 0; u < lengths.length; u++) {
      lengths[u] = 3 + rnd.nextInt(rnd.nextBoolean() ? 10 : 60);
    }
    SequenceDataset ds = dataset(lengths, 50, 2);
    int len = 40;
    int batch = 16;
    SequenceBatches sb = new SequenceBatches(ds, len, false);
    int[] plain = sb.epochOrder(9, 3);
    assertArrayEquals(plain, sb.epochOrder(9, 3, batch, false));
    int[] order = sb.epochOrder(9, 3, batch, true);
    assertArrayEquals(order, sb.epochOrder(9, 3, batch, true), "seeded");
    int[] sorted = order.clone();
    Arrays.sort(sorted);
    for (int i = 0; i < sorted.length; i++) {
      assertEquals(i, sorted[i], "a permutation of the examples");
    }
    // every example once; far fewer slots when each batch runs on its longest example
    int[] ids = new int[batch * len];
    int[] targets = new int[batch * len];
    long slotsPlain = 0;
    long slotsBuckets = 0;
    for (int from = 0; from < order.length; from += batch) {
      sb.fill(plain, from, batch, ids, targets);
      slotsPlain += SequenceBatches.usedLength(ids, batch, len);
      sb.fill(order, from, batch, ids, targets);
      slotsBuckets += SequenceBatches.usedLength(ids, batch, len);
    }
    assertTrue(
        slotsBuckets < 0.8 * slotsPlain,
        slotsBuckets + " slots bucketed, " + slotsPlain + " plain");
    // another epoch mixes the batches differently
    assertTrue(!Arrays.equals(order, sb.epochOrder(9, 4, batch, true)));
  }

  @Test
  void usedLengthIsTheLongestRowsSlots() {
    int[] ids = {-1, -1, -1, 4, -1, -1, 2, 3, -1, -1, -1, -1};
    assertEquals(2, SequenceBatches.usedLength(ids, 3, 4));
    Arrays.fill(ids, -1);
    assertEquals(1, SequenceBatches.usedLength(ids, 3, 4), "an all-PAD batch still runs one slot");
    ids[4] = 0;
    assertEquals(4, SequenceBatches.usedLength(ids, 3, 4));
  }

  /**
   * Users of equal length keep the shuffled order within a one-batch epoch, so with and without
   * buckets every step sees the same examples and the same random draws; only the window differs
   * (the last 13 of 30 slots against all 30). Losses and parameters must agree to rounding.
   */
  @ParameterizedTest
  @EnumSource(value = Backbone.class)
  void trimmedBatchesTrainLikeFullWindows(Backbone backbone) {
    int[] lengths = new int[24];
    Arrays.fill(lengths, 15); // 13 training items: inputs of 12 (next item) or 13 (masked)
    SequenceDataset ds = dataset(lengths, 40, 3);
    boolean[] skip = null;
    double[][] losses = new double[2][];
    float[][] params = new float[2][];
    for (int v = 0; v < 2; v++) {
      CpuOps ops = new CpuOps(1);
      ModelConfig c =
          new ModelConfig(
              backbone,
              ds.numItems(),
              8,
              2,
              2,
              30,
              0f,
              16,
              backbone == Backbone.BERT4REC ? Activation.GELU : Activation.RELU,
              EmbeddingKind.JPQ,
              2,
              true,
              BlockStyle.PRE_LN,
              1e-8f);
      byte[] codes = new byte[ds.numItems() * 2];
      new Random(4).nextBytes(codes);
      SequenceModel m = SequenceModel.create(c, ops, new ItemCodes(ds.numItems(), 2, codes));
      m.initialize(5);
      Trainer t = new Trainer(m, ds, config(v == 1, 32), new int[0]);
      losses[v] = new double[3];
      for (int s = 0; s < 3; s++) {
        losses[v][s] = t.step();
      }
      params[v] = new float[(int) m.layout().size()];
      ops.download(params[v], m.params());
      if (v == 0) {
        // An attention key bias shifts every logit of a query alike: its true gradient is 0, its
        // computed one rounding noise that Adam scales up to full steps. It cannot agree; skip it.
        for (var e : m.layout().entries()) {
          if (e.name().endsWith("attn.bk")) {
            skip = skip == null ? new boolean[(int) m.layout().size()] : skip;
            Arrays.fill(skip, (int) e.offset(), (int) (e.offset() + e.size()), true);
          }
        }
      }
    }
    for (int s = 0; s < 3; s++) {
      assertEquals(
          losses[0][s], losses[1][s], 1e-5 * Math.abs(losses[0][s]), backbone + " step " + s);
    }
    for (int i = 0; i < params[0].length; i++) {
      if (skip != null && skip[i]) {
        continue;
      }
      assertEquals(params[0][i], params[1][i], 1e-4, backbone + " parameter " + i);
    }
  }
}
