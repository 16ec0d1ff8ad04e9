package org.recjpq.cli;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import org.recjpq.RecjpqException;
import org.recjpq.UsageException;
import org.recjpq.backend.Availability;
import org.recjpq.backend.Ops;
import org.recjpq.backend.cpu.CpuOps;
import org.recjpq.backend.cuda.CudaAvailability;
import org.recjpq.backend.cuda.CudaEmulator;
import org.recjpq.backend.cuda.CudaOps;
import org.recjpq.checkpoint.Checkpoint;
import org.recjpq.codes.CodeAssigners;
import org.recjpq.codes.CodeOptions;
import org.recjpq.codes.CodeStrategy;
import org.recjpq.codes.CodesFile;
import org.recjpq.codes.ItemCodes;
import org.recjpq.data.SequenceDataset;
import org.recjpq.model.DenseTwin;
import org.recjpq.model.ModelConfig;
import org.recjpq.model.SequenceModel;
import org.recjpq.util.Excerpt;

/** Building models for the commands: from settings (with codes) or from a checkpoint. */
final class ModelSetup {
  private ModelSetup() {}

  /** The engine: the CPU with {@code threads} threads (all processors when null). */
  static Ops engine(Integer threads) {
    return threads != null ? new CpuOps(threads) : new CpuOps();
  }

  /** An engine and one line saying which it is and, when the GPU was not used under auto, why. */
  record Engine(Ops ops, String note) {}

  /**
   * The engine a {@code --device} asks for: {@code cpu}; {@code cuda} (an error with the reason
   * when the GPU cannot be used); {@code auto} (the GPU when it works, else the CPU, with the
   * reason in the note). {@code auto} never picks the CUDA emulator: only {@code --device cuda}
   * runs on it (when it is selected with {@code -Drecjpq.cuda=emulator}), and its note says so.
   */
  static Engine engine(String device, Integer threads, boolean tf32) {
    Engine e = engine(device, threads);
    if (tf32 && e.ops() instanceof CudaOps cuda) {
      cuda.setTf32(true);
      return new Engine(cuda, e.note() + ", TF32 GEMMs");
    }
    return e;
  }

  static Engine engine(String device, Integer threads) {
    String d = device == null ? "auto" : device.toLowerCase(Locale.ROOT);
    switch (d) {
      case "cpu":
        return new Engine(engine(threads), "cpu");
      case "cuda":
      case "auto":
        CudaAvailability.Report report = CudaAvailability.report();
        Availability a = report.availability();
        String reason;
        if (a.available() && report.emulated() && d.equals("auto")) {
          reason =
              "auto does not choose the "
                  + CudaEmulator.LABEL
                  + "; use --device cuda to run on it.";
        } else if (a.available()) {
          try {
            Ops ops = CudaOps.open();
            String note =
                report.emulated()
                    ? "cuda on the " + CudaEmulator.LABEL + ": correctness only, not a GPU"
                    : "cuda (" + firstSentence(a.description()) + ")";
            return new Engine(ops, note);
          } catch (RuntimeException
              | LinkageError e) { // a missing or mismatched CUDA library is a LinkageError
            reason = "the CUDA engine failed to start: " + CudaAvailability.describe(e);
          }
        } else {
          reason = a.description();
        }
        if (d.equals("cuda")) {
          throw new RecjpqException(
              "--device cuda: " + reason + " Use --device cpu (or auto) to run on the CPU.");
        }
        return new Engine(engine(threads), "cpu (no GPU: " + firstSentence(reason) + ")");
      default:
        throw new UsageException(
            "Unknown --device '" + Excerpt.of(device) + "'. Known devices: cpu, cuda, auto.");
    }
  }

  /**
   * Refuses {@code --device cuda} on the CUDA emulator in a benchmark command, before any engine is
   * opened: the emulator's speed says nothing about a GPU.
   *
   * @throws RecjpqException when the device is cuda and the emulator is what answers as CUDA
   */
  static void refuseToTime(String device, String command) {
    if ("cuda".equalsIgnoreCase(device) && CudaEmulator.selected()) {
      try {
        CudaEmulator.refuseToTime(command);
      } catch (IllegalStateException x) {
        throw new RecjpqException(x.getMessage());
      }
    }
  }

  /**
   * The first line of {@code text}, up to a ", so " that starts its explanation, without a final
   * period.
   */
  private static String firstSentence(String text) {
    String line = text.lines().findFirst().orElse("").trim();
    int stop = line.indexOf(", so ");
    if (stop > 0) {
      line = line.substring(0, stop);
    }
    return line.endsWith(".") ? line.substring(0, line.length() - 1) : line;
  }

  /**
   * RecJPQ codes for {@code ds} as the settings ask: a codes file, or svd/bpr/random assigned now;
   * a {@code dense-pq} warm-up runs on a CPU engine of its own and reports on standard error.
   */
  static ItemCodes codes(Settings s, SequenceDataset ds, int threads) {
    return codes(s, ds, threads, null, System.err::println);
  }

  /**
   * {@link #codes(Settings, SequenceDataset, int)}, a {@code dense-pq} warm-up on {@code ops} (a
   * CPU engine of its own where null), its report to {@code note}.
   */
  static ItemCodes codes(
      Settings s,
      SequenceDataset ds,
      int threads,
      Ops ops,
      java.util.function.Consumer<String> note) {
    Path file = Path.of(s.codes);
    if (Files.isRegularFile(file)) {
      ItemCodes codes = CodesFile.readFor(file, ds).codes();
      if (codes.splits() != s.splits) {
        throw new org.recjpq.RecjpqException(
            file
                + " holds codes of "
                + codes.splits()
                + " splits but the model"
                + " asks for "
                + s.splits
                + "; pass --splits "
                + codes.splits()
                + ".");
      }
      return codes;
    }
    if (s.codes.equalsIgnoreCase(DENSE_PQ)) {
      if (ops != null) {
        return denseTwin(s, ds, threads, ops, note).codes();
      }
      try (Ops warmup = new CpuOps(threads)) {
        return denseTwin(s, ds, threads, warmup, note).codes();
      }
    }
    CodeStrategy strategy = CodeStrategy.fromCliName(s.codes.toLowerCase(Locale.ROOT));
    CodeOptions o = CodeOptions.defaults(strategy, s.splits, s.seed).withThreads(threads);
    return CodeAssigners.assign(
            ds,
            new CodeOptions(
                o.strategy(),
                o.splits(),
                s.dim,
                o.seed(),
                o.oversampling(),
                o.powerIterations(),
                o.epochs(),
                o.learningRate(),
                o.regularization(),
                o.threads()))
        .codes();
  }

  /** The codes that {@link #denseTwin} makes. */
  static final String DENSE_PQ = "dense-pq";

  /** Whether {@code s} trains a RecJPQ model that starts from its dense twin ({@code dense-pq}). */
  static boolean startsFromTwin(Settings s) {
    return "jpq".equalsIgnoreCase(s.embedding) && s.codes.equalsIgnoreCase(DENSE_PQ);
  }

  /**
   * {@code dense-pq} codes: the model's dense twin (same settings, a dense item table) trains for
   * {@code codesWarmupEpochs} epochs (0: three quarters of {@code epochs}; early stopping and three
   * quarters of {@code maxMinutes} apply) on {@code ops}, validation keeping its best epoch, and
   * its item table is quantised as {@code model-pq} codes are. Codes that follow what the sequences
   * say about items (benchmarks/recjpq-quality.md: on sparse data they decide RecJPQ's quality),
   * for a few dense epochs and no second command. The twin's weights come with them: {@link #fresh}
   * starts the RecJPQ model from them ({@link DenseTwin#warmStart}).
   */
  /**
   * The dense twin's epochs: {@code codesWarmupEpochs}, or (0) three quarters of {@code epochs}.
   */
  static int twinEpochs(int codesWarmupEpochs, int epochs) {
    return codesWarmupEpochs > 0 ? codesWarmupEpochs : Math.max(1, epochs * 3 / 4);
  }

  static DenseTwin denseTwin(
      Settings s,
      SequenceDataset ds,
      int threads,
      Ops ops,
      java.util.function.Consumer<String> note) {
    Settings w = Settings.copyOf(s);
    w.embedding = "dense";
    w.untied = false;
    w.itemBias = false;
    if (s.codesWarmupEpochs < 0) {
      throw new UsageException(
          "--codes-warmup-epochs must be 0 (three quarters of --epochs) or more, found "
              + s.codesWarmupEpochs
              + ".");
    }
    w.epochs = twinEpochs(s.codesWarmupEpochs, s.epochs);
    // the twin's quality is what the RecJPQ model starts from and mostly keeps: most of the budget
    // (benchmarks/recjpq-60m.md)
    w.maxMinutes = s.maxMinutes != null && s.maxMinutes > 0 ? s.maxMinutes * 0.75 : 0.0;
    int nVal =
        s.validationUsers != null
            ? PrepareCommand.parseValidationUsers(s.validationUsers)
            : ds.info().validationUsers();
    int[] val = org.recjpq.data.LeaveOneOut.validationUsers(ds, nVal, ds.info().splitSeed());
    SequenceModel dense = SequenceModel.create(w.modelConfig(ds.numItems()), ops, null);
    dense.initialize(w.seed);
    org.recjpq.train.Trainer trainer =
        new org.recjpq.train.Trainer(dense, ds, w.trainConfig(), val);
    long t0 = System.nanoTime();
    int[] ran = {0}; // epochs run, the last one cut short by the time limit included
    trainer.run(r -> ran[0] = r.epoch());
    note.accept(
        String.format(
            Locale.ROOT,
            "codes: dense-pq from a dense warm-up of %d epochs (best validation NDCG@10 %.4f at"
                + " epoch %d, %.0f s)",
            ran[0],
            trainer.state().bestMetric,
            trainer.state().bestEpoch + 1,
            (System.nanoTime() - t0) / 1e9));
    float[] p = ops.toArray(dense.params()); // the best epoch's weights, restored by run()
    return new DenseTwin(
        quantise(ds, dense.layout(), p, s.splits, s.seed, threads), dense.layout(), p);
  }

  /** {@code twin}'s weights with codes of {@code splits} splits (model-pq of its item table). */
  static DenseTwin requantised(
      DenseTwin twin, SequenceDataset ds, int splits, long seed, int threads) {
    if (twin.codes().splits() == splits) {
      return twin;
    }
    return new DenseTwin(
        quantise(ds, twin.layout(), twin.params(), splits, seed, threads),
        twin.layout(),
        twin.params());
  }

  private static ItemCodes quantise(
      SequenceDataset ds,
      org.recjpq.model.ParameterLayout layout,
      float[] p,
      int splits,
      long seed,
      int threads) {
    org.recjpq.model.ParameterLayout.Entry e = layout.entry("item.table");
    float[] table =
        java.util.Arrays.copyOfRange(
            p, Math.toIntExact(e.offset()), Math.toIntExact(e.offset() + e.size()));
    CodeOptions o = CodeOptions.defaults(CodeStrategy.MODEL_PQ, splits, seed).withThreads(threads);
    return CodeAssigners.fromItemTable(ds, table, e.shape()[1], o).codes();
  }

  /** A freshly initialised model for the settings. */
  static SequenceModel fresh(Settings s, SequenceDataset ds, Ops ops, int threads) {
    return fresh(s, ds, ops, threads, System.err::println);
  }

  /**
   * {@link #fresh(Settings, SequenceDataset, Ops, int)}, its notes to {@code note}. A RecJPQ model
   * with {@code dense-pq} codes starts from its dense twin's weights (the twin trains on {@code
   * ops}).
   */
  static SequenceModel fresh(
      Settings s,
      SequenceDataset ds,
      Ops ops,
      int threads,
      java.util.function.Consumer<String> note) {
    ModelConfig c = s.modelConfig(ds.numItems());
    if (startsFromTwin(s)) {
      return fromTwin(s, c, denseTwin(s, ds, threads, ops, note), ops, note);
    }
    ItemCodes codes = c.isJpq() ? codes(s, ds, threads, ops, note) : null;
    SequenceModel model = SequenceModel.create(c, ops, codes);
    model.initialize(s.seed);
    return model;
  }

  /** The RecJPQ model of {@code c} on {@code ops}, started from {@code twin}. */
  static SequenceModel fromTwin(
      Settings s,
      ModelConfig c,
      DenseTwin twin,
      Ops ops,
      java.util.function.Consumer<String> note) {
    SequenceModel model = SequenceModel.create(c, ops, twin.codes());
    model.initialize(s.seed);
    ops.upload(model.params(), twin.warmStart(model.layout(), ops.toArray(model.params())));
    note.accept(
        "RecJPQ starts from the dense twin: its backbone, and codebooks that are the means of the"
            + " twin's item sub-vectors of each sub-id");
    return model;
  }

  /** The model of a checkpoint, with its parameters, on {@code ops}. */
  static SequenceModel load(Checkpoint ck, Ops ops) {
    SequenceModel model = SequenceModel.create(ck.config(), ops, ck.codes());
    if (ck.params().length != model.layout().size()) {
      throw new org.recjpq.RecjpqException(
          "The checkpoint holds "
              + ck.params().length
              + " parameters but its model"
              + " needs "
              + model.layout().size()
              + "; it was written by an incompatible recjpq.");
    }
    ops.upload(model.params(), ck.params());
    return model;
  }
}
