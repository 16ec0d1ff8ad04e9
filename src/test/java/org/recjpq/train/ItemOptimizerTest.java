package org.recjpq.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.recjpq.backend.cpu.CpuOps;
import org.recjpq.data.LeaveOneOut;
import org.recjpq.data.SequenceDataset;
import org.recjpq.model.LossKind;
import org.recjpq.model.ParameterLayout;
import org.recjpq.model.SasRec;

/** The item side's own learning rate and weight decay reach exactly the item-side tensors. */
class ItemOptimizerTest {
  private static TrainConfig config(float itemLrScale, float itemWeightDecay, float weightDecay) {
    return new TrainConfig(
        LossKind.CE,
        0,
        0.75,
        32,
        2,
        5e-3f,
        0.9f,
        0.98f,
        1e-8f,
        weightDecay,
        0f,
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
        itemLrScale,
        itemWeightDecay);
  }

  /** Parameters after one step from the same start. */
  private static float[][] oneStep(SequenceDataset ds, TrainConfig tc) {
    CpuOps ops = new CpuOps(1);
    SasRec m = TrainerTest.model(ds, ops);
    float[] before = new float[(int) m.layout().size()];
    ops.download(before, m.params());
    new Trainer(m, ds, tc, LeaveOneOut.validationUsers(ds, 20, 1)).step();
    float[] after = new float[before.length];
    ops.download(after, m.params());
    return new float[][] {before, after, new float[] {m.layout().entries().size()}};
  }

  @Test
  void theFirstAdamStepOfTheItemSideScalesWithItsLearningRateAndTheRestIsUntouched() {
    SequenceDataset ds = TrainerTest.synthetic();
    float[][] plain = oneStep(ds, config(1f, -1f, 0f));
    float[][] twice = oneStep(ds, config(2f, -1f, 0f));
    CpuOps ops = new CpuOps(1);
    ParameterLayout layout = TrainerTest.model(ds, ops).layout();
    int itemFloats = 0;
    for (ParameterLayout.Entry e : layout.entries()) {
      boolean item = e.name().startsWith("item.");
      for (long i = e.offset(); i < e.offset() + e.size(); i++) {
        float d1 = plain[1][(int) i] - plain[0][(int) i];
        float d2 = twice[1][(int) i] - twice[0][(int) i];
        if (item) {
          assertEquals(2.0 * d1, d2, 1e-6 + 1e-3 * Math.abs(d2), e.name() + "[" + i + "]");
          itemFloats += d1 != 0 ? 1 : 0;
        } else {
          assertEquals(d1, d2, 0.0, e.name() + "[" + i + "]");
        }
      }
    }
    assertTrue(itemFloats > 100, "the codebooks moved: " + itemFloats);
  }

  @Test
  void theItemSideDecaysByItsOwnWeightDecay() {
    SequenceDataset ds = TrainerTest.synthetic();
    float[][] same = oneStep(ds, config(1f, 0.5f, 0.5f)); // equal values: one call over everything
    float[][] none = oneStep(ds, config(1f, 0f, 0.5f)); // the item side without decay
    CpuOps ops = new CpuOps(1);
    ParameterLayout layout = TrainerTest.model(ds, ops).layout();
    for (ParameterLayout.Entry e : layout.entries()) {
      boolean item = e.name().startsWith("item.");
      for (long i = e.offset(); i < e.offset() + e.size(); i++) {
        int k = (int) i;
        if (item) { // decoupled decay: p -= lr·wd·p on top of the same Adam update
          assertEquals(
              same[1][k] + 5e-3f * 0.5f * same[0][k], none[1][k], 1e-6, e.name() + "[" + i + "]");
        } else {
          assertEquals(same[1][k], none[1][k], 0.0, e.name() + "[" + i + "]");
        }
      }
    }
  }
}
