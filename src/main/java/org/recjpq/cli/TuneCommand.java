package org.recjpq.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.recjpq.RecjpqException;
import org.recjpq.UsageException;
import org.recjpq.backend.Ops;
import org.recjpq.checkpoint.Checkpoint;
import org.recjpq.data.LeaveOneOut;
import org.recjpq.data.LeaveOneOut.Phase;
import org.recjpq.data.SequenceDataset;
import org.recjpq.eval.EvalOptions;
import org.recjpq.eval.EvaluationResult;
import org.recjpq.eval.Evaluator;
import org.recjpq.eval.MostPopular;
import org.recjpq.io.AtomicFiles;
import org.recjpq.io.Outputs;
import org.recjpq.model.SequenceModel;
import org.recjpq.train.Trainer;
import org.recjpq.tune.SearchSpace;
import org.recjpq.tune.SuccessiveHalving;
import org.recjpq.tune.TunePlots;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code recjpq tune}: a time-budgeted search of training settings on the validation users. */
@Command(
    name = "tune",
    mixinStandardHelpOptions = true,
    sortOptions = false,
    description = {
      "Search training settings within a time budget.",
      "Successive halving on the validation users: many sampled settings train a",
      "few epochs, the best third go on to three times as many, and so on; the base",
      "settings (preset, config and flags) are always trial 0. Keeps the best",
      "trial's checkpoint, tests it on the test users, and writes a report:",
      "summary.md (ranked trials, the plan), trials.csv, tune.png (validation",
      "NDCG@10 by epoch) and best-settings.json (for 'train --config'). The same",
      "seed and plan give the same result; the plan is printed with the flags",
      "that pin it."
    },
    footerHeading = "%nSearch space (--space FILE, JSON; default for --embedding jpq):%n",
    footer = {
      "  {\"lr\": {\"log\": [0.0005, 0.01]}, \"dropout\": [0.0, 0.1, 0.2, 0.3],",
      "   \"weightDecay\": [0.0, 0.01, 0.1], \"splits\": [4, 8, 16],",
      "   \"codes\": [\"svd\", \"svd-pq\", \"nsvd-pq\"], \"ffnDim\": [64, 256]}",
      "  (without splits and codes for --embedding dense). With --codes dense-pq (what",
      "  train picks when the dense twin fits): lr log [0.0003, 0.01], the same dropout",
      "  and weightDecay, splits [16, 32]; each trial trains its twin as train would.",
      "  Each key is a setting (as in --config files); a list is a choice; a range is",
      "  {\"log\": [lo, hi]}, {\"uniform\": [lo, hi]} or {\"int\": [lo, hi]}.",
      "",
      "Examples:",
      "  ./recjpq tune --input ../shared/data/beauty/Beauty.txt --format user-lines \\",
      "      --max-len 50 --budget 60m --output beauty-best.ckpt",
      "  ./recjpq tune --input ml-1m.rjd --space my-space.json --configs 27 \\",
      "      --min-epochs 2 --max-epochs 54 --output m.ckpt"
    })
final class TuneCommand implements Callable<Integer> {
  static final String DEFAULT_JPQ_SPACE =
      "{\"lr\": {\"log\": [0.0005, 0.01]}, \"dropout\": [0.0, 0.1, 0.2, 0.3],"
          + " \"weightDecay\": [0.0, 0.01, 0.1], \"splits\": [4, 8, 16], \"codes\": [\"svd\", \"svd-pq\", \"nsvd-pq\"],"
          + " \"ffnDim\": [64, 256]}";

  /** The default for RecJPQ started from a dense twin ({@code --codes dense-pq}). */
  static final String DEFAULT_TWIN_SPACE =
      "{\"lr\": {\"log\": [0.0003, 0.01]}, \"dropout\": [0.0, 0.1, 0.2, 0.3],"
          + " \"weightDecay\": [0.0, 0.01, 0.1], \"splits\": [16, 32]}";

  /** The default search space of {@code base}'s model. */
  static String defaultSpace(Settings base) {
    if (base.embedding.equalsIgnoreCase("dense")) {
      return DEFAULT_DENSE_SPACE;
    }
    return base.codes.equalsIgnoreCase(ModelSetup.DENSE_PQ)
        ? DEFAULT_TWIN_SPACE
        : DEFAULT_JPQ_SPACE;
  }

  static final String DEFAULT_DENSE_SPACE =
      "{\"lr\": {\"log\": [0.0005, 0.01]}, \"dropout\": [0.0, 0.1, 0.2, 0.3],"
          + " \"weightDecay\": [0.0, 0.01, 0.1], \"ffnDim\": [64, 256]}";

  @Mixin InputOptions input;

  @Mixin TrainOptions options;

  @Option(
      names = {"-o", "--output"},
      required = true,
      paramLabel = "CKPT",
      description = "The best trial's checkpoint.")
  Path output;

  @Option(
      names = "--budget",
      paramLabel = "TIME",
      defaultValue = "60m",
      description =
          "Time for the search, e.g. 90s, 45m, 1.5h (default: ${DEFAULT-VALUE}); sizes the plan.")
  String budget;

  @Option(
      names = "--space",
      paramLabel = "FILE",
      description = "JSON search space (default: see below).")
  Path space;

  @Option(
      names = "--search-seed",
      paramLabel = "S",
      defaultValue = "1",
      description =
          "Seed of the sampled settings (default: ${DEFAULT-VALUE}); --seed is the training seed.")
  long searchSeed;

  @Option(
      names = "--configs",
      paramLabel = "N",
      description = "Settings in the first rung (default: what fits).")
  Integer configs;

  @Option(
      names = "--min-epochs",
      paramLabel = "E",
      description = "Epochs of the first rung (default: max / η³).")
  Integer minEpochs;

  @Option(
      names = "--max-epochs",
      paramLabel = "E",
      description =
          "Epochs of a setting that goes all the way (default: what a third of the budget allows, at most"
              + " --epochs).")
  Integer maxEpochs;

  @Option(
      names = "--eta",
      paramLabel = "η",
      defaultValue = "3",
      description = "Keep 1/η of each rung, for η times the epochs (default: ${DEFAULT-VALUE}).")
  int eta;

  @Option(
      names = "--report",
      paramLabel = "DIR",
      description = "Report folder (default: CKPT.tune).")
  Path report;

  @Option(
      names = "--test-users",
      paramLabel = "N|all",
      defaultValue = "all",
      description =
          "Test the best trial on a seeded sample of N users (default: ${DEFAULT-VALUE}).")
  String testUsers;

  @Mixin EngineOptions engineOptions;

  @Spec picocli.CommandLine.Model.CommandSpec spec;

  private static final ObjectMapper JSON = new ObjectMapper();

  /** Seconds in a duration such as 90s, 45m, 1.5h or a plain number of minutes. */
  static double parseDuration(String text, String option) {
    Matcher m =
        Pattern.compile("(\\d+(?:\\.\\d+)?)\\s*([smh]?)")
            .matcher(text.trim().toLowerCase(Locale.ROOT));
    if (!m.matches() || Double.parseDouble(m.group(1)) <= 0) {
      throw new UsageException(
          option
              + " must be a positive duration such as 90s, 45m or 1.5h, got '"
              + org.recjpq.util.Excerpt.of(text)
              + "'.");
    }
    double v = Double.parseDouble(m.group(1));
    return switch (m.group(2)) {
      case "s" -> v;
      case "h" -> v * 3600;
      default -> v * 60;
    };
  }

  @Override
  public Integer call() throws IOException {
    PrintWriter out = spec.commandLine().getOut();
    double budgetSeconds = parseDuration(budget, "--budget");
    if (eta < 2) {
      throw new UsageException("--eta must be at least 2, got " + eta + ".");
    }
    if ((configs != null && configs < 1)
        || (minEpochs != null && minEpochs < 1)
        || (maxEpochs != null && maxEpochs < 1)
        || (minEpochs != null && maxEpochs != null && minEpochs > maxEpochs)) {
      throw new UsageException(
          "--configs, --min-epochs and --max-epochs must be positive, min at most max.");
    }
    Settings base = options.resolve();
    Map<String, Path> inputs = new LinkedHashMap<>();
    inputs.put("--input", input.input);
    inputs.put("--config", options.config);
    inputs.put("--space", space);
    inputs.put(
        "--codes",
        base.codes != null && Files.isRegularFile(Path.of(base.codes))
            ? Path.of(base.codes)
            : null);
    Outputs.refuseToOverwriteInputs("--output", output, inputs);
    int nTest = PrepareCommand.parseUserCount(testUsers, "--test-users");
    SearchSpace searchSpace =
        space != null
            ? SearchSpace.parse(Files.readString(space), space.toString())
            : SearchSpace.parse(defaultSpace(base), "the default space");
    for (String name : searchSpace.names()) {
      if (!Settings.names().contains(name)) {
        throw new RecjpqException(
            (space != null ? space : "the default space")
                + ": unknown setting '"
                + org.recjpq.util.Excerpt.of(name)
                + "'. Known settings: "
                + String.join(", ", Settings.names())
                + ".");
      }
    }
    long t0 = System.nanoTime();
    SequenceDataset ds = input.load();
    List<String> fitted = new ArrayList<>();
    DataFit.fitToData(base, options.preset, ds, options.explicit(), fitted);
    fitted.forEach(n -> out.println("Fitted to the data: " + n + "."));
    if (space == null) { // the default space for the fitted settings
      searchSpace = SearchSpace.parse(defaultSpace(base), "the default space");
    }
    int nThreads = engineOptions.threadCount();
    int nVal =
        base.validationUsers != null
            ? PrepareCommand.parseValidationUsers(base.validationUsers)
            : ds.info().validationUsers();
    int[] val = LeaveOneOut.validationUsers(ds, nVal, ds.info().splitSeed());
    Path reportDir = report != null ? report : Path.of(output + ".tune");
    Path work = reportDir.resolve("trials");
    Files.createDirectories(work);

    TuneSearch search =
        new TuneSearch(
            base,
            searchSpace,
            ds,
            val,
            nThreads,
            work,
            searchSeed,
            () -> engineOptions.engine().ops());
    search.note =
        n -> {
          out.println(n);
          out.flush();
        };
    SuccessiveHalving.Plan plan = plan(search, budgetSeconds, t0, out);
    int[] rungEpochs = plan.rungEpochs();
    out.printf(
        Locale.ROOT,
        "Plan: %d settings, η %d, rungs of %s epochs (%s settings), %d epochs in all;"
            + " to repeat it exactly: --configs %d --min-epochs %d --max-epochs %d --eta %d --search-seed %d%n",
        plan.configs(),
        plan.eta(),
        java.util.Arrays.toString(rungEpochs),
        java.util.Arrays.toString(plan.rungSizes()),
        plan.epochs(),
        plan.configs(),
        plan.minEpochs(),
        plan.maxEpochs(),
        plan.eta(),
        searchSeed);
    out.flush();
    search.maxEpochs = plan.maxEpochs();
    SuccessiveHalving.Outcome outcome =
        SuccessiveHalving.run(
            plan,
            search::trial,
            r -> {
              out.printf(
                  Locale.ROOT,
                  "  trial %3d  %-58s  epochs %3d  val NDCG@10 %.4f  %6.1f s%n",
                  r.trial(),
                  search.describe(r.trial()),
                  r.epochs(),
                  r.score(),
                  r.seconds());
              out.flush();
            },
            () -> (System.nanoTime() - t0) / 1e9 > budgetSeconds);
    double seconds = (System.nanoTime() - t0) / 1e9;

    // the winner: its checkpoint becomes the output, tested on the test users
    Checkpoint best = Checkpoint.read(search.checkpointOf(outcome.best()));
    Ops ops = engineOptions.engine().ops();
    EvaluationResult test;
    EvaluationResult pop;
    int[] testSet = LeaveOneOut.sampleUsers(ds, Phase.TEST, nTest, ds.info().splitSeed());
    try {
      SequenceModel model = ModelSetup.load(best, ops);
      best.write(output, model.layout());
      test =
          new Trainer(model, ds, search.settings(outcome.best()).trainConfig(), val)
              .test(EvalOptions.defaults(), testSet);
      pop =
          Evaluator.evaluate(
              ds, MostPopular.fit(ds, Phase.TEST), Phase.TEST, testSet, EvalOptions.defaults());
    } finally {
      ops.close();
    }
    writeReport(reportDir, search, plan, outcome, test, pop, seconds);
    search.deleteCheckpoints();
    TextTable table =
        new TextTable("model", "ndcg@10", "recall@10", "mrr", "users")
            .row(
                "best trial " + outcome.best(),
                test.ndcg(10),
                test.recall(10),
                test.mrr(),
                String.format("%,d", test.users()))
            .row(
                "mostpop",
                pop.ndcg(10),
                pop.recall(10),
                pop.mrr(),
                String.format("%,d", pop.users()));
    out.printf(
        Locale.ROOT,
        "%nBest: trial %d (%s), validation NDCG@10 %.4f after %d epochs; %.1f min in all%s.%n",
        outcome.best(),
        search.describe(outcome.best()),
        outcome.bestScore(),
        search.epochsOf(outcome.best()),
        seconds / 60,
        outcome.stoppedByBudget()
            ? ", stopped by the budget after " + outcome.rungsRun() + " rungs"
            : "");
    out.printf("Test, %,d users, full catalogue:%n", test.users());
    out.print(table);
    out.println(
        "checkpoint: "
            + output
            + "; report: "
            + reportDir
            + " (best-settings.json for train --config)");
    return 0;
  }

  /**
   * The plan: pinned by the flags, or fitted to the budget from the time of one epoch of the base
   * settings.
   */
  private SuccessiveHalving.Plan plan(
      TuneSearch search, double budgetSeconds, long t0, PrintWriter out) {
    int cap = search.base.epochs;
    if (configs != null && minEpochs != null && maxEpochs != null) {
      return new SuccessiveHalving.Plan(configs, eta, minEpochs, maxEpochs);
    }
    out.print("Timing one epoch of the base settings to size the plan... ");
    out.flush();
    double epochSeconds = search.timeOneEpoch();
    double left = budgetSeconds - (System.nanoTime() - t0) / 1e9;
    double units = 0.9 * left / epochSeconds; // validation and set-up take the rest
    out.printf(
        Locale.ROOT,
        "%.1f s; %.0f epochs fit in the %.1f min left.%n",
        epochSeconds,
        units,
        left / 60);
    int max =
        maxEpochs != null ? maxEpochs : (int) Math.max(1, Math.min(cap, Math.floor(units / 3)));
    int min = minEpochs != null ? minEpochs : Math.max(1, (int) Math.round(max / Math.pow(eta, 3)));
    min = Math.min(min, max);
    if (configs != null) {
      return new SuccessiveHalving.Plan(configs, eta, min, max);
    }
    if (search.twinEpochs(max) > 0) {
      out.println("Each setting first trains its dense twin; the plan counts those epochs too.");
    }
    return SuccessiveHalving.Plan.fit(units, eta, min, max, search::twinEpochs);
  }

  private void writeReport(
      Path dir,
      TuneSearch search,
      SuccessiveHalving.Plan plan,
      SuccessiveHalving.Outcome outcome,
      EvaluationResult test,
      EvaluationResult pop,
      double seconds) {
    Map<Integer, Double> finalScore = new HashMap<>();
    Map<Integer, Integer> lastRung = new HashMap<>();
    for (SuccessiveHalving.Result r : outcome.results()) {
      finalScore.put(r.trial(), r.score());
      lastRung.put(r.trial(), r.rung());
    }
    AtomicFiles.writeText(
        dir.resolve("trials.csv"),
        w -> {
          w.write("trial,rung,epochs,validation_ndcg10,seconds,settings\n");
          for (SuccessiveHalving.Result r : outcome.results()) {
            w.write(
                String.format(
                    Locale.ROOT,
                    "%d,%d,%d,%.6f,%.1f,\"%s\"%n",
                    r.trial(),
                    r.rung(),
                    r.epochs(),
                    r.score(),
                    r.seconds(),
                    search.values(r.trial()).toString().replace("\"", "\"\"")));
          }
        });
    List<Integer> order = new ArrayList<>(finalScore.keySet());
    order.sort(
        (a, b) ->
            lastRung.get(a).equals(lastRung.get(b))
                ? Double.compare(finalScore.get(b), finalScore.get(a))
                : Integer.compare(lastRung.get(b), lastRung.get(a)));
    StringBuilder md = new StringBuilder("# Tuning report\n\n");
    md.append("Command: `recjpq ")
        .append(String.join(" ", spec.commandLine().getParseResult().originalArgs()))
        .append("`\n\n");
    md.append(
        String.format(
            Locale.ROOT,
            "Plan: %d settings, η %d, rungs of %s epochs with %s settings (%d epochs in"
                + " all); search seed %d; %.1f minutes%s.%n%n",
            plan.configs(),
            plan.eta(),
            java.util.Arrays.toString(plan.rungEpochs()),
            java.util.Arrays.toString(plan.rungSizes()),
            plan.epochs(),
            searchSeed,
            seconds / 60,
            outcome.stoppedByBudget() ? ", stopped by the budget" : ""));
    md.append(
        "| trial | settings (over the base) | epochs | validation NDCG@10 |\n|---|---|---|---|\n");
    for (int i : order) {
      md.append(
          String.format(
              Locale.ROOT,
              "| %d%s | %s | %d | %.4f |%n",
              i,
              i == outcome.best() ? " (best)" : "",
              search.describe(i),
              search.epochsOf(i),
              finalScore.get(i)));
    }
    md.append(
        String.format(
            Locale.ROOT,
            "%nBest: trial %d. Test (full catalogue, seen items filtered, %,d users):"
                + " NDCG@10 %.4f, Recall@10 %.4f, MRR %.4f (MostPop %.4f).%n%n",
            outcome.best(),
            test.users(),
            test.ndcg(10),
            test.recall(10),
            test.mrr(),
            pop.ndcg(10)));
    ObjectNode bestSettings = search.settings(outcome.best()).toJson();
    md.append("Its settings (`best-settings.json`, for `recjpq train --config`):\n\n```json\n")
        .append(bestSettings.toPrettyString())
        .append("\n```\n");
    AtomicFiles.writeText(
        dir.resolve("best-settings.json"), w -> w.write(bestSettings.toPrettyString() + "\n"));
    AtomicFiles.writeText(dir.resolve("summary.md"), w -> w.write(md.toString()));
    try {
      TunePlots.write(dir.resolve("tune.png"), search.curves, outcome.best());
    } catch (LinkageError e) { // a runtime without java.desktop
      System.err.println("recjpq: the plot was skipped (" + e + "); trials.csv has the figures.");
    }
  }
}
