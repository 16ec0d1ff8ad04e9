package org.recjpq.backend.cpu;

import org.recjpq.backend.Buf;
import org.recjpq.backend.IntBuf;
import org.recjpq.backend.LossContract;
import org.recjpq.backend.Ops;
import org.recjpq.backend.cpu.CpuFullCrossEntropy.Result;
import org.recjpq.backend.cpu.CpuLosses.ItemTable;

/**
 * The loss contract on the CPU engine with 2 threads against the 1-thread reference: the suite's
 * own check here, and the proof that the CPU's results do not depend on the thread count or on the
 * tile plan (forced plans go through {@link CpuFullCrossEntropy#run}).
 */
class CpuLossContractTest extends LossContract {
  @Override
  protected Ops openEngine() {
    return new CpuOps(2);
  }

  @Override
  protected FullCeRun fullCrossEntropyForced(
      Ops under,
      Forced plan,
      Buf dH,
      Buf dTable,
      Buf h,
      IntBuf targets,
      Head head,
      int rows,
      int numItems) {
    ItemTable t =
        head.isJpq()
            ? ItemTable.jpq(
                (CpuByteBuf) head.codes(), (CpuBuf) head.codebooks(), head.splits(), head.subDim())
            : ItemTable.dense((CpuBuf) head.table(), head.dim());
    CpuFullCrossEntropy.Strategy force =
        plan.strategy() == null
            ? null
            : CpuFullCrossEntropy.Strategy.valueOf(plan.strategy().name());
    Result r =
        CpuFullCrossEntropy.run(
            (CpuOps) under,
            (CpuBuf) dH,
            (CpuBuf) dTable,
            (CpuBuf) h,
            (CpuIntBuf) targets,
            t,
            rows,
            numItems,
            force,
            plan.tile(),
            plan.rowBlock());
    int tiles = (numItems + r.plan().tile() - 1) / r.plan().tile();
    return new FullCeRun(r.loss(), Strategy.valueOf(r.plan().strategy().name()), tiles);
  }
}
