package org.recjpq.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import java.util.concurrent.Callable;
import org.recjpq.UsageException;
import org.recjpq.codes.ItemCodes;
import org.recjpq.serve.BatchScorer;
import org.recjpq.serve.DenseScorer;
import org.recjpq.serve.ItemFilter;
import org.recjpq.serve.JpqHead;
import org.recjpq.serve.PqTopKScorer;
import org.recjpq.serve.PrunedScorer;
import org.recjpq.serve.Recommender;
import org.recjpq.serve.ServingHead;
import org.recjpq.serve.TopK;
import org.recjpq.serve.TopKScorer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code recjpq bench scoring}: per-user top-K latency of the scorers side by side. */
@Command(
    name = "scoring",
    mixinStandardHelpOptions = true,
    sortOptions = false,
    description = {
      "Time exact top-K scoring per user, single thread, with each scorer.",
      "  dense   BLAS over the decoded N x d table",
      "  PQTopK  sub-id tables + m look-ups per item",
      "  pruned  posting lists, safe early stop",
      "on a random RecJPQ head or a trained checkpoint's; checks that all return",
      "the same top-K. Medians over the queries after warm-up queries of other",
      "users. --batch B also times batches of B users on all threads with both",
      "batch strategies (GEMM over decoded tiles; per-user look-ups)."
    },
    footerHeading = "%nExamples:%n",
    footer = {
      "  ./recjpq bench scoring --items 1000000 --dim 64 --splits 8 --k 10 --json",
      "  RECJPQ_JAVA_OPTS=-Xmx8g ./recjpq bench scoring --items 10000000 \\",
      "      --dim 64 --splits 8 --k 10",
      "  ./recjpq bench scoring --checkpoint synth-1m.ckpt --k 10 --batch 64 --json"
    })
final class BenchScoringCommand implements Callable<Integer> {
  @Option(
      names = "--items",
      paramLabel = "N",
      defaultValue = "1000000",
      description = "Items of the random head (default: ${DEFAULT-VALUE}).")
  int items;

  @Option(
      names = "--dim",
      paramLabel = "D",
      defaultValue = "64",
      description = "Embedding size (default: ${DEFAULT-VALUE}).")
  int dim;

  @Option(
      names = "--splits",
      paramLabel = "M",
      defaultValue = "8",
      description = "Code bytes per item (default: ${DEFAULT-VALUE}).")
  int splits;

  @Option(
      names = "--k",
      paramLabel = "K",
      defaultValue = "10",
      description = "Top K (default: ${DEFAULT-VALUE}).")
  int k;

  @Option(
      names = "--checkpoint",
      paramLabel = "CKPT",
      description =
          "Use a trained model instead: queries are its encodings of random 20-item histories.")
  Path checkpoint;

  @Option(
      names = "--dataset",
      paramLabel = "RJD",
      description =
          "With --checkpoint: encode real test-time histories of this prepared dataset (spread over its"
              + " users) instead of random ones; it must be the checkpoint's dataset.")
  Path dataset;

  @Option(
      names = "--queries",
      paramLabel = "Q",
      defaultValue = "50",
      description = "Timed queries per scorer (default: ${DEFAULT-VALUE}).")
  int queries;

  @Option(
      names = "--warmup",
      paramLabel = "W",
      defaultValue = "100",
      description =
          "Untimed warm-up queries per scorer before the timed ones, other users' or random histories, at"
              + " most 5 s of them per scorer (default: ${DEFAULT-VALUE}).")
  int warmup;

  @Option(
      names = "--batch",
      paramLabel = "B",
      defaultValue = "0",
      description = "Also time batches of B users (default: off).")
  int batch;

  @Option(
      names = "--threads",
      paramLabel = "N",
      description = "Threads of the batch timings (default: all processors).")
  Integer threads;

  @Option(
      names = "--gpu",
      description =
          "With --batch: also time the batch on the GPU (exact; checked against the CPU's"
              + " GEMM strategy as \"batch_gpu_agree\").")
  boolean gpu;

  @Option(
      names = "--no-dense",
      description = "Skip the dense baseline (it needs N x d floats of memory).")
  boolean noDense;

  @Option(
      names = "--seed",
      paramLabel = "S",
      defaultValue = "42",
      description = "Seed (default: ${DEFAULT-VALUE}).")
  long seed;

  @Option(names = "--json", description = "Print one JSON object.")
  boolean json;

  @Spec picocli.CommandLine.Model.CommandSpec spec;

  @Override
  public Integer call() {
    PrintWriter out = spec.commandLine().getOut();
    if (k < 1 || queries < 1 || batch < 0 || warmup < 0) {
      throw new UsageException(
          "--k and --queries must be positive and --batch and --warmup not negative.");
    }
    if (gpu) {
      ModelSetup.refuseToTime("cuda", "recjpq bench scoring --gpu");
    }
    int total = warmup + queries; // queries [0, warmup) warm up, [warmup, total) are timed
    Random rnd = new Random(seed);
    int nThreads = threads != null ? threads : Runtime.getRuntime().availableProcessors();
    ServingHead head;
    List<float[]> hs = new ArrayList<>();
    double backboneMs = Double.NaN;
    String model;
    if (checkpoint != null) {
      Recommender rec = Recommender.load(checkpoint, Recommender.Scoring.AUTO, nThreads);
      head = rec.head();
      model = checkpoint + " (random 20-item histories)";
      org.recjpq.data.SequenceDataset ds = null;
      if (dataset != null) {
        ds = org.recjpq.data.DatasetFile.read(dataset);
        org.recjpq.checkpoint.Checkpoint.read(checkpoint).checkItems(checkpoint, ds.items());
        model = checkpoint + " on " + dataset.getFileName() + " test histories";
      }
      double[] times = new double[queries];
      for (int q = 0; q < total; q++) {
        int[] hist;
        if (ds
            != null) { // users spread over the dataset; history = everything before the test target
          int[] seq = ds.sequence((int) ((long) q * ds.numUsers() / total));
          hist = Arrays.copyOf(seq, Math.max(1, seq.length - 1));
        } else {
          hist = new int[20];
          for (int t = 0; t < hist.length; t++) {
            hist[t] = rnd.nextInt(head.numItems());
          }
        }
        long t0 = System.nanoTime();
        hs.add(rec.encodeInternal(hist));
        if (q >= warmup) {
          times[q - warmup] = (System.nanoTime() - t0) / 1e6;
        }
      }
      backboneMs = median(times);
    } else {
      if (dataset != null) {
        throw new UsageException(
            "--dataset needs --checkpoint (histories are encoded by a trained model).");
      }
      ItemCodes.checkDivides(splits, dim);
      if (items < 1) {
        throw new UsageException("--items must be positive, got " + items + ".");
      }
      byte[] codes = new byte[Math.multiplyExact(items, splits)];
      rnd.nextBytes(codes);
      int sub = dim / splits;
      float[] cb = new float[splits * ItemCodes.SUB_IDS * sub];
      for (int i = 0; i < cb.length; i++) {
        cb[i] = (float) (rnd.nextGaussian() / Math.sqrt(dim));
      }
      head = new JpqHead(new ItemCodes(items, splits, codes), cb, sub);
      model = "random";
      for (int q = 0; q < total; q++) {
        float[] h = new float[dim];
        for (int j = 0; j < dim; j++) {
          h[j] = (float) rnd.nextGaussian();
        }
        hs.add(h);
      }
    }
    List<TopKScorer> scorers = new ArrayList<>();
    if (!noDense) {
      scorers.add(
          head instanceof JpqHead j
              ? new DenseScorer(j, DenseScorer.predecode(j))
              : new DenseScorer(head, (org.recjpq.serve.DenseHead) head));
    }
    PrunedScorer pruned = null;
    if (head instanceof JpqHead j) {
      scorers.add(new PqTopKScorer(j));
      pruned = new PrunedScorer(j);
      scorers.add(pruned);
    }
    ItemFilter none = new ItemFilter(head.numItems());
    ObjectNode o = new ObjectMapper().createObjectNode();
    o.put("model", model);
    o.put("items", head.numItems());
    o.put("dim", head.dim());
    o.put("splits", head instanceof JpqHead j ? j.splits() : 0);
    o.put("k", k);
    o.put("queries", queries);
    int[][][] results = new int[scorers.size()][queries][];
    float[][][] scores = new float[scorers.size()][queries][];
    double[] visited = new double[queries];
    for (int s = 0; s < scorers.size(); s++) {
      TopKScorer sc = scorers.get(s);
      double[] ms = new double[queries];
      TopK top = new TopK(k);
      long warmEnd = System.nanoTime() + 5_000_000_000L;
      for (int q = 0; q < warmup && (q < 3 || System.nanoTime() < warmEnd); q++) {
        top.reset(k);
        sc.topK(hs.get(q), none, top);
      }
      for (int q = 0; q < queries; q++) {
        top.reset(k);
        long t0 = System.nanoTime();
        sc.topK(hs.get(warmup + q), none, top);
        ms[q] = (System.nanoTime() - t0) / 1e6;
        float[] sco = new float[top.size()];
        results[s][q] = top.sorted(sco);
        scores[s][q] = sco;
        if (sc == pruned) {
          visited[q] = pruned.lastVisited();
        }
      }
      o.put(sc.name() + "_ms", round(median(ms)));
      o.put(sc.name() + "_p90_ms", round(percentile(ms, 0.9)));
    }
    boolean agree = true;
    for (int s = 1; s < scorers.size(); s++) {
      for (int q = 0; q < queries; q++) {
        agree &=
            Arrays.equals(results[0][q], results[s][q])
                && Arrays.equals(scores[0][q], scores[s][q]);
      }
    }
    o.put("agree", agree);
    if (!noDense && pruned != null) {
      o.put(
          "dense_over_pqtopk", round(o.get("dense_ms").asDouble() / o.get("pqtopk_ms").asDouble()));
      o.put(
          "dense_over_pruned", round(o.get("dense_ms").asDouble() / o.get("pruned_ms").asDouble()));
    }
    if (pruned != null) {
      o.put("pruned_items_scored_median", median(visited));
    }
    if (!Double.isNaN(backboneMs)) {
      o.put("backbone_ms", round(backboneMs));
    }
    if (batch > 0) {
      o.put("batch", batch);
      o.put("threads", nThreads);
      TopKScorer single = scorers.get(scorers.size() - 1);
      TopKScorer lookup =
          single instanceof PrunedScorer && head instanceof JpqHead j
              ? new PqTopKScorer(j)
              : single;
      org.recjpq.serve.GpuBatchScorer gpuScorer =
          gpu ? org.recjpq.serve.GpuBatchScorer.open(head, lookup, "--gpu") : null;
      BatchScorer bs = new BatchScorer(head, lookup, nThreads, gpuScorer);
      float[] flat = new float[batch * head.dim()];
      for (int b = 0; b < batch; b++) {
        System.arraycopy(hs.get(warmup + b % queries), 0, flat, b * head.dim(), head.dim());
      }
      o.put("batch_choice", bs.choose(batch).name().toLowerCase(Locale.ROOT));
      ItemFilter[] filters = new ItemFilter[batch];
      Arrays.fill(filters, ItemFilter.of(new int[0]));
      TopK[] gemmTops = null;
      for (BatchScorer.Strategy st : BatchScorer.Strategy.values()) {
        if (st == BatchScorer.Strategy.GPU && gpuScorer == null) {
          continue;
        }
        double[] ms = new double[3];
        TopK[] tops = new TopK[batch];
        for (int rep = 0; rep < 4; rep++) {
          tops = new TopK[batch];
          for (int b = 0; b < batch; b++) {
            tops[b] = new TopK(k);
          }
          long t0 = System.nanoTime();
          bs.topK(flat, batch, filters, tops, st);
          if (rep > 0) {
            ms[rep - 1] = (System.nanoTime() - t0) / 1e6;
          }
        }
        String key = "batch_" + st.name().toLowerCase(Locale.ROOT);
        o.put(key + "_ms", round(median(ms)));
        o.put(key + "_users_per_s", round(batch / (median(ms) / 1000)));
        if (st == BatchScorer.Strategy.GEMM) {
          gemmTops = tops;
        } else if (st == BatchScorer.Strategy.GPU) {
          boolean same = true;
          for (int b = 0; b < batch; b++) {
            float[] sa = new float[gemmTops[b].size()];
            float[] sb = new float[tops[b].size()];
            same &=
                Arrays.equals(gemmTops[b].sorted(sa), tops[b].sorted(sb)) && Arrays.equals(sa, sb);
          }
          o.put("batch_gpu_agree", same);
          o.put("batch_gpu_cpu_fallback_rows", gpuScorer.fallbackRows());
        }
      }
      bs.close(); // frees the GPU scorer's device memory
    }
    if (json) {
      out.println(o);
    } else {
      out.println(o.toPrettyString());
    }
    return 0;
  }

  static double median(double[] x) {
    return percentile(x, 0.5);
  }

  static double percentile(double[] x, double p) {
    double[] s = x.clone();
    Arrays.sort(s);
    return s[(int) Math.min(s.length - 1, Math.floor(p * (s.length - 1) + 0.5))];
  }

  static double round(double x) {
    return Math.round(x * 1000) / 1000.0;
  }
}
