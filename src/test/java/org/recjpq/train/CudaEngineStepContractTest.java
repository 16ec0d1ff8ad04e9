package org.recjpq.train;

import org.junit.jupiter.api.Tag;
import org.recjpq.backend.Ops;
import org.recjpq.backend.cuda.CudaTestEngines;

/** Whole training steps on the CUDA engine (TF32 off) against the CPU (skipped without a GPU). */
@Tag("gpu")
class CudaEngineStepContractTest extends EngineStepContract {
  @Override
  protected Ops openEngine() {
    return CudaTestEngines.open();
  }
}
