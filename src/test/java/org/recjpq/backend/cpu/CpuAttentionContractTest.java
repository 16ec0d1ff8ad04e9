package org.recjpq.backend.cpu;

import org.recjpq.backend.AttentionContract;
import org.recjpq.backend.Ops;

/**
 * The attention contract on the CPU engine with 2 threads (its results may not depend on the thread
 * count).
 */
class CpuAttentionContractTest extends AttentionContract {
  @Override
  protected Ops openEngine() {
    return new CpuOps(2);
  }
}
