package org.recjpq.backend.cpu;

import org.recjpq.backend.GruContract;
import org.recjpq.backend.Ops;

/**
 * The GRU contract on the CPU engine with 2 threads: the results must not depend on the thread
 * count.
 */
class CpuGruContractTest extends GruContract {
  @Override
  protected Ops openEngine() {
    return new CpuOps(2);
  }
}
