package org.recjpq.cli;

import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.Callable;
import org.recjpq.RecjpqException;
import org.recjpq.UsageException;
import org.recjpq.data.DatasetBuilder;
import org.recjpq.data.DatasetFile;
import org.recjpq.data.DatasetInfo;
import org.recjpq.data.InteractionLog;
import org.recjpq.data.InteractionReaders;
import org.recjpq.data.LeaveOneOut;
import org.recjpq.data.SequenceDataset;
import org.recjpq.io.Outputs;
import org.recjpq.util.Excerpt;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code recjpq prepare}: raw log → filtered, ordered, indexed binary dataset file. */
@Command(
    mixinStandardHelpOptions = true,
    name = "prepare",
    sortOptions = false,
    description = {
      "Turn a raw interaction log into a dataset file the other commands read fast.",
      "Filters the log, orders each user's interactions by time, gives users and",
      "items contiguous ids, and saves a checksummed binary file that every other",
      "command reads in a fraction of a second."
    },
    footerHeading = "%nExamples:%n",
    footer = {
      "  ./recjpq prepare --input ../shared/data/ml-1m/ml-1m.txt \\",
      "      --format sasrec-pairs --output ml-1m.rjd",
      "  ./recjpq prepare --input ../shared/data/beauty/Beauty.txt \\",
      "      --format user-lines --output beauty.rjd",
      "  ./recjpq prepare --input ../shared/data/ml-100k/u.data --format movielens \\",
      "      --output ml-100k.rjd",
      "  ./recjpq prepare --input log.csv --format csv --user-column uid \\",
      "      --item-column sku --time-column ts --min-item-interactions 5 \\",
      "      --output log.rjd"
    })
final class PrepareCommand implements Callable<Integer> {
  @Mixin InputOptions input;

  @Option(
      names = {"-o", "--output"},
      required = true,
      paramLabel = "FILE",
      description = "Dataset file to write (conventionally *.rjd); written atomically.")
  Path output;

  @Option(
      names = "--validation-users",
      paramLabel = "N|all",
      defaultValue = "1024",
      description =
          "Default number of validation users sampled by later commands (default: ${DEFAULT-VALUE}).")
  String validationUsers;

  @Option(
      names = "--seed",
      paramLabel = "SEED",
      defaultValue = "42",
      description = "Seed of the validation-user sample (default: ${DEFAULT-VALUE}).")
  long seed;

  @Spec picocli.CommandLine.Model.CommandSpec spec;

  @Override
  public Integer call() {
    PrintWriter out = spec.commandLine().getOut();
    if (input.format == null && DatasetFile.looksLikeDatasetFile(input.input)) {
      throw new RecjpqException(input.input + " is already a prepared dataset file.");
    }
    Outputs.refuseToOverwriteInputs("--output", output, Map.of("--input", input.input));
    int nValidation = parseValidationUsers(validationUsers);
    long t0 = System.nanoTime();
    InteractionLog log = InteractionReaders.read(input.input, input.readOptions());
    long t1 = System.nanoTime();
    SequenceDataset ds = DatasetBuilder.build(log, input.filterOptions());
    DatasetInfo info = ds.info().withSplit(nValidation, seed);
    ds = ds.withInfo(info);
    int validation = LeaveOneOut.validationUsers(ds, nValidation, seed).length;
    long t2 = System.nanoTime();
    DatasetFile.write(
        ds,
        output,
        "recjpq prepare " + String.join(" ", spec.commandLine().getParseResult().originalArgs()));
    long t3 = System.nanoTime();
    int testUsers = LeaveOneOut.testUsers(ds).length;
    out.println(
        new TextTable("", "users", "items", "interactions")
            .row("read", fmt(log.numUsers()), fmt(log.numItems()), fmt(log.size()))
            .row("kept", fmt(ds.numUsers()), fmt(ds.numItems()), fmt(ds.numInteractions())));
    out.printf(
        "filters: users >= %d interactions%s; test users %,d; validation users %,d (seed %d)%n",
        info.filter().minUserInteractions(),
        info.filter().minItemInteractions() > 0
            ? ", items >= " + info.filter().minItemInteractions()
            : "",
        testUsers,
        validation,
        seed);
    out.printf(
        "wrote %s (%,d bytes) in %.2f s (read %.2f s, index %.2f s, write %.2f s)%n",
        output, size(output), (t3 - t0) / 1e9, (t1 - t0) / 1e9, (t2 - t1) / 1e9, (t3 - t2) / 1e9);
    return 0;
  }

  /** "all" → -1, otherwise a positive count. */
  static int parseValidationUsers(String v) {
    return parseUserCount(v, "--validation-users");
  }

  /** A user count option: a positive number, or 'all' (-1). */
  static int parseUserCount(String v, String option) {
    if (v.equalsIgnoreCase("all")) {
      return -1;
    }
    try {
      int n = Integer.parseInt(v.trim());
      if (n >= 1) {
        return n;
      }
    } catch (NumberFormatException ignored) {
      // reported below
    }
    throw new UsageException(
        option + " must be a positive number or 'all', found '" + Excerpt.of(v) + "'.");
  }

  static String fmt(long v) {
    return String.format("%,d", v);
  }

  /** The size of {@code p} in bytes, or -1 when it cannot be read. */
  static long size(Path p) {
    try {
      return Files.size(p);
    } catch (java.io.IOException e) {
      return -1;
    }
  }
}
