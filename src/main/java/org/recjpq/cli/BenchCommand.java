package org.recjpq.cli;

import picocli.CommandLine.Command;

/** {@code recjpq bench}: reproducible throughput figures. */
@Command(
    name = "bench",
    mixinStandardHelpOptions = true,
    description = "Measure throughput (run a subcommand).",
    subcommands = {BenchTrainCommand.class, BenchScoringCommand.class, BenchHttpCommand.class},
    footerHeading = "%nExamples:%n",
    footer = {
      "  ./recjpq bench train --input ../shared/data/ml-1m/ml-1m.txt \\",
      "      --format sasrec-pairs --preset cpu --embedding jpq --loss bce \\",
      "      --seconds 60 --json"
    })
final class BenchCommand implements Runnable {
  @picocli.CommandLine.Spec picocli.CommandLine.Model.CommandSpec spec;

  @Override
  public void run() {
    spec.commandLine().usage(spec.commandLine().getOut());
  }
}
