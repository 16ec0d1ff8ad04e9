package org.recjpq.train;

import org.recjpq.backend.Ops;
import org.recjpq.backend.cpu.CpuOps;

/** Whole training steps on the CPU engine with 2 threads against the 1-thread reference. */
class CpuEngineStepContractTest extends EngineStepContract {
  @Override
  protected Ops openEngine() {
    return new CpuOps(2);
  }
}
