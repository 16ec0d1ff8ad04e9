package org.recjpq.backend.cuda;

import org.junit.jupiter.api.Tag;
import org.recjpq.backend.Ops;
import org.recjpq.backend.ReferenceOracle;

/**
 * Every op of the CUDA engine against the float64 oracle (on the CUDA emulator in CI; skipped with
 * the reason where no GPU is present).
 */
@Tag("gpu")
class CudaReferenceOracleTest extends ReferenceOracle {
  @Override
  protected Ops openEngine() {
    return CudaTestEngines.open();
  }
}
