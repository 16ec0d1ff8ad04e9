package org.recjpq.tune;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;
import java.util.function.IntFunction;

/**
 * Synchronous successive halving (one bracket of Hyperband, Li et al. 2018): {@code n}
 * configurations train for a few epochs, the best 1/η of them go on to η times as many epochs, and
 * so on up to the full length. Deterministic: the same trials give the same ranking (ties go to the
 * lower trial index), whatever the order of their computation.
 */
public final class SuccessiveHalving {
  private SuccessiveHalving() {}

  /** A configuration in training. */
  public interface Trial {
    /**
     * Trains on to {@code epochs} epochs in all (never fewer than before) and returns the score to
     * rank by, higher is better (validation NDCG@10 of the best weights so far).
     */
    double advanceTo(int epochs);
  }

  /**
   * How many configurations start, how many epochs the rungs have, and how many go on.
   *
   * @param configs configurations of the first rung
   * @param eta 1/η of a rung goes on to η times the epochs
   * @param minEpochs epochs of the first rung
   * @param maxEpochs epochs of the last rung (a configuration's whole training)
   */
  public record Plan(int configs, int eta, int minEpochs, int maxEpochs) {
    public Plan {
      if (configs < 1 || eta < 2 || minEpochs < 1 || maxEpochs < minEpochs) {
        throw new IllegalArgumentException(
            "a plan needs configs >= 1, eta >= 2 and 1 <= min epochs <= max epochs: "
                + configs
                + ", "
                + eta
                + ", "
                + minEpochs
                + ", "
                + maxEpochs);
      }
    }

    /** Epochs in all at the end of each rung: min, min·η, min·η², ..., then max. */
    public int[] rungEpochs() {
      List<Integer> r = new ArrayList<>();
      for (long e = minEpochs; e < maxEpochs; e *= eta) {
        r.add((int) e);
      }
      r.add(maxEpochs);
      return r.stream().mapToInt(Integer::intValue).toArray();
    }

    /** Configurations in each rung: configs, then ⌊·/η⌋ (at least 1) per rung. */
    public int[] rungSizes() {
      int[] epochs = rungEpochs();
      int[] n = new int[epochs.length];
      n[0] = configs;
      for (int k = 1; k < n.length; k++) {
        n[k] = Math.max(1, n[k - 1] / eta);
      }
      return n;
    }

    /** Epochs trained over all configurations and rungs. */
    public long epochs() {
      int[] e = rungEpochs();
      int[] n = rungSizes();
      long total = 0;
      for (int k = 0; k < e.length; k++) {
        total += (long) n[k] * (e[k] - (k == 0 ? 0 : e[k - 1]));
      }
      return total;
    }

    /**
     * Configuration counts a fitted plan may have, so that small differences of speed give the same
     * plan.
     */
    private static final int[] COUNTS = {3, 4, 6, 9, 12, 18, 27, 36, 54, 81, 108, 162, 243};

    /**
     * The plan with the most configurations (from a coarse ladder) whose epochs fit {@code
     * epochBudget}; where not even {@code eta} configurations fit, fewer epochs for each.
     */
    public static Plan fit(double epochBudget, int eta, int minEpochs, int maxEpochs) {
      return fit(epochBudget, eta, minEpochs, maxEpochs, max -> 0);
    }

    /**
     * {@link #fit(double, int, int, int)} where each configuration also costs {@code
     * setup.applyAsDouble(maxEpochs)} epochs before its first rung (a dense twin trained first, as
     * long as the plan's full length asks for).
     */
    public static Plan fit(
        double epochBudget,
        int eta,
        int minEpochs,
        int maxEpochs,
        java.util.function.IntToDoubleFunction setup) {
      for (int max = maxEpochs; max >= minEpochs; max--) {
        Plan best = null;
        for (int n : COUNTS) {
          if (n < eta) {
            continue;
          }
          Plan p = new Plan(n, eta, minEpochs, max);
          if (p.epochs() + n * setup.applyAsDouble(max) <= epochBudget) {
            best = p;
          }
        }
        if (best != null) {
          return best;
        }
      }
      double each = minEpochs + setup.applyAsDouble(minEpochs);
      return new Plan(
          Math.max(1, Math.min(eta, (int) Math.floor(epochBudget / each))),
          eta,
          minEpochs,
          minEpochs);
    }
  }

  /** One trial's score at the end of one rung. */
  public record Result(int trial, int rung, int epochs, double score, double seconds) {}

  /** What {@link #run} found: every rung's results, and the winner. */
  public record Outcome(
      List<Result> results, int best, double bestScore, int rungsRun, boolean stoppedByBudget) {}

  /**
   * Runs the plan: trial {@code i} comes from {@code trials.apply(i)} (called once per trial, in
   * order); {@code listener} sees each result as it comes; before each rung after the first, {@code
   * overBudget} may stop the search (the best of the last complete rung wins).
   */
  public static Outcome run(
      Plan plan, IntFunction<Trial> trials, Consumer<Result> listener, BooleanSupplier overBudget) {
    int[] epochs = plan.rungEpochs();
    int[] sizes = plan.rungSizes();
    List<Trial> all = new ArrayList<>();
    List<Integer> alive = new ArrayList<>();
    for (int i = 0; i < plan.configs(); i++) {
      alive.add(i);
    }
    List<Result> results = new ArrayList<>();
    List<Result> last = List.of();
    boolean stopped = false;
    int rung = 0;
    for (; rung < epochs.length; rung++) {
      if (rung > 0 && overBudget.getAsBoolean()) {
        stopped = true;
        break;
      }
      List<Result> here = new ArrayList<>();
      for (int i : alive) {
        while (all.size() <= i) {
          all.add(trials.apply(all.size()));
        }
        long t0 = System.nanoTime();
        double score = all.get(i).advanceTo(epochs[rung]);
        Result r = new Result(i, rung, epochs[rung], score, (System.nanoTime() - t0) / 1e9);
        here.add(r);
        results.add(r);
        listener.accept(r);
      }
      last = ranked(here);
      if (rung + 1 < epochs.length) {
        alive = new ArrayList<>();
        for (int k = 0; k < Math.min(sizes[rung + 1], last.size()); k++) {
          alive.add(last.get(k).trial());
        }
        alive.sort(Comparator.naturalOrder());
      }
    }
    Result top = last.get(0);
    return new Outcome(results, top.trial(), top.score(), rung, stopped);
  }

  /** Best first; a NaN score ranks last; ties go to the lower trial index. */
  static List<Result> ranked(List<Result> rung) {
    List<Result> r = new ArrayList<>(rung);
    r.sort(
        Comparator.comparingDouble(
                (Result x) -> Double.isNaN(x.score()) ? Double.NEGATIVE_INFINITY : x.score())
            .reversed()
            .thenComparingInt(Result::trial));
    return r;
  }
}
