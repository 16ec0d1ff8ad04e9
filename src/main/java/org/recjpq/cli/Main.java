package org.recjpq.cli;

import java.io.PrintStream;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import org.recjpq.RecjpqException;
import org.recjpq.util.Progress;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ScopeType;

/** Entry point of the {@code recjpq} command. */
@Command(
    name = "recjpq",
    mixinStandardHelpOptions = true,
    versionProvider = Main.Version.class,
    sortOptions = false,
    usageHelpAutoWidth = true,
    description = {
      "Sequential recommenders over million-item catalogues, with RecJPQ.",
      "SASRec, BERT4Rec and GRU4Rec with dense or RecJPQ sub-item embeddings:",
      "training, exact full-catalogue evaluation and fast exact top-K serving.",
      ""
    },
    subcommands = {
      DemoCommand.class,
      PrepareCommand.class,
      AssignCodesCommand.class,
      TrainCommand.class,
      TuneCommand.class,
      SynthCommand.class,
      EvaluateCommand.class,
      RecommendCommand.class,
      ServeCommand.class,
      CompareCommand.class,
      InfoCommand.class,
      BenchCommand.class,
      CommandLine.HelpCommand.class
    },
    footerHeading = "%nExamples:%n",
    footer = {
      "  ./recjpq demo",
      "  ./recjpq synth --users 6000 --items 10000 --interactions 300000 --seed 42 \\",
      "      --output synth.txt",
      "  ./recjpq prepare --input ../shared/data/ml-1m/ml-1m.txt \\",
      "      --format sasrec-pairs --output ml-1m.rjd",
      "  ./recjpq assign-codes --input ml-1m.rjd --strategy svd --splits 8 \\",
      "      --output ml-1m.codes",
      "  ./recjpq evaluate --input ml-1m.rjd --model mostpop --json",
      "  ./recjpq info",
      "",
      "Run 'recjpq COMMAND --help' for a command's options and examples."
    })
public final class Main implements Runnable {
  static final int EXIT_INPUT = 1;
  static final int EXIT_USAGE = 2;
  static final int EXIT_INTERNAL = 3;

  @Option(
      names = "--verbose",
      scope = ScopeType.INHERIT,
      description = "Show stack traces of errors.")
  boolean verbose;

  @Option(names = "--quiet", scope = ScopeType.INHERIT, description = "No progress bars.")
  boolean quiet;

  @Option(
      names = "--progress",
      scope = ScopeType.INHERIT,
      description = "Progress bars even when standard error is not a terminal.")
  boolean progress;

  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @Override
  public void run() {
    spec.commandLine().usage(spec.commandLine().getOut());
  }

  public static void main(String[] args) {
    // the CUDA emulator, when selected, must set up Bytedeco's native cache before anything loads
    // it
    org.recjpq.backend.cuda.CudaEmulator.prepare();
    System.exit(execute(args, System.out, System.err));
  }

  /** Runs the command line with the given streams and returns the exit code (for tests too). */
  public static int execute(String[] args, PrintStream out, PrintStream err) {
    Main main = new Main();
    CommandLine cmd = new CommandLine(main);
    cmd.setOverwrittenOptionsAllowed(
        true); // a repeated option: the last value wins (scripts append overrides)
    PrintWriter errWriter =
        new PrintWriter(new java.io.OutputStreamWriter(err, StandardCharsets.UTF_8), true);
    cmd.setOut(new PrintWriter(new java.io.OutputStreamWriter(out, StandardCharsets.UTF_8), true));
    cmd.setErr(errWriter);
    cmd.setExecutionStrategy(
        parseResult -> {
          boolean wanted = main.progress || (!main.quiet && System.console() != null);
          Progress.setEnabled(wanted);
          return new CommandLine.RunLast().execute(parseResult);
        });
    cmd.setParameterExceptionHandler(
        (ex, args1) -> {
          CommandLine c = ex.getCommandLine();
          errWriter.println(c.getCommandName() + ": " + ex.getMessage());
          errWriter.println(
              "Try '" + c.getCommandSpec().qualifiedName() + " --help' for usage and examples.");
          return EXIT_USAGE;
        });
    cmd.setExecutionExceptionHandler(
        (ex, c, parseResult) -> {
          Throwable t = unwrap(ex);
          if (t instanceof org.recjpq.UsageException) {
            errWriter.println("recjpq " + c.getCommandName() + ": error: " + t.getMessage());
            if (main.verbose) {
              t.printStackTrace(errWriter);
            }
            return EXIT_USAGE;
          }
          if (t instanceof RecjpqException) {
            errWriter.println("recjpq " + c.getCommandName() + ": error: " + t.getMessage());
            if (main.verbose) {
              t.printStackTrace(errWriter);
            }
            return EXIT_INPUT;
          }
          if (t instanceof OutOfMemoryError) {
            errWriter.println(
                "recjpq "
                    + c.getCommandName()
                    + ": error: out of memory ("
                    + t.getMessage()
                    + "). Give the JVM more heap, e.g. RECJPQ_JAVA_OPTS=-Xmx16g ./recjpq ...");
            return EXIT_INPUT;
          }
          errWriter.println(
              "recjpq "
                  + c.getCommandName()
                  + ": internal error: "
                  + t
                  + (main.verbose
                      ? ""
                      : " (run again with --verbose for the stack trace, and report it)"));
          if (main.verbose) {
            t.printStackTrace(errWriter);
          }
          return EXIT_INTERNAL;
        });
    try {
      return cmd.execute(args);
    } finally {
      Progress.setEnabled(false);
      errWriter.flush();
      cmd.getOut().flush();
    }
  }

  private static Throwable unwrap(Throwable t) {
    while ((t instanceof CommandLine.ExecutionException
            || t instanceof java.util.concurrent.CompletionException)
        && t.getCause() != null) {
      t = t.getCause();
    }
    return t;
  }

  /** The version from the jar manifest ("dev" when run from classes). */
  public static String version() {
    String v = Main.class.getPackage().getImplementationVersion();
    return v == null ? "dev" : v;
  }

  static final class Version implements CommandLine.IVersionProvider {
    @Override
    public String[] getVersion() {
      return new String[] {"recjpq " + version()};
    }
  }
}
