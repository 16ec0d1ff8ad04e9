package org.recjpq.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.PrintWriter;
import java.util.Arrays;
import java.util.Locale;
import java.util.concurrent.Callable;
import org.recjpq.backend.Ops;
import org.recjpq.data.LeaveOneOut;
import org.recjpq.data.SequenceDataset;
import org.recjpq.model.SequenceModel;
import org.recjpq.train.TrainConfig;
import org.recjpq.train.Trainer;
import org.recjpq.util.PeakHeap;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code recjpq bench train}: training steps per second, median over a timed window after warm-up.
 */
@Command(
    name = "train",
    mixinStandardHelpOptions = true,
    sortOptions = false,
    description = {
      "Run training steps for a fixed time and report sequences and tokens a second.",
      "Tokens are batch × length positions; the figures are the median step time",
      "over the timed window, after warm-up steps."
    },
    footerHeading = "%nExamples:%n",
    footer = {
      "  ./recjpq bench train --input ../shared/data/ml-1m/ml-1m.txt \\",
      "      --format sasrec-pairs --preset cpu --embedding jpq --loss bce \\",
      "      --seconds 60 --json",
      "  ./recjpq bench train --input ml-1m.rjd --preset cpu --embedding dense \\",
      "      --loss ce --seconds 30"
    })
final class BenchTrainCommand implements Callable<Integer> {
  @Mixin InputOptions input;

  @Mixin TrainOptions options;

  @Option(
      names = "--seconds",
      paramLabel = "S",
      defaultValue = "30",
      description = "Timed window (default: ${DEFAULT-VALUE}).")
  double seconds;

  @Option(
      names = "--warmup-steps",
      paramLabel = "N",
      defaultValue = "3",
      description = "Untimed steps first (default: ${DEFAULT-VALUE}).")
  int warmupSteps;

  @Option(names = "--json", description = "Print one JSON object.")
  boolean json;

  @Mixin EngineOptions engineOptions;

  @Spec picocli.CommandLine.Model.CommandSpec spec;

  @Override
  public Integer call() {
    PrintWriter out = spec.commandLine().getOut();
    Settings s = options.resolve();
    TrainConfig tc = s.trainConfig();
    SequenceDataset ds = input.load();
    ModelSetup.refuseToTime(engineOptions.device, "recjpq bench train");
    ModelSetup.Engine engine = engineOptions.engine();
    Ops ops = engine.ops();
    SequenceModel model = ModelSetup.fresh(s, ds, ops, engineOptions.threadCount());
    Trainer trainer = new Trainer(model, ds, tc, LeaveOneOut.validationUsers(ds, 1, 1));
    for (int i = 0; i < warmupSteps; i++) {
      trainer.step();
    }
    PeakHeap.start();
    double[] times = new double[1 << 16];
    int steps = 0;
    double loss = 0;
    long start = System.nanoTime();
    while ((System.nanoTime() - start) / 1e9 < seconds && steps < times.length) {
      long t0 = System.nanoTime();
      loss = trainer.step();
      times[steps++] = (System.nanoTime() - t0) / 1e9;
    }
    double[] sorted = Arrays.copyOf(times, steps);
    Arrays.sort(sorted);
    double median =
        steps % 2 == 1 ? sorted[steps / 2] : (sorted[steps / 2 - 1] + sorted[steps / 2]) / 2;
    double seqs = tc.batchSize() / median;
    double tokens = seqs * s.maxLen;
    ObjectNode o = new ObjectMapper().createObjectNode();
    o.put("seqs_per_s", Math.round(seqs * 10) / 10.0);
    o.put("tokens_per_s", Math.round(tokens));
    o.put("median_step_ms", Math.round(median * 1e5) / 100.0);
    o.put("steps", steps);
    o.put("embedding", s.embedding);
    o.put("loss", s.loss);
    o.put("negatives", tc.negatives());
    o.put("dim", s.dim);
    o.put("blocks", s.blocks);
    o.put("heads", s.heads);
    o.put("max_len", s.maxLen);
    o.put("batch_size", s.batchSize);
    o.put("splits", s.splits);
    o.put("parameters", model.layout().size());
    o.put("threads", engineOptions.threadCount());
    o.put("last_loss", loss);
    o.put("peak_heap_mib", PeakHeap.peakBytes() >> 20);
    o.put("engine", engine.note());
    if (json) {
      out.println(o);
    } else {
      out.printf(
          Locale.ROOT,
          "%s, %s loss: %.1f sequences/s, %.0f tokens/s (median step %.1f ms over %d steps); engine %s%n",
          s.embedding,
          s.loss,
          seqs,
          tokens,
          median * 1000,
          steps,
          engine.note());
    }
    return 0;
  }
}
