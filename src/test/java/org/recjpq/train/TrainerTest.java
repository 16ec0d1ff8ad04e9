package org.recjpq.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.recjpq.backend.Activation;
import org.recjpq.backend.cpu.CpuOps;
import org.recjpq.checkpoint.Checkpoint;
import org.recjpq.codes.CodeAssigners;
import org.recjpq.codes.CodeOptions;
import org.recjpq.codes.CodeStrategy;
import org.recjpq.codes.ItemCodes;
import org.recjpq.data.DatasetBuilder;
import org.recjpq.data.FilterOptions;
import org.recjpq.data.Format;
import org.recjpq.data.InteractionLog;
import org.recjpq.data.LeaveOneOut;
import org.recjpq.data.SequenceDataset;
import org.recjpq.data.synth.SynthConfig;
import org.recjpq.data.synth.SyntheticGenerator;
import org.recjpq.model.LossKind;
import org.recjpq.model.ModelConfig;
import org.recjpq.model.ModelConfig.BlockStyle;
import org.recjpq.model.ModelConfig.EmbeddingKind;
import org.recjpq.model.SasRec;

class TrainerTest {
  @TempDir Path dir;

  static SequenceDataset synthetic() {
    SynthConfig config = SynthConfig.defaults(400, 300, 12_000, 5);
    InteractionLog.Builder b =
        new InteractionLog.Builder(Path.of("(synth)"), Format.SASREC_PAIRS, true, true, false);
    SyntheticGenerator.generate(config, (u, i) -> b.add(b.userCode(u), b.itemCode(i), 0));
    return DatasetBuilder.build(b.build(), FilterOptions.DEFAULT);
  }

  static TrainConfig config(LossKind loss, int epochs) {
    return new TrainConfig(
        loss,
        loss == LossKind.CE ? 0 : 4,
        0.75,
        32,
        epochs,
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
        0.2,
        0.0,
        false,
        1f,
        -1f);
  }

  static SasRec model(SequenceDataset ds, CpuOps ops) {
    ModelConfig c =
        new ModelConfig(
            ModelConfig.Backbone.SASREC,
            ds.numItems(),
            16,
            1,
            1,
            20,
            0.1f,
            16,
            Activation.RELU,
            EmbeddingKind.JPQ,
            4,
            true,
            BlockStyle.PRE_LN,
            1e-8f);
    ItemCodes codes =
        CodeAssigners.assign(ds, CodeOptions.defaults(CodeStrategy.SVD, 4, 1)).codes();
    SasRec m = new SasRec(c, ops, codes);
    m.initialize(3);
    return m;
  }

  @ParameterizedTest
  @EnumSource(value = LossKind.class)
  void theLossFallsAndValidationBeatsChance(LossKind loss) {
    SequenceDataset ds = synthetic();
    CpuOps ops = new CpuOps(2);
    SasRec m = model(ds, ops);
    int[] val = LeaveOneOut.validationUsers(ds, -1, 1);
    Trainer t = new Trainer(m, ds, config(loss, 6), val);
    double first = t.step();
    t.run(r -> {});
    double last = t.history().get(t.history().size() - 1).trainLoss();
    assertTrue(last < first, loss + ": loss " + first + " -> " + last);
    double ndcg = t.state().bestMetric;
    assertTrue(ndcg > 0.05, loss + ": validation NDCG@10 " + ndcg + " (random would be ~0.01)");
  }

  @Test
  void resumingFromACheckpointGivesBitIdenticalLosses() {
    SequenceDataset ds = synthetic();
    int[] val = LeaveOneOut.validationUsers(ds, 50, 1);
    TrainConfig tc = config(LossKind.BCE, 3);
    int n = 7; // crosses an epoch boundary? stepsPerEpoch is ~13: stays inside epoch 1
    double[] straight = new double[2 * n];
    CpuOps ops = new CpuOps(2);
    SasRec a = model(ds, ops);
    Trainer ta = new Trainer(a, ds, tc, val);
    for (int i = 0; i < 2 * n; i++) {
      straight[i] = ta.step();
    }
    SasRec b = model(ds, ops);
    Trainer tb = new Trainer(b, ds, tc, val);
    double[] resumed = new double[2 * n];
    for (int i = 0; i < n; i++) {
      resumed[i] = tb.step();
    }
    Path file = dir.resolve("ck.rjc");
    ObjectMapper json = new ObjectMapper();
    tb.checkpoint(ds.items(), true, json.createObjectNode()).write(file, b.layout());
    Checkpoint ck = Checkpoint.read(file);
    SasRec c = model(ds, ops);
    Trainer tc2 = new Trainer(c, ds, tc, val);
    tc2.restore(ck);
    for (int i = n; i < 2 * n; i++) {
      resumed[i] = tc2.step();
    }
    assertArrayEquals(straight, resumed);
    assertEquals(2L * n, tc2.state().step);
  }

  @Test
  void aTimeLimitFitsTheDecayToTheEpochsItHolds() {
    assertEquals(12, TrainConfig.fittedHorizon(2, 50, 100.0, 10.0)); // 2 done + 10 more fit
    assertEquals(12, TrainConfig.fittedHorizon(2, 50, 109.9, 10.0)); // a part epoch does not count
    assertEquals(0, TrainConfig.fittedHorizon(2, 12, 100.0, 10.0)); // the configured 12 fit: kept
    assertEquals(3, TrainConfig.fittedHorizon(3, 50, -5.0, 10.0)); // time is up: the decay ends now
    assertEquals(1, TrainConfig.fittedHorizon(0, 50, 5.0, 10.0)); // never below one epoch
  }

  @Test
  void aFittedDecayGoesOnInAResumedRun() {
    SequenceDataset ds = synthetic();
    int[] val = LeaveOneOut.validationUsers(ds, 50, 1);
    TrainConfig base = config(LossKind.CE, 40);
    TrainConfig tc =
        new TrainConfig(
            base.loss(),
            base.negatives(),
            base.gbceT(),
            base.batchSize(),
            base.epochs(),
            base.learningRate(),
            base.beta1(),
            base.beta2(),
            base.eps(),
            base.weightDecay(),
            base.clipNorm(),
            0,
            TrainConfig.Schedule.COSINE,
            base.seed(),
            base.validateEvery(),
            base.patience(),
            base.slidingWindows(),
            3600,
            base.maskProbability(),
            base.maskLastProbability(),
            base.lengthBuckets(),
            base.itemLrScale(),
            base.itemWeightDecay());
    CpuOps ops = new CpuOps(2);
    SasRec a = model(ds, ops);
    Trainer ta = new Trainer(a, ds, tc, val);
    for (int i = 0; i < 5; i++) {
      ta.step();
    }
    float unfitted = ta.learningRate();
    ta.state().horizonEpochs = 1; // as if the time held one epoch: the decay ends with it
    float fitted = ta.learningRate();
    assertTrue(fitted < unfitted, fitted + " should be below " + unfitted);
    Path file = dir.resolve("fitted.rjc");
    ta.checkpoint(ds.items(), true, new ObjectMapper().createObjectNode()).write(file, a.layout());
    Trainer tb = new Trainer(model(ds, ops), ds, tc, val);
    tb.restore(Checkpoint.read(file));
    assertEquals(1, tb.state().horizonEpochs);
    assertEquals(fitted, tb.learningRate());
  }
}
