package org.recjpq.train;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.recjpq.backend.Activation;
import org.recjpq.backend.Ops;
import org.recjpq.backend.OpsContract;
import org.recjpq.backend.Tolerance;
import org.recjpq.backend.cpu.CpuOps;
import org.recjpq.codes.CodeAssigners;
import org.recjpq.codes.CodeOptions;
import org.recjpq.codes.CodeStrategy;
import org.recjpq.codes.ItemCodes;
import org.recjpq.data.LeaveOneOut;
import org.recjpq.data.SequenceDataset;
import org.recjpq.model.LossKind;
import org.recjpq.model.ModelConfig;
import org.recjpq.model.ModelConfig.BlockStyle;
import org.recjpq.model.ModelConfig.EmbeddingKind;
import org.recjpq.model.SequenceModel;

/**
 * Whole training steps on the engine under test against the CPU reference (issue: a full
 * SASRec-RecJPQ step, dropout included, gives the same loss and gradients; a 10-step loss trajectory
 * agrees to 1e-4 relative). Both engines start from the same parameters, codes and batches; dropout
 * masks and negatives come from the counter-based RNG, so they are identical.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
public abstract class EngineStepContract {
  private Ops engine;

  /** Opens the engine under test (skip with an assumption when it cannot run). */
  protected abstract Ops openEngine();

  private Ops engine() {
    if (engine == null) {
      engine = openEngine();
    }
    return engine;
  }

  @AfterAll
  void close() {
    if (engine != null) {
      engine.close();
    }
  }

  private static SequenceModel model(SequenceDataset ds, Ops ops, ModelConfig.Backbone backbone, EmbeddingKind kind,
      ItemCodes codes) {
    boolean bert = backbone == ModelConfig.Backbone.BERT4REC;
    ModelConfig c = new ModelConfig(backbone, ds.numItems(), 16, 2, bert ? 2 : 1, 20, 0.2f, 32,
        bert ? Activation.GELU : Activation.RELU, kind, 4, true, BlockStyle.PRE_LN, 1e-8f);
    SequenceModel m = SequenceModel.create(c, ops, kind == EmbeddingKind.JPQ ? codes : null);
    m.initialize(3);
    return m;
  }

  private static float[] host(Ops ops, org.recjpq.backend.Buf b) {
    float[] a = new float[(int) b.size()];
    ops.download(a, b);
    return a;
  }

  @ParameterizedTest
  @CsvSource({"SASREC,JPQ,CE", "SASREC,JPQ,BCE", "SASREC,JPQ,GBCE", "SASREC,DENSE,CE", "SASREC,JPQ,SAMPLED_SOFTMAX",
      "BERT4REC,JPQ,CE", "GRU4REC,JPQ,CE"})
  void oneStepThenTenStepsAgree(ModelConfig.Backbone backbone, EmbeddingKind kind, LossKind loss) {
    SequenceDataset ds = TrainerTest.synthetic();
    ItemCodes codes = CodeAssigners.assign(ds, CodeOptions.defaults(CodeStrategy.SVD, 4, 1)).codes();
    Ops cpu = new CpuOps(1);
    SequenceModel refModel = model(ds, cpu, backbone, kind, codes);
    SequenceModel model = model(ds, engine(), backbone, kind, codes);
    OpsContract.assertAgree("initial parameters", host(cpu, refModel.params()), host(engine(), model.params()),
        Tolerance.EXACT);
    int[] val = LeaveOneOut.validationUsers(ds, 50, 1);
    TrainConfig tc = TrainerTest.config(loss, 3);
    Trainer refTrainer = new Trainer(refModel, ds, tc, val);
    Trainer trainer = new Trainer(model, ds, tc, val);
    double refLoss = refTrainer.step();
    double loss1 = trainer.step();
    OpsContract.assertAgree("step 1 loss", refLoss, loss1, Tolerance.REDUCTION);
    OpsContract.assertAgree("step 1 gradients", host(cpu, refModel.grads()), host(engine(), model.grads()),
        Tolerance.GRADIENT);
    OpsContract.assertAgree("step 1 parameters", host(cpu, refModel.params()), host(engine(), model.params()),
        Tolerance.GRADIENT);
    for (int s = 2; s <= 10; s++) {
      double r = refTrainer.step();
      double g = trainer.step();
      OpsContract.assertAgree("step " + s + " loss", r, g, new Tolerance("trajectory", 0, 1e-4));
    }
    assertEquals(refTrainer.state().step, trainer.state().step);
  }
}
