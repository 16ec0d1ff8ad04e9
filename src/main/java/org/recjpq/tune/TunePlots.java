package org.recjpq.tune;

import java.awt.BasicStroke;
import java.awt.Color;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.jfree.chart.ChartFactory;
import org.jfree.chart.ChartUtils;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.plot.PlotOrientation;
import org.jfree.chart.plot.XYPlot;
import org.jfree.chart.renderer.xy.XYItemRenderer;
import org.jfree.data.xy.XYSeries;
import org.jfree.data.xy.XYSeriesCollection;
import org.recjpq.RecjpqException;
import org.recjpq.io.AtomicFiles;
import org.recjpq.train.Trainer;

/** The plot of a search: validation NDCG@10 by epoch, one line per trial, the best one bold. */
public final class TunePlots {
  private TunePlots() {}

  /**
   * Writes {@code file} (PNG) atomically; needs the java.desktop module (a {@link LinkageError}
   * without it).
   */
  public static void write(Path file, Map<Integer, List<Trainer.Record>> curves, int best) {
    System.setProperty("java.awt.headless", "true");
    XYSeriesCollection data = new XYSeriesCollection();
    int bestIndex = -1;
    for (Map.Entry<Integer, List<Trainer.Record>> e : curves.entrySet()) {
      XYSeries s = new XYSeries("trial " + e.getKey());
      for (Trainer.Record r : e.getValue()) {
        if (!Double.isNaN(r.validationNdcg())) {
          s.add(r.epoch(), r.validationNdcg());
        }
      }
      if (e.getKey() == best) {
        bestIndex = data.getSeriesCount();
      }
      data.addSeries(s);
    }
    JFreeChart chart =
        ChartFactory.createXYLineChart(
            "Validation NDCG@10 of each trial (best in red)",
            "epoch",
            "NDCG@10",
            data,
            PlotOrientation.VERTICAL,
            false,
            false,
            false);
    XYPlot plot = chart.getXYPlot();
    plot.setBackgroundPaint(Color.WHITE);
    plot.setRangeGridlinePaint(Color.LIGHT_GRAY);
    plot.setDomainGridlinePaint(Color.LIGHT_GRAY);
    XYItemRenderer renderer = plot.getRenderer();
    for (int i = 0; i < data.getSeriesCount(); i++) {
      renderer.setSeriesPaint(i, i == bestIndex ? new Color(0xd62728) : new Color(0x1f77b4, false));
      renderer.setSeriesStroke(i, new BasicStroke(i == bestIndex ? 3f : 1f));
    }
    try {
      Path temp = AtomicFiles.newTemp(file);
      try {
        ChartUtils.saveChartAsPNG(temp.toFile(), chart, 900, 500);
        AtomicFiles.moveAtomically(temp, file);
      } finally {
        AtomicFiles.deleteQuietly(temp);
      }
    } catch (IOException e) {
      throw new RecjpqException("Cannot write " + file + ": " + e.getMessage(), e);
    }
  }
}
