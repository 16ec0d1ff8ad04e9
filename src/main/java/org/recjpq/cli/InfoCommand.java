package org.recjpq.cli;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import org.recjpq.backend.Availability;
import org.recjpq.backend.cpu.Blas;
import org.recjpq.backend.cuda.CudaAvailability;
import org.recjpq.data.DatasetFile;
import org.recjpq.data.DatasetInfo;
import org.recjpq.data.SequenceDataset;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code recjpq info}: version, machine, and which engines can run here (and why not). */
@Command(
    mixinStandardHelpOptions = true,
    name = "info",
    description = {
      "Show the version, CPU, threads, Java runtime, OpenBLAS and GPU status.",
      "Says whether OpenBLAS loads and whether a CUDA GPU can be used, or the",
      "exact reason it cannot."
    },
    footerHeading = "%nExamples:%n",
    footer = {"  ./recjpq info", "  ./recjpq info --dataset ml-1m.rjd"})
final class InfoCommand implements Callable<Integer> {
  @Option(names = "--dataset", paramLabel = "FILE",
      description = "Also describe a dataset file made by 'recjpq prepare' (sizes, provenance, load time).")
  Path dataset;

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
    if (dataset != null) {
      describe(out, dataset);
    }
    return 0;
  }

  private static void describe(PrintWriter out, Path file) {
    long t0 = System.nanoTime();
    SequenceDataset ds = DatasetFile.read(file);
    double ms = (System.nanoTime() - t0) / 1e6;
    DatasetInfo info = ds.info();
    int[] lengths = new int[ds.numUsers()];
    for (int u = 0; u < lengths.length; u++) {
      lengths[u] = ds.length(u);
    }
    java.util.Arrays.sort(lengths);
    out.println();
    out.print(new TextTable("dataset", "")
        .row("file", file + String.format(" (loaded and checked in %.1f ms)", ms))
        .row("users", String.format("%,d (%,d read)", ds.numUsers(), info.rawUsers()))
        .row("items", String.format("%,d (%,d read)", ds.numItems(), info.rawItems()))
        .row("interactions", String.format("%,d (%,d read)", ds.numInteractions(), info.rawInteractions()))
        .row("length min/median/max", lengths[0] + " / " + lengths[lengths.length / 2] + " / " + lengths[lengths.length - 1])
        .row("source", info.source() + " (" + info.format() + ")")
        .row("filters", "users >= " + info.filter().minUserInteractions()
            + (info.filter().minItemInteractions() > 0 ? ", items >= " + info.filter().minItemInteractions() : ""))
        .row("validation users", (info.validationUsers() < 0 ? "all" : String.valueOf(info.validationUsers()))
            + " (seed " + info.splitSeed() + ")"));
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
