package org.recjpq.backend.cuda;

import org.junit.jupiter.api.Tag;
import org.recjpq.backend.CoreOpsContract;
import org.recjpq.backend.Ops;

/**
 * The core-op contract on the CUDA engine's default mode, whose embedding scatters use float
 * atomics (the contract's small-integer inputs make them exact in any order); skipped with the
 * reason where CUDA cannot run.
 */
@Tag("gpu")
class CudaAtomicCoreOpsContractTest extends CoreOpsContract {
  @Override
  protected Ops openEngine() {
    return CudaTestEngines.openAtomic();
  }
}
