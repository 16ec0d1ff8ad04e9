package org.recjpq.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import org.recjpq.backend.Ops;
import org.recjpq.checkpoint.Checkpoint;
import org.recjpq.data.LeaveOneOut;
import org.recjpq.data.LeaveOneOut.Phase;
import org.recjpq.data.SequenceDataset;
import org.recjpq.eval.EvalOptions;
import org.recjpq.eval.EvaluationResult;
import org.recjpq.eval.Evaluator;
import org.recjpq.eval.MostPopular;
import org.recjpq.io.Outputs;
import org.recjpq.model.SequenceModel;
import org.recjpq.train.TrainConfig;
import org.recjpq.train.Trainer;
import org.recjpq.train.TrainingReport;
import org.recjpq.util.PeakHeap;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code recjpq train}: train SASRec (dense or RecJPQ) and save a checkpoint and a report. */
@Command(
    name = "train",
    mixinStandardHelpOptions = true,
    sortOptions = false,
    description = {
      "Train SASRec, BERT4Rec or GRU4Rec with dense or RecJPQ item embeddings.",
      "Trains on the training part of a dataset (each user's items before the",
      "validation target), validates NDCG@10 on the validation users after every",
      "epoch, stops early when it stops improving and keeps the best weights; then",
      "ranks the full catalogue for every test user and prints the metrics next",
      "to MostPop's. Writes the checkpoint (whenever validation improves, or every",
      "epoch with --save-optimizer, atomically, so a failed or killed run keeps the",
      "last good one) and a report folder: curves.csv,",
      "loss.png, validation_ndcg10.png, summary.md."
    },
    footerHeading = "%nExamples:%n",
    footer = {
      "  ./recjpq train --input ../shared/data/ml-1m/ml-1m.txt --format sasrec-pairs \\",
      "      --model sasrec --embedding jpq --codes svd --loss ce --preset cpu \\",
      "      --output ml-1m-jpq.ckpt",
      "  ./recjpq train --input ml-1m.rjd --embedding dense --loss bce --preset cpu \\",
      "      --epochs 20 --output d.ckpt",
      "  ./recjpq train --input ml-1m.rjd --config my-settings.json --output m.ckpt \\",
      "      --save-optimizer",
      "  ./recjpq train --input ml-1m.rjd --resume m.ckpt --output m.ckpt \\",
      "      --save-optimizer"
    })
final class TrainCommand implements Callable<Integer> {
  @Mixin InputOptions input;

  @Mixin TrainOptions options;

  @Option(
      names = {"-o", "--output"},
      required = true,
      paramLabel = "CKPT",
      description = "Checkpoint to write.")
  Path output;

  @Option(
      names = "--save-optimizer",
      description =
          "Make the checkpoint resumable (Adam state, step, data order) and"
              + " write it after every epoch (its parameters stay the best validated ones).")
  boolean saveOptimizer;

  @Option(
      names = "--resume",
      paramLabel = "CKPT",
      description =
          "Continue a run from a resumable checkpoint, with"
              + " the settings saved in it (flags may repeat them; --epochs, --max-minutes and --patience may change them).")
  Path resume;

  @Option(
      names = "--override",
      description =
          "With --resume: let the training settings given replace the saved ones"
              + " (each replacement is reported); the model's shape always comes from the checkpoint.")
  boolean override;

  @Option(
      names = "--report",
      paramLabel = "DIR",
      description = "Report folder (default: CKPT.report).")
  Path report;

  @Option(
      names = "--test-users",
      paramLabel = "N|all",
      defaultValue = "all",
      description =
          "Test the final model on a seeded sample of N users instead of all of them (large catalogues;"
              + " MostPop beside it on the same users; default: ${DEFAULT-VALUE}).")
  String testUsers;

  @Option(names = "--json", description = "Print the final test metrics as one JSON object.")
  boolean json;

  @Mixin EngineOptions engineOptions;

  @Spec picocli.CommandLine.Model.CommandSpec spec;

  @Override
  public Integer call() {
    PrintWriter out = spec.commandLine().getOut();
    PeakHeap.start();
    if (override && resume == null) {
      throw new org.recjpq.UsageException("--override only applies with --resume.");
    }
    Checkpoint resumed = resume != null ? Checkpoint.read(resume) : null;
    Settings s;
    java.util.List<String> notes = new java.util.ArrayList<>();
    if (resumed != null && resumed.state().path("settings").isObject()) {
      JsonNode savedPreset = resumed.state().path("preset");
      s =
          options.resume(
              resumed.state().get("settings"),
              savedPreset.isTextual() ? savedPreset.asText() : null,
              spec.commandLine().getParseResult().hasMatchedOption("--preset"),
              override,
              notes);
    } else {
      s = options.resolve();
      if (resumed != null) {
        notes.add(
            "the checkpoint predates saved settings, so the flags given (and the preset's values) are used");
      }
    }
    Map<String, Path> inputs = new LinkedHashMap<>();
    inputs.put("--input", input.input);
    inputs.put(
        "--codes",
        s.codes != null && Files.isRegularFile(Path.of(s.codes)) ? Path.of(s.codes) : null);
    inputs.put("--resume", resume);
    inputs.put("--config", options.config);
    Outputs.refuseToOverwriteInputs("--output", output, inputs);
    int nTest =
        PrepareCommand.parseUserCount(
            testUsers, "--test-users"); // a bad value fails before training
    TrainConfig tc = s.trainConfig();
    SequenceDataset ds = input.load();
    if (resumed == null) {
      DataFit.fitToData(s, options.preset, ds, options.explicit(), notes);
      if (!notes.isEmpty()) {
        PrintWriter err = json ? spec.commandLine().getErr() : out;
        notes.forEach(n -> err.println("Fitted to the data: " + n + "."));
        err.flush();
      }
    }
    ModelSetup.Engine engine = engineOptions.engine();
    if (resumed != null) {
      PrintWriter err = json ? spec.commandLine().getErr() : out; // stdout stays one JSON object
      err.printf(
          "Resuming %s at epoch %d, step %d, with the settings saved in it%s%n",
          resume,
          resumed.state().path("epoch").asInt() + 1,
          resumed.state().path("step").asLong(),
          notes.isEmpty() ? "." : ":");
      notes.forEach(n -> err.println("  " + n));
      err.flush();
    }
    try {
      return train(engine, s, tc, ds, nTest, out, resumed);
    } finally {
      engine.ops().close(); // a CUDA engine's device memory and context
    }
  }

  private int train(
      ModelSetup.Engine engine,
      Settings s,
      TrainConfig tc,
      SequenceDataset ds,
      int nTest,
      PrintWriter out,
      Checkpoint resumed) {
    Ops ops = engine.ops();
    int nThreads = engineOptions.threadCount();
    long t0 = System.nanoTime();
    SequenceModel model;
    if (resumed != null) { // the model, its codes and parameters come from the checkpoint
      resumed.checkItems(resume, ds.items());
      model = ModelSetup.load(resumed, ops);
    } else {
      PrintWriter notes = json ? spec.commandLine().getErr() : out;
      model =
          ModelSetup.fresh(
              s,
              ds,
              ops,
              nThreads,
              n -> {
                notes.println(n);
                notes.flush();
              });
    }
    if (resumed == null && tc.maxSeconds() > 0) {
      // --max-minutes bounds the whole command: codes and a dense twin come out of it
      double spent = (System.nanoTime() - t0) / 1e9;
      tc = tc.withMaxSeconds(Math.max(1.0, tc.maxSeconds() - spent));
    }
    int nVal =
        s.validationUsers != null
            ? PrepareCommand.parseValidationUsers(s.validationUsers)
            : ds.info().validationUsers();
    int[] val = LeaveOneOut.validationUsers(ds, nVal, ds.info().splitSeed());
    Trainer trainer = new Trainer(model, ds, tc, val);
    if (resumed != null) {
      trainer.restore(resumed);
    }
    ObjectNode provenance = new ObjectMapper().createObjectNode();
    provenance.set("settings", s.toJson());
    JsonNode startedWith = resumed != null ? resumed.state().path("preset") : null;
    provenance.put(
        "preset",
        startedWith != null && startedWith.isTextual() ? startedWith.asText() : options.preset);
    provenance.put("dataset", ds.info().source());
    provenance.put(
        "command",
        "recjpq " + String.join(" ", spec.commandLine().getParseResult().originalArgs()));
    if (!json) {
      out.printf(
          "%s-%s on %s: %,d parameters (%,d bytes), %,d training examples, %d steps an epoch; engine %s%n",
          s.model.toLowerCase(Locale.ROOT),
          s.embedding,
          ds,
          model.layout().size(),
          4 * model.layout().size(),
          trainer.examples(),
          trainer.stepsPerEpoch(),
          engine.note());
    }
    double[] lastBest = {Double.NEGATIVE_INFINITY};
    TrainConfig ran = tc;
    boolean[] horizonSaid = {false};
    trainer.run(
        r -> {
          boolean improved = trainer.state().bestMetric > lastBest[0];
          if (improved) {
            lastBest[0] = trainer.state().bestMetric;
          }
          if (improved
              || saveOptimizer) { // a resumable run is saved every epoch, its best weights as the
            // parameters
            trainer.checkpoint(ds.items(), saveOptimizer, provenance).write(output, model.layout());
          }
          if (!json && !horizonSaid[0] && trainer.state().horizonEpochs > 0) {
            horizonSaid[0] = true;
            out.printf(
                Locale.ROOT,
                "the %s learning-rate decay ends at epoch %d, not %d: about what the time limit"
                    + " holds at this pace (refitted every epoch)%n",
                ran.schedule().name().toLowerCase(Locale.ROOT),
                trainer.state().horizonEpochs,
                ran.epochs());
          }
          if (!json) {
            out.printf(
                Locale.ROOT,
                "epoch %3d  loss %.4f  val NDCG@10 %s  %.1f s  %.0f seq/s%n",
                r.epoch(),
                r.trainLoss(),
                Double.isNaN(r.validationNdcg())
                    ? "   -  "
                    : String.format(
                        Locale.ROOT, "%.4f%s", r.validationNdcg(), improved ? " *" : "  "),
                r.seconds(),
                r.sequencesPerSecond());
            out.flush();
          }
        });
    // the best weights are restored; the final checkpoint carries them and the final state
    trainer.checkpoint(ds.items(), saveOptimizer, provenance).write(output, model.layout());
    double trainSeconds = (System.nanoTime() - t0) / 1e9;
    int[] testSet = LeaveOneOut.sampleUsers(ds, Phase.TEST, nTest, ds.info().splitSeed());
    EvaluationResult test = trainer.test(EvalOptions.defaults(), testSet);
    EvaluationResult pop =
        Evaluator.evaluate(
            ds, MostPopular.fit(ds, Phase.TEST), Phase.TEST, testSet, EvalOptions.defaults());
    String name = s.model.toLowerCase(Locale.ROOT) + "-" + s.embedding;
    TextTable table =
        new TextTable("model", "ndcg@10", "recall@10", "mrr", "parameters", "users")
            .row(
                name,
                test.ndcg(10),
                test.recall(10),
                test.mrr(),
                String.format("%,d", model.layout().size()),
                String.format("%,d", test.users()))
            .row(
                "mostpop",
                pop.ndcg(10),
                pop.recall(10),
                pop.mrr(),
                "0",
                String.format("%,d", pop.users()));
    Path reportDir = report != null ? report : Path.of(output + ".report");
    String summary =
        "# Training report\n\n"
            + "Command: `"
            + provenance.get("command").asText()
            + "`\n\n"
            + "Engine: "
            + engine.note()
            + "\n\n"
            + "Dataset: "
            + ds
            + " ("
            + ds.info().source()
            + ")\n\n"
            + "Best epoch: "
            + (trainer.state().bestEpoch + 1)
            + ", validation NDCG@10 "
            + String.format(Locale.ROOT, "%.4f", trainer.state().bestMetric)
            + String.format(
                Locale.ROOT,
                ", %.1f s of training, %d steps.%n%n",
                trainSeconds,
                trainer.state().step)
            + "Test (leave-one-out, full catalogue, seen items filtered):\n\n```\n"
            + table
            + "```\n\nSettings:\n\n```json\n"
            + s.toJson().toPrettyString()
            + "\n```\n";
    TrainingReport.write(reportDir, trainer.history(), summary);
    if (json) {
      ObjectNode o = test.toJson();
      o.put("parameters", model.layout().size());
      o.put("train_seconds", Math.round(trainSeconds * 10) / 10.0);
      o.put("best_epoch", trainer.state().bestEpoch + 1);
      o.put("peak_heap_mib", PeakHeap.peakBytes() >> 20);
      o.put("direct_mib", PeakHeap.directBytes() >> 20);
      o.put("checkpoint", output.toString());
      o.put("engine", engine.note());
      out.println(o);
    } else {
      out.printf(
          "%nTest, %,d users, full catalogue (%,d items), seen items filtered:%n",
          test.users(), ds.numItems());
      out.print(table);
      out.println("checkpoint: " + output + "; report: " + reportDir);
    }
    return 0;
  }
}
