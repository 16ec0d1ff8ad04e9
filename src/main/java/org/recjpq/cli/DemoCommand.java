package org.recjpq.cli;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;
import org.recjpq.data.DatasetBuilder;
import org.recjpq.data.FilterOptions;
import org.recjpq.data.Format;
import org.recjpq.data.InteractionReaders;
import org.recjpq.data.LeaveOneOut;
import org.recjpq.data.LeaveOneOut.Phase;
import org.recjpq.data.ReadOptions;
import org.recjpq.data.SequenceDataset;
import org.recjpq.data.synth.SynthConfig;
import org.recjpq.data.synth.SyntheticGenerator;
import org.recjpq.eval.Baseline;
import org.recjpq.eval.EvalOptions;
import org.recjpq.eval.EvaluationResult;
import org.recjpq.eval.Evaluator;
import org.recjpq.model.SequenceModel;
import org.recjpq.train.Trainer;
import org.recjpq.util.Progress;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code recjpq demo}: the whole pipeline on an embedded synthetic default, no download, no GPU.
 */
@Command(
    mixinStandardHelpOptions = true,
    name = "demo",
    sortOptions = false,
    description = {
      "Run the whole pipeline on built-in synthetic data (no download, no GPU).",
      "Generates the data, reads and splits it (leave-one-out), trains a small",
      "SASRec with RecJPQ item embeddings (SVD codes, exact full-softmax CE) on the",
      "CPU for a couple of minutes, ranks the full catalogue for every user with it",
      "and with the MostPop and Markov baselines, and prints the table of NDCG@10,",
      "Recall@10 and MRR."
    },
    footerHeading = "%nExamples:%n",
    footer = {
      "  ./recjpq demo",
      "  ./recjpq demo --train-minutes 0     # baselines only",
      "  ./recjpq demo --users 20000 --items 50000 --interactions 1000000 \\",
      "      --train-minutes 5"
    })
final class DemoCommand implements Callable<Integer> {
  @Option(
      names = "--users",
      paramLabel = "U",
      defaultValue = "6000",
      description = "Users (default: ${DEFAULT-VALUE}).")
  int users;

  @Option(
      names = "--items",
      paramLabel = "N",
      defaultValue = "10000",
      description = "Items (default: ${DEFAULT-VALUE}).")
  int items;

  @Option(
      names = "--interactions",
      paramLabel = "I",
      defaultValue = "300000",
      description = "Interactions (default: ${DEFAULT-VALUE}).")
  long interactions;

  @Option(
      names = "--seed",
      paramLabel = "S",
      defaultValue = "42",
      description = "Seed (default: ${DEFAULT-VALUE}).")
  long seed;

  @Option(names = "--keep", paramLabel = "FILE", description = "Keep the generated log at FILE.")
  Path keep;

  @Option(
      names = "--train-minutes",
      paramLabel = "M",
      defaultValue = "2",
      description =
          "Training time of the SASRec-RecJPQ model, in minutes; 0 skips it (default: ${DEFAULT-VALUE}).")
  double trainMinutes;

  @Option(
      names = "--threads",
      paramLabel = "N",
      description = "Engine threads (default: all processors).")
  Integer threads;

  @Spec picocli.CommandLine.Model.CommandSpec spec;

  @Override
  public Integer call() throws IOException {
    PrintWriter out = spec.commandLine().getOut();
    SynthConfig config = SynthConfig.defaults(users, items, interactions, seed);
    Path file = keep != null ? keep : Files.createTempFile("recjpq-demo-", ".txt");
    try {
      long t0 = System.nanoTime();
      try (Progress progress = Progress.bar("synth", interactions, "interactions")) {
        SyntheticGenerator.write(config, file, progress);
      }
      SequenceDataset ds =
          DatasetBuilder.build(
              InteractionReaders.read(file, ReadOptions.of(Format.SASREC_PAIRS)),
              FilterOptions.DEFAULT);
      out.printf(
          "Synthetic data (seed %d): %s, %,d hidden clusters; made and read in %.1f s.%n",
          seed, ds, config.clusters(), (System.nanoTime() - t0) / 1e9);
      out.println("Leave-one-out test, full-catalogue ranking, seen items filtered.");
      TextTable table = new TextTable("model", "ndcg@10", "recall@10", "mrr", "users", "seconds");
      for (Baseline b : Baseline.values()) {
        EvaluationResult r =
            Evaluator.evaluate(ds, b.fit(ds, Phase.TEST), Phase.TEST, EvalOptions.defaults());
        table.row(
            b.cliName(),
            r.ndcg(10),
            r.recall(10),
            r.mrr(),
            String.format("%,d", r.users()),
            String.format("%.2f", r.seconds()));
      }
      if (trainMinutes < 0) {
        throw new org.recjpq.RecjpqException(
            "--train-minutes must be 0 or more, got " + trainMinutes + ".");
      }
      if (trainMinutes > 0) {
        train(ds, table, out);
      }
      out.println();
      out.print(table);
      out.println();
      out.println(
          "mostpop ranks by training popularity; markov follows first-order item transitions.");
      out.println(
          "The gap between them is the planted sequential structure a sequential model can learn.");
      if (trainMinutes > 0) {
        out.println(
            "sasrec-jpq is SASRec with RecJPQ items (8 code bytes an item, SVD codes), trained above;");
        out.println(
            "its 'seconds' include training. Train on your own data: ./recjpq train --help.");
      }
      if (keep != null) {
        out.println("The generated log is at " + keep + " (format sasrec-pairs).");
      }
    } finally {
      if (keep == null) {
        Files.deleteIfExists(file);
      }
    }
    return 0;
  }

  /**
   * Trains the {@code cpu} preset's SASRec-RecJPQ (sequence length 50, the synthetic users' typical
   * history; lr 3e-3 after 50 warm-up steps) for the time asked, validating on 500 users, and adds
   * its test row to the table.
   */
  private void train(SequenceDataset ds, TextTable table, PrintWriter out) {
    long t0 = System.nanoTime();
    Settings s = Presets.of("cpu");
    s.maxLen = 50;
    s.lr = 3e-3; // a short run: a higher peak with warm-up learns faster (as on ML-1M,
    // benchmarks/train-quality.md)
    s.warmup = 50;
    // constant after the warm-up: two minutes end far from convergence, where a decay fitted to the
    // time limit (the preset's cosine) stops the learning early
    s.schedule = "constant";
    s.maxMinutes = trainMinutes;
    s.patience = 3;
    s.seed = seed;
    int nThreads = threads != null ? threads : Runtime.getRuntime().availableProcessors();
    SequenceModel model = ModelSetup.fresh(s, ds, ModelSetup.engine(threads), nThreads);
    Trainer trainer =
        new Trainer(
            model,
            ds,
            s.trainConfig(),
            LeaveOneOut.validationUsers(ds, Math.min(500, ds.numUsers()), seed));
    out.printf(
        Locale.ROOT,
        "%nTraining SASRec-RecJPQ (%,d parameters, d %d, m %d, length %d, exact CE) for up to"
            + " %.1f min on %d threads:%n",
        model.layout().size(),
        s.dim,
        s.splits,
        s.maxLen,
        trainMinutes,
        nThreads);
    out.flush();
    trainer.run(
        r -> {
          out.printf(
              Locale.ROOT,
              "  epoch %2d  loss %.4f  val NDCG@10 %.4f  %.1f s%n",
              r.epoch(),
              r.trainLoss(),
              r.validationNdcg(),
              r.seconds());
          out.flush();
        });
    EvaluationResult r = trainer.test(EvalOptions.defaults());
    table.row(
        "sasrec-jpq",
        r.ndcg(10),
        r.recall(10),
        r.mrr(),
        String.format("%,d", r.users()),
        String.format("%.2f", (System.nanoTime() - t0) / 1e9));
  }
}
