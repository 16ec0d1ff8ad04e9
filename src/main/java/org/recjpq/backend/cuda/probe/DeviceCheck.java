package org.recjpq.backend.cuda.probe;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import org.recjpq.backend.cuda.AddressBridge;
import org.recjpq.backend.cuda.CublasHandle;
import org.recjpq.backend.cuda.CudaAvailability;
import org.recjpq.backend.cuda.CudaContext;
import org.recjpq.backend.cuda.CudaEmulator;
import org.recjpq.backend.cuda.CudaModule;

/**
 * The toolchain probe run first on a GPU machine (docs/architecture.md §7, {@code
 * native-build/gpu-check.sh}).
 *
 * <p>Steps, each timed and reported PASS, FAIL or SKIP with its reason:
 *
 * <ol>
 *   <li>{@code cuda-driver}: JCuda's driver library, the driver version and the devices.
 *   <li>{@code primary-context}: {@code cuInit}, then device 0's primary context retained and made
 *       current.
 *   <li>{@code fatbin}: the kernels' fatbin loaded with {@code cuModuleLoadData}.
 *   <li>{@code saxpy-kernel}: {@code saxpy_probe_kernel} on small-integer inputs, equal to Java bit
 *       for bit.
 *   <li>{@code openblas}: OpenBLAS (the CPU reference) against a plain loop; runs without a GPU.
 *   <li>{@code cublas-sgemm}: Bytedeco cuBLAS SGEMM, 257x129x65 with every transpose, on JCuda
 *       memory through {@link AddressBridge}, against OpenBLAS within the FP32 error bound (TF32
 *       off); the primary context must still be current afterwards.
 *   <li>{@code cublas-offset}: the same through non-zero byte offsets, with guard values around C.
 *   <li>{@code cublas-throughput}: 4096^3 SGEMM in FP32 (pedantic) and TF32 modes, for the record.
 *   <li>{@code cudnn}: cuDNN's version and a handle created in the shared context.
 * </ol>
 *
 * <p>Without a GPU every GPU step is SKIP with the reason from {@link CudaAvailability}; the exit
 * code is then 0 with {@code --allow-no-gpu} and 2 without. Any FAIL gives exit code 1. The final
 * markdown table goes to standard output and, with {@code --summary FILE}, to that file.
 */
public final class DeviceCheck {
  /** A step's outcome. */
  public enum Outcome {
    PASS,
    FAIL,
    SKIP
  }

  /** One step's result. */
  public record Step(String name, Outcome outcome, double millis, String detail) {}

  /** All steps and the process exit code they imply. */
  public record Result(List<Step> steps, int exitCode) {
    /** The number of steps with the given outcome. */
    public long count(Outcome outcome) {
      return steps.stream().filter(s -> s.outcome() == outcome).count();
    }

    /** A markdown table of the steps. */
    public String table() {
      StringBuilder text = new StringBuilder();
      text.append("| step | result | ms | detail |\n|---|---|---:|---|\n");
      for (Step step : steps) {
        text.append("| ")
            .append(step.name())
            .append(" | ")
            .append(step.outcome())
            .append(" | ")
            .append(String.format(Locale.ROOT, "%.1f", step.millis()))
            .append(" | ")
            .append(step.detail().replace("|", "\\|").replace('\n', ' '))
            .append(" |\n");
      }
      text.append(
          String.format(
              Locale.ROOT,
              "%n%d passed, %d failed, %d skipped; exit code %d%n",
              count(Outcome.PASS),
              count(Outcome.FAIL),
              count(Outcome.SKIP),
              exitCode));
      return text.toString();
    }
  }

  private DeviceCheck() {}

  /**
   * Runs the check: {@code [--allow-no-gpu] [--summary FILE]}.
   *
   * @param args the command-line arguments
   */
  public static void main(String[] args) {
    boolean allowNoGpu = false;
    Path summary = null;
    for (int i = 0; i < args.length; i++) {
      switch (args[i]) {
        case "--allow-no-gpu" -> allowNoGpu = true;
        case "--summary" -> {
          if (i + 1 >= args.length) {
            System.err.println("--summary needs a file name.");
            System.exit(64);
          }
          summary = Path.of(args[++i]);
        }
        case "-h", "--help" -> {
          System.out.println("Usage: DeviceCheck [--allow-no-gpu] [--summary FILE]");
          System.exit(0);
        }
        default -> {
          System.err.println(
              "Unknown argument '"
                  + args[i]
                  + "'. Usage: DeviceCheck [--allow-no-gpu] [--summary FILE]");
          System.exit(64);
        }
      }
    }
    Result result = run(allowNoGpu, System.out);
    if (summary != null) {
      try {
        Files.writeString(summary, result.table(), StandardCharsets.UTF_8);
      } catch (IOException e) {
        System.err.println(
            "The summary could not be written to " + summary + ": " + e.getMessage());
      }
    }
    System.out.flush();
    System.exit(result.exitCode());
  }

  /** Runs every step, printing progress and the final table to {@code out}. Never exits. */
  public static Result run(boolean allowNoGpu, PrintStream out) {
    out.println("# recjpq device check");
    out.println(
        "Java "
            + System.getProperty("java.version")
            + " ("
            + System.getProperty("java.vm.name")
            + ") on "
            + System.getProperty("os.name")
            + " "
            + System.getProperty("os.arch")
            + ", "
            + Runtime.getRuntime().availableProcessors()
            + " CPUs");
    Runner runner = new Runner(out);
    CudaAvailability.Report report = CudaAvailability.report();
    runner.record(
        "cuda-driver",
        0,
        report.hasDevice() ? Outcome.PASS : Outcome.SKIP,
        report.hasDevice()
            ? report.availability().description()
            : "no GPU: " + report.availability().description());
    String noGpu = report.hasDevice() ? null : "no GPU (see cuda-driver)";

    CudaContext context = null;
    CudaModule module = null;
    CublasHandle cublas = null;
    try {
      context = runner.run("primary-context", noGpu, () -> CudaContext.retainPrimary(0));
      CudaContext ctx = context;
      runner.check(
          "primary-context",
          () -> {
            long[] memory = ctx.memoryInfo();
            return String.format(
                Locale.ROOT,
                "device 0 primary context retained and current on "
                    + "thread '%s'; %.1f of %.1f GiB free",
                Thread.currentThread().getName(),
                memory[0] / (double) (1L << 30),
                memory[1] / (double) (1L << 30));
          });
      module =
          runner.run("fatbin", runner.blocker(noGpu, "primary-context"), () -> ctx.loadKernels());
      CudaModule mod = module;
      runner.check(
          "fatbin",
          () -> {
            mod.function(ToolchainProbe.SAXPY_KERNEL);
            return CudaAvailability.fatbinSize()
                + " bytes loaded with cuModuleLoadData; "
                + ToolchainProbe.SAXPY_KERNEL
                + " found";
          });
      runner.run(
          "saxpy-kernel",
          runner.blocker(noGpu, "fatbin"),
          () -> ToolchainProbe.saxpy(ctx, mod, (1 << 20) + 3));
      runner.run("openblas", null, ToolchainProbe::openblas);
      cublas =
          runner.run(
              "cublas-sgemm",
              runner.blocker(noGpu, "primary-context"),
              () -> CublasHandle.create(ctx));
      CublasHandle handle = cublas;
      runner.check(
          "cublas-sgemm",
          () -> {
            StringBuilder detail =
                new StringBuilder("cuBLAS " + handle.version() + ", pedantic FP32");
            double worst = 0;
            for (int t = 0; t < 4; t++) {
              String one =
                  ToolchainProbe.sgemm(
                      handle, 257, 129, 65, (t & 1) != 0, (t & 2) != 0, 0, 100 + t);
              worst = Math.max(worst, worstRatio(one));
            }
            if (!ctx.isCurrent()) {
              throw new IllegalStateException(
                  "After cuBLAS ran, the current context is no longer "
                      + "the retained primary context.");
            }
            return detail
                .append(
                    String.format(
                        Locale.ROOT,
                        "; 257x129x65, 4 transposes: max error "
                            + "%.3f of the FP32 bound vs OpenBLAS; primary context still current",
                        worst))
                .toString();
          });
      runner.run(
          "cublas-offset",
          runner.blocker(noGpu, "cublas-sgemm"),
          () ->
              ToolchainProbe.sgemm(handle, 257, 129, 65, false, true, 37, 7)
                  + "; "
                  + ToolchainProbe.sgemm(handle, 31, 17, 9, true, false, 1, 8));
      runner.run(
          "cublas-throughput",
          report.emulated()
              ? "not timed on the " + CudaEmulator.LABEL
              : runner.blocker(noGpu, "cublas-sgemm"),
          () -> {
            double fp32 =
                ToolchainProbe.sgemmTflops(ctx, handle, 4096, CublasHandle.MathMode.PEDANTIC, 10);
            double tf32 =
                ToolchainProbe.sgemmTflops(ctx, handle, 4096, CublasHandle.MathMode.TF32, 10);
            return String.format(
                Locale.ROOT,
                "4096^3 SGEMM, mean of 10: FP32 (pedantic) %.1f TFLOP/s, TF32 %.1f TFLOP/s",
                fp32,
                tf32);
          });
      runner.run(
          "cudnn", runner.blocker(noGpu, "primary-context"), () -> ToolchainProbe.cudnn(ctx));
    } finally {
      closeQuietly(cublas, out);
      closeQuietly(module, out);
      closeQuietly(context, out);
    }
    boolean failed = runner.steps.stream().anyMatch(s -> s.outcome() == Outcome.FAIL);
    int exitCode = failed ? 1 : (report.hasDevice() || allowNoGpu ? 0 : 2);
    Result result = new Result(List.copyOf(runner.steps), exitCode);
    out.println();
    out.println("## Device check summary");
    out.println();
    out.print(result.table());
    if (!report.hasDevice() && !allowNoGpu) {
      out.println("No GPU was found (exit code 2); pass --allow-no-gpu to accept that.");
    }
    out.flush();
    return result;
  }

  private static double worstRatio(String detail) {
    int at = detail.indexOf(" = ");
    if (at < 0) {
      return 0;
    }
    String tail = detail.substring(at + 3);
    try {
      return Double.parseDouble(tail.substring(0, tail.indexOf(' ')));
    } catch (RuntimeException e) {
      return 0;
    }
  }

  private static void closeQuietly(AutoCloseable resource, PrintStream out) {
    if (resource != null) {
      try {
        resource.close();
      } catch (Exception e) {
        out.println(
            "warning: closing "
                + resource.getClass().getSimpleName()
                + " failed: "
                + CudaAvailability.describe(e));
      }
    }
  }

  /** Runs steps, times them, turns exceptions into FAIL, and remembers outcomes. */
  private static final class Runner {
    private final PrintStream out;
    private final List<Step> steps = new ArrayList<>();

    Runner(PrintStream out) {
      this.out = out;
    }

    void record(String name, double millis, Outcome outcome, String detail) {
      Step step = new Step(name, outcome, millis, detail);
      steps.add(step);
      out.printf(Locale.ROOT, "[%s] %s (%.1f ms): %s%n", outcome, name, millis, detail);
      out.flush();
    }

    /** The reason a step must be skipped: no GPU, or an earlier step that did not pass. */
    String blocker(String noGpu, String prerequisite) {
      if (noGpu != null) {
        return noGpu;
      }
      for (Step step : steps) {
        if (step.name().equals(prerequisite) && step.outcome() != Outcome.PASS) {
          return "skipped because " + prerequisite + " did not pass";
        }
      }
      return null;
    }

    /**
     * Runs a step that produces a value; records SKIP if {@code skipReason} is set and FAIL on an
     * exception (returning null), and leaves the PASS record to a following {@link #check}.
     */
    <T> T run(String name, String skipReason, Callable<T> action) {
      if (skipReason != null) {
        record(name, 0, Outcome.SKIP, skipReason);
        return null;
      }
      long start = System.nanoTime();
      try {
        T value = action.call();
        double millis = (System.nanoTime() - start) / 1e6;
        if (value instanceof String detail) {
          record(name, millis, Outcome.PASS, detail);
        } else {
          pending = new Step(name, Outcome.PASS, millis, "");
        }
        return value;
      } catch (Exception | LinkageError | AssertionError e) {
        record(name, (System.nanoTime() - start) / 1e6, Outcome.FAIL, CudaAvailability.describe(e));
        return null;
      }
    }

    private Step pending;

    /** Completes the pending step made by {@link #run} with a detail check, if it is pending. */
    void check(String name, Callable<String> detail) {
      if (pending == null || !pending.name().equals(name)) {
        return;
      }
      Step started = pending;
      pending = null;
      long start = System.nanoTime();
      try {
        String text = detail.call();
        record(name, started.millis() + (System.nanoTime() - start) / 1e6, Outcome.PASS, text);
      } catch (Exception | LinkageError | AssertionError e) {
        record(
            name,
            started.millis() + (System.nanoTime() - start) / 1e6,
            Outcome.FAIL,
            CudaAvailability.describe(e));
      }
    }
  }
}
