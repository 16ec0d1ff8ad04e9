package org.recjpq.cli;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import org.recjpq.UsageException;
import org.recjpq.serve.HttpService;
import org.recjpq.serve.RecommendOptions;
import org.recjpq.serve.Recommendations;
import org.recjpq.serve.Recommender;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code recjpq recommend}: top-K for one history from a checkpoint. */
@Command(
    name = "recommend",
    mixinStandardHelpOptions = true,
    sortOptions = false,
    description = {
      "Recommend the top K items for one history with a trained checkpoint.",
      "The history is external item ids, oldest first. The ranking is exact over",
      "the full catalogue, seen items left out unless asked otherwise. Unknown ids",
      "are skipped and listed; a history with no known item gets popular items."
    },
    footerHeading = "%nExamples:%n",
    footer = {
      "  ./recjpq recommend --checkpoint ml-1m.ckpt --history 1193,661,914 --k 10",
      "  ./recjpq recommend --checkpoint ml-1m.ckpt --history 1193,661 --k 5 \\",
      "      --exclude 2355 --json",
      "  ./recjpq recommend --checkpoint ml-1m.ckpt --history 1193 \\",
      "      --scoring pqtopk --no-filter-seen"
    })
final class RecommendCommand implements Callable<Integer> {
  @Option(
      names = "--checkpoint",
      required = true,
      paramLabel = "CKPT",
      description = "A checkpoint from 'recjpq train'.")
  Path checkpoint;

  @Option(
      names = "--history",
      required = true,
      paramLabel = "IDS",
      description = "Comma-separated external item ids, oldest first (may be empty: \"\").")
  String history;

  @Option(
      names = "--k",
      paramLabel = "K",
      defaultValue = "10",
      description = "How many items (default: ${DEFAULT-VALUE}).")
  int k;

  @Option(
      names = "--scoring",
      paramLabel = "S",
      defaultValue = "auto",
      description =
          "auto, dense, pqtopk or pruned (RecJPQ); all give the same items (default: ${DEFAULT-VALUE}).")
  String scoring;

  @Option(names = "--no-filter-seen", description = "Allow items of the history in the answer.")
  boolean noFilterSeen;

  @Option(
      names = "--exclude",
      paramLabel = "IDS",
      description = "Comma-separated ids never to recommend.")
  String exclude;

  @Option(
      names = "--allow",
      paramLabel = "IDS",
      description = "Comma-separated ids: rank only these.")
  String allow;

  @Option(names = "--json", description = "Print one JSON object.")
  boolean json;

  @Spec picocli.CommandLine.Model.CommandSpec spec;

  static List<String> split(String s) {
    if (s == null || s.isBlank()) {
      return List.of();
    }
    return Arrays.stream(s.split(",")).map(String::trim).filter(x -> !x.isEmpty()).toList();
  }

  @Override
  public Integer call() {
    PrintWriter out = spec.commandLine().getOut();
    if (k < 1 || k > Recommender.MAX_K) {
      throw new UsageException(
          "--k must be between 1 and " + Recommender.MAX_K + ", got " + k + ".");
    }
    Recommender.Scoring sc = Recommender.Scoring.parse(scoring);
    Recommender rec = Recommender.load(checkpoint, sc, Runtime.getRuntime().availableProcessors());
    RecommendOptions o =
        new RecommendOptions(
            !noFilterSeen,
            new HashSet<>(split(exclude)),
            allow == null ? null : new HashSet<>(split(allow)));
    Recommendations r = rec.recommend(split(history), k, o);
    if (json) {
      ObjectNode j = HttpService.toJson(r);
      j.put("scorer", rec.scorerName());
      out.println(j);
      return 0;
    }
    if (!r.unknownItems().isEmpty()) {
      out.println("Unknown item ids, skipped: " + String.join(", ", r.unknownItems()));
    }
    if ("popularity".equals(r.source())) {
      out.println(
          "No known item in the history: the most popular items in training (score = count).");
    }
    TextTable t = new TextTable("rank", "item", "score");
    for (int i = 0; i < r.items().size(); i++) {
      t.row(
          String.valueOf(i + 1),
          r.items().get(i),
          String.format(Locale.ROOT, "%.5f", r.scores()[i]));
    }
    out.print(t);
    out.printf(
        Locale.ROOT,
        "%,d items ranked by %s: backbone %.2f ms, scoring %.2f ms.%n",
        rec.numItems(),
        "popularity".equals(r.source()) ? "popularity" : rec.scorerName(),
        r.backboneMs(),
        r.scoringMs());
    return 0;
  }
}
