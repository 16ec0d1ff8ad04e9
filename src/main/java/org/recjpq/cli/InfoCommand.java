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
      "exact reason it cannot. With --dataset, --checkpoint or --codes, also",
      "checks and describes those files."
    },
    footerHeading = "%nExamples:%n",
    footer = {
      "  ./recjpq info",
      "  ./recjpq info --dataset ml-1m.rjd",
      "  ./recjpq info --checkpoint m.ckpt --codes m.codes"
    })
final class InfoCommand implements Callable<Integer> {
  @Option(
      names = "--dataset",
      paramLabel = "FILE",
      description =
          "Also describe a dataset file made by 'recjpq prepare' (sizes, provenance, load time).")
  Path dataset;

  @Option(
      names = "--checkpoint",
      paramLabel = "CKPT",
      description =
          "Also describe a checkpoint: model, training state, and the SHA-256 of its weights (two"
              + " checkpoints with the same digests hold the same numbers, bit for bit).")
  Path checkpoint;

  @Option(
      names = "--codes",
      paramLabel = "FILE",
      description = "Also describe a codes file (sizes, SHA-256 of the codes).")
  Path codes;

  @Spec picocli.CommandLine.Model.CommandSpec spec;

  @Override
  public Integer call() {
    PrintWriter out = spec.commandLine().getOut();
    Runtime rt = Runtime.getRuntime();
    Availability blas = Blas.status();
    Availability cuda = CudaAvailability.check();
    out.print(
        new TextTable("", "")
            .row("recjpq", Main.version())
            .row(
                "java",
                System.getProperty("java.vm.name")
                    + " "
                    + System.getProperty("java.runtime.version"))
            .row(
                "os",
                System.getProperty("os.name")
                    + " "
                    + System.getProperty("os.version")
                    + " "
                    + System.getProperty("os.arch"))
            .row("cpu", cpuModel())
            .row("threads", rt.availableProcessors() + " available processors")
            .row("max heap", String.format("%,d MiB", rt.maxMemory() >> 20))
            .row("openblas", (blas.available() ? "yes: " : "no: ") + blas.description())
            .row("gpu", (cuda.available() ? "yes: " : "no: ") + cuda.description()));
    if (dataset != null) {
      describe(out, dataset);
    }
    if (checkpoint != null) {
      describeCheckpoint(out, checkpoint);
    }
    if (codes != null) {
      org.recjpq.codes.CodesFile.Loaded c = org.recjpq.codes.CodesFile.read(codes);
      out.println();
      out.print(
          new TextTable("codes", "")
              .row("file", codes.toString())
              .row(
                  "items x splits",
                  String.format("%,d x %d", c.codes().numItems(), c.codes().splits()))
              .row("sha256 codes", sha256(c.codes().raw())));
    }
    return 0;
  }

  private static void describeCheckpoint(PrintWriter out, Path file) {
    org.recjpq.checkpoint.Checkpoint ck = org.recjpq.checkpoint.Checkpoint.read(file);
    var st = ck.state();
    TextTable t =
        new TextTable("checkpoint", "")
            .row("file", file.toString())
            .row(
                "model",
                ck.config().backbone().name().toLowerCase(java.util.Locale.ROOT)
                    + "-"
                    + (ck.config().isJpq() ? "jpq (m " + ck.config().splits() + ")" : "dense")
                    + ", d "
                    + ck.config().dim()
                    + ", "
                    + String.format("%,d", ck.params().length)
                    + " parameters, "
                    + String.format("%,d", ck.items().size())
                    + " items")
            .row(
                "trained",
                "epoch "
                    + st.path("epoch").asInt()
                    + ", step "
                    + st.path("step").asLong()
                    + (st.has("bestMetric")
                        ? String.format(
                            java.util.Locale.ROOT,
                            ", best validation NDCG@10 %.4f (epoch %d)",
                            st.path("bestMetric").asDouble(),
                            st.path("bestEpoch").asInt() + 1)
                        : ""))
            .row(
                "resumable",
                ck.resumable()
                    ? "yes" + (ck.iterate() != null ? " (from its last iterate)" : "")
                    : "no")
            .row("sha256 params", sha256(ck.params()));
    if (ck.iterate() != null) {
      t.row("sha256 iterate", sha256(ck.iterate()));
    }
    if (ck.resumable()) {
      t.row(
          "sha256 adam",
          sha256(ck.adamM()).substring(0, 16) + " " + sha256(ck.adamV()).substring(0, 16));
    }
    out.println();
    out.print(t);
  }

  /** The SHA-256 of floats as little-endian IEEE 754 bytes, in hex. */
  static String sha256(float[] values) {
    java.nio.ByteBuffer b =
        java.nio.ByteBuffer.allocate(4 * values.length).order(java.nio.ByteOrder.LITTLE_ENDIAN);
    b.asFloatBuffer().put(values);
    return sha256(b.array());
  }

  static String sha256(byte[] bytes) {
    try {
      return java.util.HexFormat.of()
          .formatHex(java.security.MessageDigest.getInstance("SHA-256").digest(bytes));
    } catch (java.security.NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
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
    out.print(
        new TextTable("dataset", "")
            .row("file", file + String.format(" (loaded and checked in %.1f ms)", ms))
            .row("users", String.format("%,d (%,d read)", ds.numUsers(), info.rawUsers()))
            .row("items", String.format("%,d (%,d read)", ds.numItems(), info.rawItems()))
            .row(
                "interactions",
                String.format("%,d (%,d read)", ds.numInteractions(), info.rawInteractions()))
            .row(
                "length min/median/max",
                lengths[0]
                    + " / "
                    + lengths[lengths.length / 2]
                    + " / "
                    + lengths[lengths.length - 1])
            .row("source", info.source() + " (" + info.format() + ")")
            .row(
                "filters",
                "users >= "
                    + info.filter().minUserInteractions()
                    + (info.filter().minItemInteractions() > 0
                        ? ", items >= " + info.filter().minItemInteractions()
                        : ""))
            .row(
                "validation users",
                (info.validationUsers() < 0 ? "all" : String.valueOf(info.validationUsers()))
                    + " (seed "
                    + info.splitSeed()
                    + ")"));
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
