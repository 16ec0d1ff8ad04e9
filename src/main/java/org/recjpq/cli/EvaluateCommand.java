package org.recjpq.cli;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import org.recjpq.UsageException;
import org.recjpq.checkpoint.Checkpoint;
import org.recjpq.data.LeaveOneOut;
import org.recjpq.data.LeaveOneOut.Phase;
import org.recjpq.data.SequenceDataset;
import org.recjpq.eval.Baseline;
import org.recjpq.eval.EvalOptions;
import org.recjpq.eval.EvaluationResult;
import org.recjpq.eval.Evaluator;
import org.recjpq.eval.Scorer;
import org.recjpq.io.Outputs;
import org.recjpq.train.ModelScorer;
import org.recjpq.util.Excerpt;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code recjpq evaluate}: exact full-catalogue metrics of a model on held-out targets. */
@Command(
    mixinStandardHelpOptions = true,
    name = "evaluate",
    sortOptions = false,
    description = {
      "Rank the full catalogue for every test user and report NDCG, Recall, MRR.",
      "The held-out item is scored leave-one-out: the last item is the test",
      "target, the one before it the validation target. Ties are broken by lower",
      "item id; items already in the history are excluded unless",
      "--no-filter-seen."
    },
    footerHeading = "%nExamples:%n",
    footer = {
      "  ./recjpq evaluate --input ../shared/data/ml-1m/ml-1m.txt \\",
      "      --format sasrec-pairs --model mostpop --json",
      "  ./recjpq evaluate --input ml-1m.rjd --model markov --k 1,5,10,20 \\",
      "      --per-user markov.csv",
      "  ./recjpq evaluate --input ../shared/data/beauty/Beauty.txt \\",
      "      --format user-lines --no-filter-seen",
      "  ./recjpq evaluate --input ml-1m.rjd --phase validation \\",
      "      --validation-users all",
      "  ./recjpq evaluate --checkpoint ml-1m-jpq.ckpt \\",
      "      --input ../shared/data/ml-1m/ml-1m.txt --format sasrec-pairs --json"
    })
final class EvaluateCommand implements Callable<Integer> {
  @Mixin InputOptions input;

  @Option(
      names = {"-m", "--model"},
      paramLabel = "MODEL",
      defaultValue = "mostpop",
      description =
          "Model: mostpop or markov (default: ${DEFAULT-VALUE}); ignored with --checkpoint.")
  String model;

  @Option(
      names = "--checkpoint",
      paramLabel = "CKPT",
      description = "Evaluate a trained model (from 'recjpq train') instead of a baseline.")
  Path checkpoint;

  @Option(
      names = "--k",
      split = ",",
      paramLabel = "K",
      defaultValue = "10",
      description =
          "Cut-offs for NDCG@K and Recall@K, comma-separated (default: ${DEFAULT-VALUE}).")
  int[] ks;

  @Option(
      names = "--filter-seen",
      negatable = true,
      defaultValue = "true",
      fallbackValue = "true",
      description =
          "Exclude history items from the ranking (default: on; --no-filter-seen for"
              + " repeat-consumption data).")
  boolean filterSeen;

  @Option(
      names = "--phase",
      paramLabel = "PHASE",
      defaultValue = "test",
      description = "test (last item) or validation (second-to-last) (default: ${DEFAULT-VALUE}).")
  String phase;

  @Option(
      names = "--validation-users",
      paramLabel = "N|all",
      description = "Validation phase: how many users to sample (default: the dataset's, 1024).")
  String validationUsers;

  @Option(
      names = "--seed",
      paramLabel = "SEED",
      description = "Validation phase: seed of the user sample (default: the dataset's, 42).")
  Long seed;

  @Option(
      names = "--per-user",
      paramLabel = "FILE",
      description = "Also write one CSV row per user (for 'recjpq compare').")
  Path perUser;

  @Option(names = "--json", description = "Print one JSON object instead of a table.")
  boolean json;

  @Option(
      names = "--batch-size",
      paramLabel = "N",
      defaultValue = "128",
      description = "Users scored together (default: ${DEFAULT-VALUE}).")
  int batchSize;

  @Mixin EngineOptions engineOptions;

  @Spec picocli.CommandLine.Model.CommandSpec spec;

  @Override
  public Integer call() {
    PrintWriter out = spec.commandLine().getOut();
    Map<String, Path> inputs = new LinkedHashMap<>();
    inputs.put("--input", input.input);
    inputs.put("--checkpoint", checkpoint);
    Outputs.refuseToOverwriteInputs("--per-user", perUser, inputs);
    Phase p = parsePhase(phase);
    EvalOptions options =
        new EvalOptions(ks, filterSeen, batchSize, 0, engineOptions.threadCount());
    SequenceDataset ds = input.load();
    int[] users;
    if (p == Phase.TEST) {
      users = LeaveOneOut.testUsers(ds);
    } else {
      int n =
          validationUsers != null
              ? PrepareCommand.parseValidationUsers(validationUsers)
              : ds.info().validationUsers();
      users = LeaveOneOut.validationUsers(ds, n, seed != null ? seed : ds.info().splitSeed());
    }
    Scorer scorer;
    String engineNote = null;
    EvaluationResult result;
    if (checkpoint != null) {
      Checkpoint ck = Checkpoint.read(checkpoint);
      ck.checkItems(checkpoint, ds.items());
      ModelSetup.Engine engine = engineOptions.engine();
      try {
        engineNote = engine.note();
        scorer = new ModelScorer(ModelSetup.load(ck, engine.ops()), 4096);
        // the model's activation memory is shared; its ops are parallel
        result = Evaluator.evaluate(ds, scorer, p, users, options.withThreads(1));
      } finally {
        engine.ops().close(); // a CUDA engine's device memory and context
      }
    } else {
      scorer = Baseline.fromCliName(model).fit(ds, p);
      result = Evaluator.evaluate(ds, scorer, p, users, options);
    }
    if (perUser != null) {
      result.writePerUser(perUser, ds);
    }
    if (json) {
      com.fasterxml.jackson.databind.node.ObjectNode o = result.toJson();
      if (engineNote != null) {
        o.put("engine", engineNote);
      }
      out.println(o.toString());
    } else {
      out.printf(
          "%s on %s: %s phase, %,d users, %,d items, %s, %.2f s%n",
          result.model(),
          input.input.getFileName(),
          p.name().toLowerCase(Locale.ROOT),
          result.users(),
          ds.numItems(),
          filterSeen ? "seen items filtered" : "seen items kept",
          result.seconds());
      if (engineNote != null) {
        out.println("engine " + engineNote);
      }
      TextTable table = new TextTable("metric", "value");
      String[] names = result.metricNames();
      double[] values = result.metricValues();
      for (int i = 0; i < names.length; i++) {
        table.row(names[i], values[i]);
      }
      out.print(table);
      if (perUser != null) {
        out.println("per-user results: " + perUser);
      }
    }
    return 0;
  }

  static Phase parsePhase(String s) {
    return switch (s.toLowerCase(Locale.ROOT)) {
      case "test" -> Phase.TEST;
      case "validation", "valid", "val" -> Phase.VALIDATION;
      default ->
          throw new UsageException(
              "--phase must be 'test' or 'validation', found '" + Excerpt.of(s) + "'.");
    };
  }
}
