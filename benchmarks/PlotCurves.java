import java.awt.BasicStroke;
import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.jfree.chart.ChartFactory;
import org.jfree.chart.ChartUtils;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.plot.PlotOrientation;
import org.jfree.chart.plot.XYPlot;
import org.jfree.data.xy.XYSeries;
import org.jfree.data.xy.XYSeriesCollection;

/**
 * Training curves of several runs side by side: the training loss and the validation NDCG@10 by
 * epoch, from the curves.csv of each run's report folder, as two PNGs. Run with the jar's class path
 * (from the repository root, after ./recjpq has built it):
 *
 * <pre>
 * java -Djava.awt.headless=true -cp "target/recjpq.jar:target/lib/*" benchmarks/PlotCurves.java OUT_PREFIX \
 *     "dense d64=runs/dense.ckpt.report/curves.csv" "RecJPQ d64=runs/jpq.ckpt.report/curves.csv"
 * </pre>
 *
 * writes OUT_PREFIX-loss.png and OUT_PREFIX-ndcg.png.
 */
public class PlotCurves {
  public static void main(String[] args) throws Exception {
    if (args.length < 2) {
      System.err.println("usage: PlotCurves OUT_PREFIX LABEL=curves.csv...");
      System.exit(2);
    }
    XYSeriesCollection loss = new XYSeriesCollection();
    XYSeriesCollection ndcg = new XYSeriesCollection();
    for (int a = 1; a < args.length; a++) {
      int eq = args[a].lastIndexOf('=');
      String label = args[a].substring(0, eq);
      List<String> lines = Files.readAllLines(Path.of(args[a].substring(eq + 1)));
      XYSeries l = new XYSeries(label);
      XYSeries n = new XYSeries(label);
      for (String line : lines.subList(1, lines.size())) { // epoch,step,train_loss,validation_ndcg10,...
        String[] f = line.split(",", -1);
        int epoch = Integer.parseInt(f[0]);
        l.add(epoch, Double.parseDouble(f[2]));
        if (!f[3].isEmpty()) {
          n.add(epoch, Double.parseDouble(f[3]));
        }
      }
      loss.addSeries(l);
      ndcg.addSeries(n);
    }
    save(args[0] + "-loss.png", "Training loss (full softmax CE)", "loss", loss);
    save(args[0] + "-ndcg.png", "Validation NDCG@10", "NDCG@10", ndcg);
  }

  private static void save(String file, String title, String y, XYSeriesCollection data) throws Exception {
    JFreeChart chart =
        ChartFactory.createXYLineChart(title, "epoch", y, data, PlotOrientation.VERTICAL, true, false, false);
    XYPlot plot = chart.getXYPlot();
    plot.setBackgroundPaint(java.awt.Color.WHITE);
    plot.setRangeGridlinePaint(java.awt.Color.LIGHT_GRAY);
    for (int i = 0; i < data.getSeriesCount(); i++) {
      plot.getRenderer().setSeriesStroke(i, new BasicStroke(2f));
    }
    ChartUtils.saveChartAsPNG(new File(file), chart, 900, 500);
    System.out.println("wrote " + file);
  }
}
