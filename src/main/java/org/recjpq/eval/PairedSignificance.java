package org.recjpq.eval;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.Reader;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.commons.csv.CSVException;
import org.apache.commons.csv.CSVFormat;
import org.apache.commons.csv.CSVParser;
import org.apache.commons.csv.CSVRecord;
import org.apache.commons.math3.distribution.NormalDistribution;
import org.apache.commons.math3.stat.inference.TTest;
import org.apache.commons.math3.stat.ranking.NaNStrategy;
import org.apache.commons.math3.stat.ranking.NaturalRanking;
import org.apache.commons.math3.stat.ranking.TiesStrategy;
import org.recjpq.RecjpqException;
import org.recjpq.data.Utf8Reader;
import org.recjpq.util.Excerpt;

/**
 * Paired significance tests between two per-user result files (written by {@link
 * EvaluationResult#writePerUser}), matched on the user column.
 *
 * <ul>
 *   <li>Paired t-test (two-sided), through Apache Commons Math.
 *   <li>Wilcoxon signed-rank test (two-sided), with Wilcoxon's treatment of zero differences
 *       (dropped) and the normal approximation with the tie correction of the variance, which
 *       per-user metrics need (many users share the value 0). Commons Math's own Wilcoxon test
 *       keeps zero differences and has no tie correction, so only its ranking and normal
 *       distribution are used. Same as SciPy's {@code wilcoxon(zero_method="wilcox",
 *       correction=False, method="approx")}.
 * </ul>
 */
public final class PairedSignificance {
  private PairedSignificance() {}

  /**
   * The outcome of comparing metric {@code metric} of run A and run B on their common users.
   *
   * @param wilcoxonStatistic min(W+, W-) over the non-zero differences
   */
  public record Result(
      String metric,
      int users,
      int onlyInA,
      int onlyInB,
      double meanA,
      double meanB,
      double tStatistic,
      double tPValue,
      int nonZeroDifferences,
      double wilcoxonStatistic,
      double wilcoxonZ,
      double wilcoxonPValue) {

    public double meanDifference() {
      return meanB - meanA;
    }
  }

  /** Reads two per-user CSV files and tests {@code metric} (a column name such as "ndcg@10"). */
  public static Result compare(Path a, Path b, String metric) {
    Map<String, Double> va = readColumn(a, metric);
    Map<String, Double> vb = readColumn(b, metric);
    List<Double> xs = new ArrayList<>();
    List<Double> ys = new ArrayList<>();
    int onlyA = 0;
    for (Map.Entry<String, Double> e : va.entrySet()) {
      Double y = vb.get(e.getKey());
      if (y == null) {
        onlyA++;
      } else {
        xs.add(e.getValue());
        ys.add(y);
      }
    }
    int onlyB = vb.size() - xs.size();
    if (xs.size() < 2) {
      throw new RecjpqException(
          a
              + " and "
              + b
              + " have "
              + xs.size()
              + " users in common; a paired test needs at least 2."
              + " Compare runs evaluated on the same users.");
    }
    return test(metric, toArray(xs), toArray(ys), onlyA, onlyB);
  }

  /** Tests paired samples {@code x} (run A) and {@code y} (run B). */
  public static Result test(String metric, double[] x, double[] y, int onlyA, int onlyB) {
    int n = x.length;
    double meanA = 0;
    double meanB = 0;
    boolean allEqual = true;
    for (int i = 0; i < n; i++) {
      meanA += x[i] / n;
      meanB += y[i] / n;
      allEqual &= x[i] == y[i];
    }
    double t;
    double tp;
    if (allEqual) {
      t = 0;
      tp = 1;
    } else {
      TTest tt = new TTest();
      t = tt.pairedT(y, x);
      tp = tt.pairedTTest(y, x);
    }
    double[] w = wilcoxon(x, y);
    return new Result(metric, n, onlyA, onlyB, meanA, meanB, t, tp, (int) w[0], w[1], w[2], w[3]);
  }

  /** {nonZero, min(W+, W-), z, two-sided p}. */
  static double[] wilcoxon(double[] x, double[] y) {
    int n = 0;
    double[] d = new double[x.length];
    for (int i = 0; i < x.length; i++) {
      double diff = y[i] - x[i];
      if (diff != 0) {
        d[n++] = diff;
      }
    }
    if (n == 0) {
      return new double[] {0, 0, 0, 1};
    }
    double[] abs = new double[n];
    for (int i = 0; i < n; i++) {
      abs[i] = Math.abs(d[i]);
    }
    double[] ranks = new NaturalRanking(NaNStrategy.FAILED, TiesStrategy.AVERAGE).rank(abs);
    double wPlus = 0;
    for (int i = 0; i < n; i++) {
      if (d[i] > 0) {
        wPlus += ranks[i];
      }
    }
    double total = n * (n + 1.0) / 2;
    double wMinus = total - wPlus;
    double mean = total / 2;
    double[] sorted = abs.clone();
    java.util.Arrays.sort(sorted);
    double tieTerm = 0;
    for (int i = 0; i < n; ) {
      int j = i;
      while (j < n && sorted[j] == sorted[i]) {
        j++;
      }
      double tcount = j - i;
      tieTerm += tcount * tcount * tcount - tcount;
      i = j;
    }
    double var = n * (n + 1.0) * (2 * n + 1.0) / 24 - tieTerm / 48;
    double stat = Math.min(wPlus, wMinus);
    double z = var > 0 ? (stat - mean) / Math.sqrt(var) : 0;
    double p = var > 0 ? 2 * new NormalDistribution().cumulativeProbability(-Math.abs(z)) : 1;
    return new double[] {n, stat, z, Math.min(1, p)};
  }

  /**
   * The {@code metric} column of a per-user file, by user. Read strictly: UTF-8 (a bad byte is an
   * error naming its line and offset), a header with a 'user' column and the metric's, one row per
   * user with a finite number in the metric's column; a message quotes at most an excerpt of the
   * file.
   */
  private static Map<String, Double> readColumn(Path path, String metric) {
    if (!Files.isRegularFile(path)) {
      throw new RecjpqException("Cannot read " + path + ": no such file.");
    }
    Map<String, Double> values = new LinkedHashMap<>();
    CSVFormat format = CSVFormat.DEFAULT.builder().setHeader().setSkipHeaderRecord(true).get();
    try (Reader r = new BufferedReader(new Utf8Reader(Files.newInputStream(path)), 1 << 16);
        CSVParser p = CSVParser.builder().setReader(r).setFormat(format).get()) {
      Map<String, Integer> header = p.getHeaderMap();
      if (header == null || !header.containsKey("user")) {
        throw new RecjpqException(
            path
                + ":1: expected a per-user results header starting with 'user' (written by"
                + " 'recjpq evaluate --per-user FILE'), found "
                + (header == null
                    ? "none"
                    : "'" + Excerpt.of(String.join(",", header.keySet())) + "'")
                + ".");
      }
      Integer col = header.get(metric);
      if (col == null) {
        throw new RecjpqException(
            path
                + ":1: no column '"
                + Excerpt.of(metric)
                + "'; the file has '"
                + Excerpt.of(String.join(",", header.keySet()))
                + "'.");
      }
      int needed = Math.max(col, header.get("user")) + 1;
      for (CSVRecord rec : p) {
        long line = rec.getRecordNumber() + 1;
        if (rec.size() < needed) {
          throw new RecjpqException(
              path
                  + ":"
                  + line
                  + ": expected "
                  + header.size()
                  + " fields, found "
                  + rec.size()
                  + ".");
        }
        String user = rec.get("user");
        String text = rec.get(col);
        double v;
        try {
          v = Double.parseDouble(text);
        } catch (NumberFormatException e) {
          v = Double.NaN;
        }
        if (!Double.isFinite(v)) {
          throw new RecjpqException(
              path
                  + ":"
                  + line
                  + ": expected a finite number in column '"
                  + Excerpt.of(metric)
                  + "', found '"
                  + Excerpt.of(text)
                  + "'.");
        }
        if (values.put(user, v) != null) {
          throw new RecjpqException(
              path + ":" + line + ": user '" + Excerpt.of(user) + "' appears twice.");
        }
      }
    } catch (IOException
        | UncheckedIOException
        | IllegalArgumentException
        | IllegalStateException e) {
      for (Throwable t = e; t != null; t = t.getCause() == t ? null : t.getCause()) {
        if (t instanceof Utf8Reader.Malformed m) {
          throw new RecjpqException(
              path + ":" + m.line() + ": " + m.getMessage() + "; the file must be UTF-8 text.", e);
        }
      }
      Throwable root = e;
      while (root.getCause() != null && root.getCause() != root) {
        root = root.getCause();
      }
      throw new RecjpqException(
          (e instanceof IOException && !(e instanceof CSVException)
                  ? "Cannot read " + path
                  : path + ": malformed CSV")
              + ": "
              + Excerpt.of(root.getMessage()),
          e);
    }
    if (values.isEmpty()) {
      throw new RecjpqException(path + " has no per-user rows.");
    }
    return values;
  }

  private static double[] toArray(List<Double> v) {
    double[] a = new double[v.size()];
    for (int i = 0; i < a.length; i++) {
      a[i] = v.get(i);
    }
    return a;
  }
}
