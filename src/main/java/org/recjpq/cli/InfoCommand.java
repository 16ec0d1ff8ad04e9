package org.recjpq.cli;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import org.recjpq.backend.Availability;
import org.recjpq.backend.cpu.Blas;
import org.recjpq.backend.cuda.CudaAvailability;
import picocli.CommandLine.Command;
import picocli.CommandLine.Spec;

/** {@code recjpq info}: version, machine, and which engines can run here (and why not). */
@Command(
    mixinStandardHelpOptions = true,
    name = "info",
    description = {
      "Show the version, the CPU and threads, the Java runtime, whether OpenBLAS loads, and whether",
      "a CUDA GPU can be used (or the exact reason it cannot)."
    },
    footerHeading = "%nExamples:%n",
    footer = {"  ./recjpq info"})
final class InfoCommand implements Callable<Integer> {
  @Spec picocli.CommandLine.Model.CommandSpec spec;

  @Override
  public Integer call() {
    PrintWriter out = spec.commandLine().getOut();
    Runtime rt = Runtime.getRuntime();
    Availability blas = Blas.status();
    Availability cuda = CudaAvailability.check();
    out.print(new TextTable("", "")
        .row("recjpq", Main.version())
        .row("java", System.getProperty("java.vm.name") + " " + System.getProperty("java.runtime.version"))
        .row("os", System.getProperty("os.name") + " " + System.getProperty("os.version") + " " + System.getProperty("os.arch"))
        .row("cpu", cpuModel())
        .row("threads", rt.availableProcessors() + " available processors")
        .row("max heap", String.format("%,d MiB", rt.maxMemory() >> 20))
        .row("openblas", (blas.available() ? "yes: " : "no: ") + blas.description())
        .row("gpu", (cuda.available() ? "yes: " : "no: ") + cuda.description()));
    return 0;
  }

  static String cpuModel() {
    try {
      for (String line : Files.readAllLines(Path.of("/proc/cpuinfo"))) {
        if (line.startsWith("model name")) {
          return line.substring(line.indexOf(':') + 1).trim();
        }
      }
    } catch (IOException | RuntimeException ignored) {
      // not Linux or not readable: fall back below
    }
    return System.getProperty("os.arch");
  }
}
