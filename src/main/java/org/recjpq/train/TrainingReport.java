package org.recjpq.train;

import java.awt.BasicStroke;
import java.awt.Color;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import org.jfree.chart.ChartFactory;
import org.jfree.chart.ChartUtils;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.plot.PlotOrientation;
import org.jfree.chart.plot.XYPlot;
import org.jfree.data.xy.XYSeries;
import org.jfree.data.xy.XYSeriesCollection;
import org.recjpq.RecjpqException;
import org.recjpq.io.AtomicFiles;

/**
 * The report of a training run, written into a folder: {@code curves.csv} (one row per epoch),
 * {@code loss.png} and {@code validation_ndcg10.png} (JFreeChart, headless), and
 * {@code summary.md} (configuration and final table).
 */
public final class TrainingReport {
  private TrainingReport() {}

  /** Writes the curves and the plots; {@code summary} is the markdown written as summary.md. */
  public static void write(Path dir, List<Trainer.Record> history, String summary) {
    System.setProperty("java.awt.headless", "true");
    try {
      Files.createDirectories(dir);
    } catch (IOException e) {
      throw new RecjpqException("Cannot create the report folder " + dir + ": " + e.getMessage(), e);
    }
    AtomicFiles.writeText(dir.resolve("curves.csv"), out -> {
      out.write("epoch,step,train_loss,validation_ndcg10,seconds,sequences_per_second\n");
      for (Trainer.Record r : history) {
        out.write(String.format(Locale.ROOT, "%d,%d,%.6f,%s,%.3f,%.1f%n", r.epoch(), r.step(), r.trainLoss(),
            Double.isNaN(r.validationNdcg()) ? "" : String.format(Locale.ROOT, "%.6f", r.validationNdcg()),
            r.seconds(), r.sequencesPerSecond()));
      }
    });
    XYSeries loss = new XYSeries("training loss");
    XYSeries ndcg = new XYSeries("validation NDCG@10");
    for (Trainer.Record r : history) {
      loss.add(r.epoch(), r.trainLoss());
      if (!Double.isNaN(r.validationNdcg())) {
        ndcg.add(r.epoch(), r.validationNdcg());
      }
    }
    plot(dir.resolve("loss.png"), "Training loss", "loss", loss);
    plot(dir.resolve("validation_ndcg10.png"), "Validation NDCG@10", "NDCG@10", ndcg);
    AtomicFiles.writeText(dir.resolve("summary.md"), out -> out.write(summary));
  }

  private static void plot(Path file, String title, String yLabel, XYSeries series) {
    JFreeChart chart = ChartFactory.createXYLineChart(title, "epoch", yLabel, new XYSeriesCollection(series),
        PlotOrientation.VERTICAL, false, false, false);
    XYPlot plot = chart.getXYPlot();
    plot.setBackgroundPaint(Color.WHITE);
    plot.setRangeGridlinePaint(Color.LIGHT_GRAY);
    plot.setDomainGridlinePaint(Color.LIGHT_GRAY);
    plot.getRenderer().setSeriesPaint(0, new Color(0x1f77b4));
    plot.getRenderer().setSeriesStroke(0, new BasicStroke(2f));
    try {
      Path temp = Files.createTempFile(file.toAbsolutePath().getParent(), "." + file.getFileName(), ".tmp");
      ChartUtils.saveChartAsPNG(temp.toFile(), chart, 800, 450);
      AtomicFiles.moveAtomically(temp, file);
    } catch (IOException e) {
      throw new RecjpqException("Cannot write " + file + ": " + e.getMessage(), e);
    }
  }
}
