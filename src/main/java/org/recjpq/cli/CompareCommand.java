package org.recjpq.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import org.recjpq.eval.PairedSignificance;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code recjpq compare}: paired significance tests between two per-user result files. */
@Command(
    mixinStandardHelpOptions = true,
    name = "compare",
    sortOptions = false,
    description = {
      "Compare two runs evaluated on the same users, with significance tests.",
      "Reads files from 'recjpq evaluate --per-user' and prints the mean of each,",
      "and a paired t-test and Wilcoxon signed-rank test (two-sided) on one metric."
    },
    footerHeading = "%nExamples:%n",
    footer = {
      "  ./recjpq evaluate --input ml-1m.rjd --model mostpop --per-user mostpop.csv",
      "  ./recjpq evaluate --input ml-1m.rjd --model markov --per-user markov.csv",
      "  ./recjpq compare mostpop.csv markov.csv --metric ndcg@10"
    })
final class CompareCommand implements Callable<Integer> {
  @Parameters(
      index = "0",
      paramLabel = "A.csv",
      description = "Per-user results of run A (the baseline).")
  Path a;

  @Parameters(index = "1", paramLabel = "B.csv", description = "Per-user results of run B.")
  Path b;

  @Option(
      names = "--metric",
      paramLabel = "NAME",
      defaultValue = "ndcg@10",
      description = "Column to compare, e.g. ndcg@10, recall@10, rr (default: ${DEFAULT-VALUE}).")
  String metric;

  @Option(names = "--json", description = "Print one JSON object instead of a table.")
  boolean json;

  @Spec picocli.CommandLine.Model.CommandSpec spec;

  @Override
  public Integer call() {
    PrintWriter out = spec.commandLine().getOut();
    PairedSignificance.Result r = PairedSignificance.compare(a, b, metric);
    if (json) {
      ObjectNode o = new ObjectMapper().valueToTree(r);
      o.put("meanDifference", r.meanDifference());
      out.println(o);
      return 0;
    }
    out.printf("%s: %,d users in common", metric, r.users());
    if (r.onlyInA() + r.onlyInB() > 0) {
      out.printf(" (%,d only in A, %,d only in B: ignored)", r.onlyInA(), r.onlyInB());
    }
    out.println();
    out.print(
        new TextTable("", "value")
            .row("mean A (" + a.getFileName() + ")", r.meanA())
            .row("mean B (" + b.getFileName() + ")", r.meanB())
            .row("B - A", r.meanDifference())
            .row("paired t", String.format("%.3f", r.tStatistic()))
            .row("paired t-test p", String.format("%.3g", r.tPValue()))
            .row(
                "Wilcoxon z (" + r.nonZeroDifferences() + " non-zero)",
                String.format("%.3f", r.wilcoxonZ()))
            .row("Wilcoxon p", String.format("%.3g", r.wilcoxonPValue())));
    return 0;
  }
}
