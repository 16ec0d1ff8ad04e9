package org.recjpq.backend.cuda;

import org.junit.jupiter.api.Tag;
import org.recjpq.backend.GruContract;
import org.recjpq.backend.Ops;

/** The GRU contract on the CUDA engine; skipped, with the reason, where CUDA cannot run. */
@Tag("gpu")
class CudaGruContractTest extends GruContract {
  @Override
  protected Ops openEngine() {
    return CudaTestEngines.open();
  }
}
