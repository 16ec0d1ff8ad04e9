package org.recjpq.train;

import java.awt.BasicStroke;
import java.awt.Color;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
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
 * The report's PNG plots (JFreeChart, headless). Kept apart from {@link TrainingReport} so that a
 * Java runtime without the {@code java.desktop} module (the GPU bundle's trimmed image) fails only
 * here, with a {@link LinkageError} the report turns into a warning.
 */
final class TrainingPlots {
  private TrainingPlots() {}

  static void write(Path dir, List<Trainer.Record> history) {
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
  }

  private static void plot(Path file, String title, String yLabel, XYSeries series) {
    JFreeChart chart =
        ChartFactory.createXYLineChart(
            title,
            "epoch",
            yLabel,
            new XYSeriesCollection(series),
            PlotOrientation.VERTICAL,
            false,
            false,
            false);
    XYPlot plot = chart.getXYPlot();
    plot.setBackgroundPaint(Color.WHITE);
    plot.setRangeGridlinePaint(Color.LIGHT_GRAY);
    plot.setDomainGridlinePaint(Color.LIGHT_GRAY);
    plot.getRenderer().setSeriesPaint(0, new Color(0x1f77b4));
    plot.getRenderer().setSeriesStroke(0, new BasicStroke(2f));
    try {
      Path temp = AtomicFiles.newTemp(file);
      try {
        ChartUtils.saveChartAsPNG(temp.toFile(), chart, 800, 450);
        AtomicFiles.moveAtomically(temp, file);
      } finally {
        AtomicFiles.deleteQuietly(temp); // nothing left after the move
      }
    } catch (IOException e) {
      throw new RecjpqException("Cannot write " + file + ": " + e.getMessage(), e);
    }
  }
}
