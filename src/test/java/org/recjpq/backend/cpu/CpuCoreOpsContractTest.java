package org.recjpq.backend.cpu;

import org.recjpq.backend.CoreOpsContract;
import org.recjpq.backend.Ops;

/** The core-op contract on the CPU engine with 2 threads, against the 1-thread reference. */
class CpuCoreOpsContractTest extends CoreOpsContract {
  @Override
  protected Ops openEngine() {
    return new CpuOps(2);
  }
}
