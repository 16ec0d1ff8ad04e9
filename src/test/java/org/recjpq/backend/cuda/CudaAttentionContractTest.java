package org.recjpq.backend.cuda;

import org.junit.jupiter.api.Tag;
import org.recjpq.backend.AttentionContract;
import org.recjpq.backend.Ops;

/** The attention contract on the CUDA engine; skipped, with the reason, where CUDA cannot run. */
@Tag("gpu")
class CudaAttentionContractTest extends AttentionContract {
  @Override
  protected Ops openEngine() {
    return CudaTestEngines.open();
  }
}
