package org.recjpq.cli;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import org.recjpq.data.synth.SynthConfig;
import org.recjpq.data.synth.SynthStats;
import org.recjpq.data.synth.SyntheticGenerator;
import org.recjpq.util.Progress;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code recjpq synth}: a synthetic log with planted sequential structure, as SASRec pairs. */
@Command(
    mixinStandardHelpOptions = true,
    name = "synth",
    sortOptions = false,
    description = {
      "Write a synthetic interaction log with planted sequential structure.",
      "Lines are 'user item' (format sasrec-pairs, ids from 1, each user's lines",
      "together and in time order). Items have Zipf popularity and belong to",
      "clusters; users move between clusters along a sparse hidden Markov chain",
      "(stay, move to a successor cluster, or jump), emitting an item of the",
      "current cluster at each step. The same arguments always give the same",
      "bytes, and memory stays proportional to items + users, never to",
      "interactions."
    },
    footerHeading = "%nExamples:%n",
    footer = {
      "  ./recjpq synth --users 6000 --items 10000 --interactions 300000 --seed 42 \\",
      "      --output synth.txt",
      "  ./recjpq synth --users 86168 --items 1271638 --interactions 6400000 \\",
      "      --seed 1 --output gowalla-like.txt",
      "  ./recjpq synth --users 1000000 --items 10000000 \\",
      "      --interactions 100000000 --seed 42 --output big.txt"
    })
final class SynthCommand implements Callable<Integer> {
  @Option(names = "--users", required = true, paramLabel = "U", description = "Number of users.")
  int users;

  @Option(names = "--items", required = true, paramLabel = "N", description = "Catalogue size.")
  int items;

  @Option(
      names = "--interactions",
      required = true,
      paramLabel = "I",
      description = "Exact number of interactions (lines); at least users × min-length.")
  long interactions;

  @Option(
      names = "--seed",
      paramLabel = "S",
      defaultValue = "42",
      description = "Seed (default: ${DEFAULT-VALUE}).")
  long seed;

  @Option(
      names = {"-o", "--output"},
      required = true,
      paramLabel = "FILE",
      description = "File to write (atomically: a failed run leaves nothing behind).")
  Path output;

  @Option(
      names = "--cluster-size",
      paramLabel = "N",
      defaultValue = "" + SynthConfig.DEFAULT_CLUSTER_SIZE,
      description = "Average items per cluster (default: ${DEFAULT-VALUE}).")
  int clusterSize;

  @Option(
      names = "--fan-out",
      paramLabel = "N",
      defaultValue = "" + SynthConfig.DEFAULT_FAN_OUT,
      description = "Successor clusters per cluster (default: ${DEFAULT-VALUE}).")
  int fanOut;

  @Option(
      names = "--successor-decay",
      paramLabel = "X",
      defaultValue = "" + SynthConfig.DEFAULT_SUCCESSOR_DECAY,
      description = "Ratio of successive successor probabilities (default: ${DEFAULT-VALUE}).")
  double successorDecay;

  @Option(
      names = "--stay",
      paramLabel = "P",
      defaultValue = "" + SynthConfig.DEFAULT_STAY_PROBABILITY,
      description = "Probability of staying in the current cluster (default: ${DEFAULT-VALUE}).")
  double stay;

  @Option(
      names = "--jump",
      paramLabel = "P",
      defaultValue = "" + SynthConfig.DEFAULT_JUMP_PROBABILITY,
      description = "Probability of a random jump by cluster mass (default: ${DEFAULT-VALUE}).")
  double jump;

  @Option(
      names = "--locality",
      paramLabel = "R",
      defaultValue = "0",
      description =
          "Successor clusters within R steps on a ring of clusters, a hidden 1-D geometry"
              + " (0 = anywhere; default: ${DEFAULT-VALUE}).")
  int locality;

  @Option(
      names = "--zipf",
      paramLabel = "S",
      defaultValue = "" + SynthConfig.DEFAULT_ZIPF_EXPONENT,
      description = "Zipf exponent of item popularity (default: ${DEFAULT-VALUE}).")
  double zipf;

  @Option(
      names = "--min-length",
      paramLabel = "N",
      defaultValue = "" + SynthConfig.DEFAULT_MIN_LENGTH,
      description = "Minimum interactions per user (default: ${DEFAULT-VALUE}).")
  int minLength;

  @Option(
      names = "--length-spread",
      paramLabel = "SIGMA",
      defaultValue = "" + SynthConfig.DEFAULT_LENGTH_SPREAD,
      description = "Log-normal sigma of user lengths (default: ${DEFAULT-VALUE}).")
  double lengthSpread;

  @Spec picocli.CommandLine.Model.CommandSpec spec;

  SynthConfig config() {
    return new SynthConfig(
        users,
        items,
        interactions,
        seed,
        clusterSize,
        fanOut,
        successorDecay,
        stay,
        jump,
        zipf,
        minLength,
        lengthSpread,
        locality);
  }

  @Override
  public Integer call() {
    PrintWriter out = spec.commandLine().getOut();
    SynthConfig config = config();
    SynthStats stats;
    try (Progress progress = Progress.bar("synth", interactions, "interactions")) {
      stats = SyntheticGenerator.write(config, output, progress);
    }
    out.printf(
        "wrote %s: %,d users, %,d items (%,d used), %,d interactions, %,d clusters, %,d bytes in %.1f s%n",
        output,
        stats.users(),
        stats.items(),
        stats.distinctItems(),
        stats.interactions(),
        stats.clusters(),
        stats.bytes(),
        stats.elapsed().toNanos() / 1e9);
    return 0;
  }
}
