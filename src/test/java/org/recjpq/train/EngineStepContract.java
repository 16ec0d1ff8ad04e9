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
 * SASRec-RecJPQ step, dropout included, gives the same loss and gradients; a 10-step loss
 * trajectory agrees to 1e-4 relative). Both engines start from the same parameters, codes and
 * batches; dropout masks and negatives come from the counter-based RNG, so they are identical.
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

  private static SequenceModel model(
      SequenceDataset ds,
      Ops ops,
      ModelConfig.Backbone backbone,
      EmbeddingKind kind,
      ItemCodes codes) {
    boolean bert = backbone == ModelConfig.Backbone.BERT4REC;
    ModelConfig c =
        new ModelConfig(
            backbone,
            ds.numItems(),
            16,
            2,
            bert ? 2 : 1,
            20,
            0.2f,
            32,
            bert ? Activation.GELU : Activation.RELU,
            kind,
            4,
            true,
            BlockStyle.PRE_LN,
            1e-8f);
    SequenceModel m = SequenceModel.create(c, ops, kind == EmbeddingKind.JPQ ? codes : null);
    m.initialize(3);
    return m;
  }

  private static float[] host(Ops ops, org.recjpq.backend.Buf b) {
    float[] a = new float[(int) b.size()];
    ops.download(a, b);
    return a;
  }

  /**
   * The parameters after Adam's first step from {@code params} with gradients {@code grads}, on the
   * CPU engine.
   */
  private static float[] adamFirstStep(float[] params, float[] grads, TrainConfig tc, float lr) {
    Ops cpu = new CpuOps(1);
    org.recjpq.backend.Buf p = cpu.alloc(params.length);
    org.recjpq.backend.Buf g = cpu.alloc(grads.length);
    cpu.upload(p, params);
    cpu.upload(g, grads);
    cpu.adamStep(
        p,
        g,
        cpu.alloc(params.length),
        cpu.alloc(params.length),
        lr,
        tc.beta1(),
        tc.beta2(),
        tc.eps(),
        tc.weightDecay(),
        1);
    return host(cpu, p);
  }

  @ParameterizedTest
  @CsvSource({
    "SASREC,JPQ,CE",
    "SASREC,JPQ,BCE",
    "SASREC,JPQ,GBCE",
    "SASREC,DENSE,CE",
    "SASREC,JPQ,SAMPLED_SOFTMAX",
    "BERT4REC,JPQ,CE",
    "GRU4REC,JPQ,CE"
  })
  void oneStepThenTenStepsAgree(ModelConfig.Backbone backbone, EmbeddingKind kind, LossKind loss) {
    SequenceDataset ds = TrainerTest.synthetic();
    ItemCodes codes =
        CodeAssigners.assign(ds, CodeOptions.defaults(CodeStrategy.SVD, 4, 1)).codes();
    Ops cpu = new CpuOps(1);
    SequenceModel refModel = model(ds, cpu, backbone, kind, codes);
    SequenceModel model = model(ds, engine(), backbone, kind, codes);
    float[] initial = host(cpu, refModel.params());
    OpsContract.assertAgree(
        "initial parameters", initial, host(engine(), model.params()), Tolerance.EXACT);
    int[] val = LeaveOneOut.validationUsers(ds, 50, 1);
    TrainConfig tc = TrainerTest.config(loss, 3);
    Trainer refTrainer = new Trainer(refModel, ds, tc, val);
    Trainer trainer = new Trainer(model, ds, tc, val);
    double refLoss = refTrainer.step();
    double loss1 = trainer.step();
    OpsContract.assertAgree("step 1 loss", refLoss, loss1, Tolerance.REDUCTION);
    OpsContract.assertAgree(
        "step 1 gradients",
        host(cpu, refModel.grads()),
        host(engine(), model.grads()),
        Tolerance.GRADIENT);
    // The engine's step must be Adam applied to the engine's own (clipped) gradients. Comparing
    // with the
    // CPU's parameters instead would hold every gradient to Adam's first step, Δp = -lr·g/(|g| +
    // ε),
    // which turns a gradient of ~ε (1e-8: sums that cancel) into a step of up to lr whose size two
    // correct FP32 engines cannot agree on; the gradients themselves are compared above.
    float[] expected =
        adamFirstStep(
            initial,
            host(engine(), model.grads()),
            tc,
            tc.learningRateAt(0, (long) trainer.stepsPerEpoch() * tc.epochs()));
    OpsContract.assertAgree(
        "step 1 parameters (Adam on the engine's gradients)",
        expected,
        host(engine(), model.params()),
        Tolerance.GRADIENT);
    for (int s = 2; s <= 10; s++) {
      double r = refTrainer.step();
      double g = trainer.step();
      OpsContract.assertAgree("step " + s + " loss", r, g, new Tolerance("trajectory", 0, 1e-4));
    }
    assertEquals(refTrainer.state().step, trainer.state().step);
  }
}
