package org.recjpq.cli;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;
import org.recjpq.RecjpqException;
import org.recjpq.UsageException;
import org.recjpq.backend.cpu.CpuOps;
import org.recjpq.checkpoint.Checkpoint;
import org.recjpq.codes.CodeAssigners;
import org.recjpq.codes.CodeDiagnostics;
import org.recjpq.codes.CodeOptions;
import org.recjpq.codes.CodeStrategy;
import org.recjpq.codes.CodesFile;
import org.recjpq.data.SequenceDataset;
import org.recjpq.io.Outputs;
import org.recjpq.model.ParameterLayout;
import org.recjpq.model.SequenceModel;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code recjpq assign-codes}: RecJPQ item codes from a dataset, saved to a codes file. */
@Command(
    name = "assign-codes",
    mixinStandardHelpOptions = true,
    sortOptions = false,
    description = {
      "Give every item a RecJPQ code: m bytes, one sub-id in 0..255 per split.",
      "Codes are learned from the training interactions only (everything before",
      "each user's validation target):",
      "  svd      buckets of the top-m right singular vectors of the user x item",
      "           count matrix (randomized SVD; the default)",
      "  bpr      buckets of the m item factors of a BPR matrix factorisation",
      "  random   uniform random sub-ids",
      "  svd-pq   k-means product quantisation of a rank-8m SVD of the user x item",
      "           matrix",
      "  cooc-pq  k-means product quantisation of a rank-16m SVD of the item x item",
      "           co-occurrence matrix of the training sequences (pairs up to 5",
      "           steps apart, weight 1 / distance)",
      "  nsvd-pq  k-means product quantisation of a rank-8m SVD of the user x item",
      "           matrix normalised by user and item degrees (D_u^-1/2 A D_i^-1/2)",
      "  model-pq k-means product quantisation of a trained dense model's item",
      "           embeddings (--checkpoint): train a dense model (to near its",
      "           best: codes of a model trained briefly help little), then",
      "           RecJPQ with these codes",
      "svd and bpr rank each factor's items and cut them into 256 equal buckets.",
      "The codes file records the item vocabulary, so it cannot be used with",
      "another dataset by mistake."
    },
    footerHeading = "%nExamples:%n",
    footer = {
      "  ./recjpq assign-codes --input ml-1m.rjd --strategy svd --splits 8 \\",
      "      --seed 42 --output ml-1m.codes",
      "  ./recjpq assign-codes --input ../shared/data/ml-1m/ml-1m.txt \\",
      "      --format sasrec-pairs --strategy bpr --splits 8 --threads 1 \\",
      "      --output ml-1m-bpr.codes",
      "  ./recjpq assign-codes --input ml-1m.rjd --strategy random --splits 16 \\",
      "      --dim 512 --output r.codes",
      "  ./recjpq assign-codes --input ml-1m.rjd --strategy model-pq \\",
      "      --checkpoint dense.ckpt --output m.codes"
    })
final class AssignCodesCommand implements Callable<Integer> {
  @Mixin InputOptions input;

  @Option(
      names = "--strategy",
      paramLabel = "S",
      defaultValue = "svd",
      description =
          "svd, bpr, random, svd-pq, cooc-pq, nsvd-pq or model-pq (k-means product quantisation of a"
              + " rank-8m SVD, of a rank-16m SVD of the sequences' item co-occurrences, of a rank-8m SVD of the"
              + " degree-normalised user x item matrix, or of a trained model's item embeddings; default:"
              + " ${DEFAULT-VALUE}).")
  String strategy;

  @Option(
      names = "--checkpoint",
      paramLabel = "CKPT",
      description =
          "model-pq: a dense model trained on this dataset, whose item embeddings are quantised.")
  Path checkpoint;

  @Option(
      names = {"-m", "--splits"},
      paramLabel = "M",
      defaultValue = "8",
      description = "Code bytes per item, 1..256 (default: ${DEFAULT-VALUE}).")
  int splits;

  @Option(
      names = "--dim",
      paramLabel = "D",
      defaultValue = "0",
      description = "Embedding size the codes are for; checked to be divisible by M.")
  int dim;

  @Option(
      names = "--seed",
      paramLabel = "SEED",
      defaultValue = "42",
      description = "Seed of every random choice (default: ${DEFAULT-VALUE}).")
  long seed;

  @Option(
      names = "--oversampling",
      paramLabel = "P",
      defaultValue = "10",
      description =
          "svd: extra columns of the randomized range finder (default: ${DEFAULT-VALUE}).")
  int oversampling;

  @Option(
      names = "--power-iterations",
      paramLabel = "Q",
      defaultValue = "5",
      description = "svd: power iterations (default: ${DEFAULT-VALUE}).")
  int powerIterations;

  @Option(
      names = "--epochs",
      paramLabel = "E",
      defaultValue = "20",
      description = "bpr: epochs (default: ${DEFAULT-VALUE}).")
  int epochs;

  @Option(
      names = "--learning-rate",
      paramLabel = "LR",
      defaultValue = "0.05",
      description = "bpr: SGD step (default: ${DEFAULT-VALUE}).")
  double learningRate;

  @Option(
      names = "--regularization",
      paramLabel = "L2",
      defaultValue = "0.001",
      description = "bpr: L2 weight (default: ${DEFAULT-VALUE}).")
  double regularization;

  @Option(
      names = "--threads",
      paramLabel = "N",
      description = "Worker threads (default: all processors). bpr is deterministic with 1 only.")
  Integer threads;

  @Option(
      names = {"-o", "--output"},
      required = true,
      paramLabel = "FILE",
      description = "Codes file to write (atomically).")
  Path output;

  @Option(names = "--json", description = "Print the diagnostics as one JSON object.")
  boolean json;

  @Spec picocli.CommandLine.Model.CommandSpec spec;

  @Override
  public Integer call() {
    PrintWriter out = spec.commandLine().getOut();
    Map<String, Path> inputs = new LinkedHashMap<>();
    inputs.put("--input", input.input);
    inputs.put("--checkpoint", checkpoint);
    Outputs.refuseToOverwriteInputs("--output", output, inputs);
    CodeOptions options =
        new CodeOptions(
            CodeStrategy.fromCliName(strategy),
            splits,
            dim,
            seed,
            oversampling,
            powerIterations,
            epochs,
            learningRate,
            regularization,
            threads != null ? threads : Runtime.getRuntime().availableProcessors());
    long t0 = System.nanoTime();
    SequenceDataset ds = input.load();
    double loadSeconds = (System.nanoTime() - t0) / 1e9;
    CodeAssigners.Assignment a;
    if (options.strategy() == CodeStrategy.MODEL_PQ) {
      if (checkpoint == null) {
        throw new UsageException(
            "--strategy model-pq needs --checkpoint: a dense model trained on " + ds + ".");
      }
      Checkpoint ck = Checkpoint.read(checkpoint);
      a = CodeAssigners.fromItemTable(ds, itemTable(ck, ds), ck.config().dim(), options);
    } else {
      if (checkpoint != null) {
        throw new UsageException("--checkpoint is for --strategy model-pq, not " + strategy + ".");
      }
      a = CodeAssigners.assign(ds, options);
    }
    CodesFile.write(
        output,
        a.codes(),
        ds,
        options,
        a.diagnostics(),
        "recjpq assign-codes "
            + String.join(" ", spec.commandLine().getParseResult().originalArgs()));
    CodeDiagnostics d = a.diagnostics();
    if (json) {
      var o = d.toJson();
      o.put("load_seconds", Math.round(loadSeconds * 1000) / 1000.0);
      o.put("output", output.toString());
      out.println(o);
      return 0;
    }
    out.printf(
        "%s codes, m = %d, for %s (loaded in %.2f s)%n", d.strategy(), d.splits(), ds, loadSeconds);
    TextTable table = new TextTable("split", "min bucket", "max bucket");
    for (int k = 0; k < d.splits(); k++) {
      table.row(
          String.valueOf(k),
          String.valueOf(d.minOccupancy()[k]),
          String.valueOf(d.maxOccupancy()[k]));
    }
    out.print(table);
    out.printf(
        "distinct codes %,d of %,d items; largest group sharing one code %,d%n",
        d.distinctCodes(), d.items(), d.largestGroup());
    if (d.trainingInteractions() > 0) {
      out.printf(
          "training interactions %,d (%,d distinct %s pairs)%n",
          d.trainingInteractions(),
          d.nonZeros(),
          "cooc-pq".equals(d.strategy()) ? "co-occurring item" : "user-item");
    }
    StringBuilder phases = new StringBuilder();
    d.seconds().forEach((k, v) -> phases.append(String.format("%s %.2f s, ", k, v)));
    out.printf(
        "time: %stotal %.2f s; peak heap %,d MiB%n",
        phases, d.totalSeconds(), d.peakHeapBytes() >> 20);
    out.printf("wrote %s (%,d bytes)%n", output, PrepareCommand.size(output));
    return 0;
  }

  /**
   * The dense item table (N × d) of checkpoint {@code ck}, which must be trained on {@code ds}'s
   * items.
   */
  private float[] itemTable(Checkpoint ck, SequenceDataset ds) {
    ck.checkItems(checkpoint, ds.items());
    if (ck.config().isJpq()) {
      throw new RecjpqException(
          checkpoint
              + " is a RecJPQ model; model-pq needs a dense item table (train with"
              + " --embedding dense).");
    }
    SequenceModel model = ModelSetup.load(ck, new CpuOps(1));
    ParameterLayout.Entry e = model.layout().entry("item.table");
    return Arrays.copyOfRange(
        ck.params(), Math.toIntExact(e.offset()), Math.toIntExact(e.offset() + e.size()));
  }
}
