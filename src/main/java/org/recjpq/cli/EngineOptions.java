package org.recjpq.cli;

import org.recjpq.UsageException;
import picocli.CommandLine.Option;

/** Where the numbers are computed: the engine options every training or scoring command takes. */
final class EngineOptions {
  @Option(
      names = "--device",
      paramLabel = "D",
      defaultValue = "auto",
      description =
          "cpu, cuda, or auto (the GPU when one works, else the CPU, saying why; default: ${DEFAULT-VALUE}).")
  String device;

  @Option(
      names = "--tf32",
      description =
          "On the GPU, run FP32 GEMMs on TF32 tensor cores (faster, ~1e-3 relative"
              + " error per product; off by default so both engines agree to FP32 rounding).")
  boolean tf32;

  @Option(
      names = "--threads",
      paramLabel = "N",
      description = "Engine threads (default: all processors).")
  Integer threads;

  /** The thread count asked for, or all processors; a usage error below 1. */
  int threadCount() {
    if (threads != null && threads < 1) {
      throw new UsageException("--threads must be at least 1, got " + threads + ".");
    }
    return threads != null ? threads : Runtime.getRuntime().availableProcessors();
  }

  /** The engine these options ask for. */
  ModelSetup.Engine engine() {
    threadCount();
    return ModelSetup.engine(device, threads, tf32);
  }
}
