package org.recjpq.backend.cpu;

import org.recjpq.backend.Ops;
import org.recjpq.backend.ReferenceOracle;

/** Every op of the tuned CPU engine (2 threads) against the float64 oracle. */
class CpuReferenceOracleTest extends ReferenceOracle {
  @Override
  protected Ops openEngine() {
    return new CpuOps(2);
  }
}
