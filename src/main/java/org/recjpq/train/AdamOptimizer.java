package org.recjpq.train;

import java.util.List;
import org.recjpq.backend.Buf;
import org.recjpq.backend.Ops;
import org.recjpq.model.SequenceModel;

/**
 * The Adam(W) state of a {@link Trainer}: the moments of every parameter and the step, over all
 * parameters at once or, with a separate item optimizer, run by run with the item side's own
 * learning rate and decay.
 */
final class AdamOptimizer {
  private final SequenceModel model;
  private final Ops ops;
  private final TrainConfig tc;

  /** Adam's first moments (same layout as the parameters). */
  final Buf adamM;

  /** Adam's second moments. */
  final Buf adamV;

  /** The layout in runs of item-side tensors and the rest: {offset, length, 1 if item side}. */
  private final List<long[]> optimizerRuns = new java.util.ArrayList<>();

  AdamOptimizer(SequenceModel model, TrainConfig tc) {
    this.model = model;
    this.ops = model.ops();
    this.tc = tc;
    for (org.recjpq.model.ParameterLayout.Entry e : model.layout().entries()) {
      long side =
          e.name().startsWith("item.")
                  || e.name().startsWith("output.codebooks")
                  || e.name().startsWith("output.table")
              ? 1
              : 0;
      long[] last = optimizerRuns.isEmpty() ? null : optimizerRuns.get(optimizerRuns.size() - 1);
      if (last != null && last[2] == side && last[0] + last[1] == e.offset()) {
        last[1] += e.size();
      } else {
        optimizerRuns.add(new long[] {e.offset(), e.size(), side});
      }
    }
    adamM = ops.alloc(model.layout().size());
    adamV = ops.alloc(model.layout().size());
  }

  /** One step at learning rate {@code lr}, the (state.step + 1)-th. */
  void step(float lr, Trainer.State state) {
    if (!tc.separateItemOptimizer()) {
      ops.adamStep(
          model.params(),
          model.grads(),
          adamM,
          adamV,
          lr,
          tc.beta1(),
          tc.beta2(),
          tc.eps(),
          tc.weightDecay(),
          (int) (state.step + 1));
    } else {
      for (long[] run : optimizerRuns) { // {offset, length, 1 for the item side}
        boolean item = run[2] == 1;
        ops.adamStep(
            model.params().slice(run[0], run[1]),
            model.grads().slice(run[0], run[1]),
            adamM.slice(run[0], run[1]),
            adamV.slice(run[0], run[1]),
            item ? lr * tc.itemLrScale() : lr,
            tc.beta1(),
            tc.beta2(),
            tc.eps(),
            item ? tc.itemDecay() : tc.weightDecay(),
            (int) (state.step + 1));
      }
    }
  }
}
