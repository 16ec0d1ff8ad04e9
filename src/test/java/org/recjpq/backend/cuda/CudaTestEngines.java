package org.recjpq.backend.cuda;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import org.recjpq.backend.Availability;

/** Opening the CUDA engine in tests: skipped (with the reason) where CUDA cannot run. */
public final class CudaTestEngines {
  private CudaTestEngines() {}

  /** A deterministic CUDA engine on device 0, or a skipped test saying why there is none. */
  public static CudaOps open() {
    Availability a = CudaAvailability.check();
    assumeTrue(a.available(), a.description());
    return CudaOps.open(0, true);
  }

  /**
   * The default (float-atomic scatters) CUDA engine on device 0, or a skipped test saying why there
   * is none.
   */
  public static CudaOps openAtomic() {
    Availability a = CudaAvailability.check();
    assumeTrue(a.available(), a.description());
    return CudaOps.open(0, false);
  }
}
