package org.recjpq.train;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import org.recjpq.RecjpqException;
import org.recjpq.io.AtomicFiles;

/**
 * The report of a training run, written into a folder: {@code curves.csv} (one row per epoch),
 * {@code loss.png} and {@code validation_ndcg10.png} (JFreeChart, headless), and {@code summary.md}
 * (configuration and final table).
 */
public final class TrainingReport {
  private TrainingReport() {}

  /** Writes the curves and the plots; {@code summary} is the markdown written as summary.md. */
  public static void write(Path dir, List<Trainer.Record> history, String summary) {
    System.setProperty("java.awt.headless", "true");
    try {
      Files.createDirectories(dir);
    } catch (IOException e) {
      throw new RecjpqException(
          "Cannot create the report folder " + dir + ": " + e.getMessage(), e);
    }
    AtomicFiles.writeText(
        dir.resolve("curves.csv"),
        out -> {
          out.write("epoch,step,train_loss,validation_ndcg10,seconds,sequences_per_second\n");
          for (Trainer.Record r : history) {
            out.write(
                String.format(
                    Locale.ROOT,
                    "%d,%d,%.6f,%s,%.3f,%.1f%n",
                    r.epoch(),
                    r.step(),
                    r.trainLoss(),
                    Double.isNaN(r.validationNdcg())
                        ? ""
                        : String.format(Locale.ROOT, "%.6f", r.validationNdcg()),
                    r.seconds(),
                    r.sequencesPerSecond()));
          }
        });
    try {
      TrainingPlots.write(dir, history);
    } catch (
        LinkageError
            e) { // a runtime without java.desktop (e.g. a trimmed jlink image): curves only
      System.err.println("recjpq: the plots were skipped (" + e + "); curves.csv has the curves.");
    }
    AtomicFiles.writeText(dir.resolve("summary.md"), out -> out.write(summary));
  }
}
