package org.recjpq.backend.cpu;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeSet;
import org.recjpq.backend.cpu.CpuFullCrossEntropy.Strategy;
import org.recjpq.backend.cpu.CpuLosses.ItemTable;

/**
 * Times one full-catalogue cross-entropy call (forward + backward) of the RecJPQ look-up strategy,
 * of decode-then-GEMM and of a dense table of the same size, over rows, and prints two markdown
 * tables: the timings, and the measured crossover (the fewest rows from which decode-then-GEMM
 * stays faster than look-ups, over rows 1, 2, 4, ..., 2048) next to the cost model's ({@link
 * CpuFullCrossEntropy#choose}). Not a JUnit test:
 *
 * <pre>
 * java -cp 'target/classes:target/test-classes:target/lib/*' \
 *     org.recjpq.backend.cpu.FullCeCrossover [rounds] [budget-seconds] [config...]
 * </pre>
 *
 * A config is {@code N:d:m} (default: 3416:64:8 3416:512:8 100000:64:8 100000:512:8). The whole
 * grid is measured {@code rounds} times (default 2) and each cell keeps its best time, since other
 * tenants of a shared VM only ever slow a call down. Within a round a cell is the best of 3 to 5
 * timed calls after 2 warm-up calls (and a 4 s warm-up of every code path comes first). A cell is
 * skipped ("–") when the same strategy's time at fewer rows, scaled by rows, predicts more than the
 * budget (default 6 s) for one call.
 */
public final class FullCeCrossover {
  private static final int[] TABLE_ROWS = {1, 8, 64, 512, 25_600};
  private static final int[] SEARCH_ROWS = {1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 2048};
  private static final String[] KINDS = {"look-up", "decode-then-GEMM", "dense"};

  private FullCeCrossover() {}

  public static void main(String[] args) {
    int rounds = args.length > 0 ? Integer.parseInt(args[0]) : 2;
    double budgetMs = (args.length > 1 ? Double.parseDouble(args[1]) : 6) * 1e3;
    List<int[]> configs = new ArrayList<>();
    for (int a = 2; a < args.length; a++) {
      configs.add(Arrays.stream(args[a].split(":")).mapToInt(Integer::parseInt).toArray());
    }
    if (configs.isEmpty()) {
      configs =
          List.of(
              new int[] {3416, 64, 8},
              new int[] {3416, 512, 8},
              new int[] {100_000, 64, 8},
              new int[] {100_000, 512, 8});
    }
    CpuOps ops = new CpuOps();
    System.out.printf("threads %d, %s%n", ops.threads, Blas.status().description());
    warmUp(ops);
    TreeSet<Integer> allRows = new TreeSet<>();
    Arrays.stream(TABLE_ROWS).forEach(allRows::add);
    Arrays.stream(SEARCH_ROWS).forEach(allRows::add);
    Map<String, Double> best = new HashMap<>();
    for (int round = 0; round < rounds; round++) {
      for (int[] c : configs) {
        Bench b = new Bench(ops, c[0], c[1], c[2], allRows.last());
        for (int kind = 0; kind < 3; kind++) {
          int lastRows = 0;
          for (int rows : allRows) {
            boolean inTable = Arrays.stream(TABLE_ROWS).anyMatch(r -> r == rows);
            if (kind == 2 && !inTable) {
              continue;
            }
            Double last = best.get(key(c, lastRows, kind));
            if (lastRows > 0 && (last == null || last * rows / lastRows > budgetMs)) {
              break; // this and every larger row count would take too long
            }
            best.merge(key(c, rows, kind), b.time(rows, kind), Math::min);
            lastRows = rows;
          }
        }
      }
      System.out.printf("round %d done%n", round + 1);
    }
    printTable(configs, best);
    printCrossovers(configs, best);
  }

  private static void printTable(List<int[]> configs, Map<String, Double> best) {
    System.out.println();
    System.out.println(
        "| N | d | m | rows | look-up ms | decode-then-GEMM ms | dense ms | model picks |");
    System.out.println("|---|---|---|---|---|---|---|---|");
    for (int[] c : configs) {
      for (int rows : TABLE_ROWS) {
        System.out.printf(
            "| %,d | %d | %d | %,d | %s | %s | %s | %s |%n",
            c[0],
            c[1],
            c[2],
            rows,
            ms(best.get(key(c, rows, 0))),
            ms(best.get(key(c, rows, 1))),
            ms(best.get(key(c, rows, 2))),
            CpuFullCrossEntropy.choose(rows, c[0], c[2], c[1] / c[2]) == Strategy.LOOKUP
                ? KINDS[0]
                : KINDS[1]);
      }
    }
  }

  private static void printCrossovers(List<int[]> configs, Map<String, Double> best) {
    System.out.println();
    System.out.println(
        "| N | d | m | rows: look-up ms / decode-then-GEMM ms | measured crossover | model crossover |");
    System.out.println("|---|---|---|---|---|---|");
    for (int[] c : configs) {
      StringBuilder timings = new StringBuilder();
      int crossover = -1; // the fewest rows from which GEMM stays faster
      int last = 0;
      for (int rows : SEARCH_ROWS) {
        Double lookup = best.get(key(c, rows, 0));
        Double gemm = best.get(key(c, rows, 1));
        if (lookup == null || gemm == null) {
          break;
        }
        timings.append(
            String.format(
                "%s%d: %s / %s", timings.length() == 0 ? "" : "; ", rows, ms(lookup), ms(gemm)));
        crossover = gemm < lookup ? (crossover < 0 ? rows : crossover) : -1;
        last = rows;
      }
      String measured = crossover < 0 ? "none up to " + last : Integer.toString(crossover);
      System.out.printf(
          "| %,d | %d | %d | %s | %s | %s |%n",
          c[0], c[1], c[2], timings, measured, modelCrossover(c));
    }
  }

  /** The fewest rows from which the cost model picks decode-then-GEMM, or "never". */
  private static String modelCrossover(int[] c) {
    for (int rows = 1; rows <= 1 << 20; rows++) {
      if (CpuFullCrossEntropy.choose(rows, c[0], c[2], c[1] / c[2]) == Strategy.GEMM) {
        return Integer.toString(rows);
      }
    }
    return "never";
  }

  private static String key(int[] c, int rows, int kind) {
    return c[0] + ":" + c[1] + ":" + c[2] + ":" + rows + ":" + kind;
  }

  /** Compiles every loop of both strategies and the dense path before anything is timed. */
  private static void warmUp(CpuOps ops) {
    Bench b = new Bench(ops, 3416, 64, 8, 256);
    long until = System.nanoTime() + 4_000_000_000L;
    while (System.nanoTime() < until) {
      for (int rows : new int[] {1, 3, 256}) {
        for (int kind = 0; kind < 3; kind++) {
          b.time(rows, kind);
        }
      }
    }
  }

  private static String ms(Double t) {
    return t == null ? "–" : t < 10 ? String.format("%.2f", t) : String.format("%.0f", t);
  }

  /** Random inputs for up to {@code maxRows} rows; {@link #time} runs one strategy on a prefix. */
  private static final class Bench {
    final CpuOps ops;
    final int n;
    final CpuBuf h;
    final CpuBuf dH;
    final CpuIntBuf targets;
    final ItemTable jpq;
    final ItemTable dense;
    final CpuBuf dCodebooks;
    final CpuBuf dTable;

    Bench(CpuOps ops, int n, int d, int m, int maxRows) {
      this.ops = ops;
      this.n = n;
      Random rnd = new Random(n * 31L + d);
      h = random(rnd, (long) maxRows * d, 1);
      dH = CpuBuf.allocate((long) maxRows * d);
      int[] t = new int[maxRows];
      for (int r = 0; r < maxRows; r++) {
        t[r] = rnd.nextInt(n);
      }
      targets = CpuIntBuf.wrap(t);
      byte[] codes = new byte[n * m];
      rnd.nextBytes(codes);
      jpq = ItemTable.jpq(CpuByteBuf.wrap(codes), random(rnd, 256L * d, 0.2), m, d / m);
      dense = ItemTable.dense(random(rnd, (long) n * d, 0.2), d);
      dCodebooks = CpuBuf.allocate(256L * d);
      dTable = CpuBuf.allocate((long) n * d);
    }

    /** Best ms of one call: kind 0 look-up, 1 decode-then-GEMM, 2 dense. */
    double time(int rows, int kind) {
      double best = Double.POSITIVE_INFINITY;
      long spent = 0;
      for (int rep = 0; rep < 7 && (rep < 5 || spent < 3e9); rep++) {
        long start = System.nanoTime();
        if (kind == 2) {
          CpuFullCrossEntropy.run(ops, dH, dTable, h, targets, dense, rows, n, null, 0);
        } else {
          CpuFullCrossEntropy.run(
              ops,
              dH,
              dCodebooks,
              h,
              targets,
              jpq,
              rows,
              n,
              kind == 0 ? Strategy.LOOKUP : Strategy.GEMM,
              0);
        }
        long took = System.nanoTime() - start;
        if (rep >= 2) {
          best = Math.min(best, took / 1e6);
          spent += took;
        }
        if (rep == 0 && took > 4e9) { // one slow call is warm enough and tells enough
          return took / 1e6;
        }
      }
      return best;
    }

    private static CpuBuf random(Random rnd, long n, double scale) {
      CpuBuf b = CpuBuf.allocate(n);
      for (int i = 0; i < n; i++) {
        b.set(i, (float) ((2 * rnd.nextDouble() - 1) * scale));
      }
      return b;
    }
  }
}
