package org.recjpq.backend.cuda;

import org.junit.jupiter.api.Tag;
import org.recjpq.backend.CoreOpsContract;
import org.recjpq.backend.Ops;

/** The core-op contract on the CUDA engine (skipped with the reason where no GPU is present). */
@Tag("gpu")
class CudaCoreOpsContractTest extends CoreOpsContract {
  @Override
  protected Ops openEngine() {
    return CudaTestEngines.open();
  }
}
