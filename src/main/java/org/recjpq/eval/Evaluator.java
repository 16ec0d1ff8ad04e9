package org.recjpq.eval;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.recjpq.RecjpqException;
import org.recjpq.data.LeaveOneOut.Phase;
import org.recjpq.data.SequenceDataset;
import org.recjpq.util.Progress;

/**
 * Exact full-catalogue evaluation (docs/method.md §7).
 *
 * <p>For each user the target's rank is 1 + the number of candidate items that score higher, or
 * score the same and have a lower internal id (deterministic ties). Candidates are all items, minus
 * the user's history other than the target when filtering seen items. No top-K list is needed, so
 * the rank is exact however deep it is, and MRR is exact too.
 *
 * <p>Users are processed in batches (in parallel), and the catalogue is streamed in tiles of fixed
 * bounds {@code [k·tile, (k+1)·tile)}: a batch holds {@code batch × tile} scores at a time, never
 * {@code users × items}. A target's score is read from the tile that contains it, scored with the
 * same bounds as in the counting pass, so the target is compared with exactly the float the model
 * gives it everywhere else (a separately computed score could differ in the last bit, e.g. when a
 * GEMM sums in another order). With one tile that is a single pass; with several, the tiles that
 * hold a target are scored once more up front.
 */
public final class Evaluator {
  private Evaluator() {}

  /** Evaluates {@code scorer} on all evaluable users of {@code phase}. */
  public static EvaluationResult evaluate(
      SequenceDataset ds, Scorer scorer, Phase phase, EvalOptions options) {
    return evaluate(
        ds, scorer, phase, org.recjpq.data.LeaveOneOut.evaluableUsers(ds, phase), options);
  }

  /** Evaluates {@code scorer} on {@code users} (each must be evaluable in {@code phase}). */
  public static EvaluationResult evaluate(
      SequenceDataset ds, Scorer scorer, Phase phase, int[] users, EvalOptions options) {
    if (scorer.numItems() != ds.numItems()) {
      throw new RecjpqException(
          "The model '"
              + scorer.name()
              + "' ranks "
              + scorer.numItems()
              + " items but the dataset has "
              + ds.numItems()
              + "; it was trained on another dataset.");
    }
    for (int u : users) {
      if (u < 0 || u >= ds.numUsers() || !phase.evaluable(ds, u)) {
        throw new IllegalArgumentException("user " + u + " cannot be evaluated in phase " + phase);
      }
    }
    if (users.length == 0) {
      throw new RecjpqException(
          "No user can be evaluated: every user is too short for the " + phase + " phase.");
    }
    int tile =
        options.tileSize() > 0 ? options.tileSize() : Math.max(1, scorer.preferredTileSize());
    tile = Math.min(tile, ds.numItems());
    int[] ranks = new int[users.length];
    int[] targets = new int[users.length];
    long start = System.nanoTime();
    int batches = (users.length + options.batchSize() - 1) / options.batchSize();
    ExecutorService pool =
        Executors.newFixedThreadPool(
            Math.min(options.threads(), batches),
            r -> {
              Thread t = new Thread(r, "recjpq-eval");
              t.setDaemon(true);
              return t;
            });
    try (Progress progress = Progress.bar("evaluate " + scorer.name(), users.length, "users")) {
      List<Future<?>> futures = new ArrayList<>();
      for (int b = 0; b < batches; b++) {
        int from = b * options.batchSize();
        int to = Math.min(users.length, from + options.batchSize());
        int tileSize = tile;
        futures.add(
            pool.submit(
                () -> {
                  evaluateBatch(
                      ds,
                      scorer,
                      phase,
                      users,
                      from,
                      to,
                      tileSize,
                      options.filterSeen(),
                      ranks,
                      targets);
                  progress.step(to - from);
                }));
      }
      for (Future<?> f : futures) {
        f.get();
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new RecjpqException("Evaluation was interrupted.", e);
    } catch (ExecutionException e) {
      Throwable cause = e.getCause();
      if (cause instanceof RuntimeException re) {
        throw re;
      }
      if (cause instanceof Error err) {
        throw err;
      }
      throw new RecjpqException("Evaluation failed: " + cause, cause);
    } finally {
      pool.shutdownNow();
    }
    double seconds = (System.nanoTime() - start) / 1e9;
    return new EvaluationResult(
        scorer.name(),
        phase,
        options.filterSeen(),
        options.ks(),
        ds.numItems(),
        users.clone(),
        targets,
        ranks,
        seconds);
  }

  private static void evaluateBatch(
      SequenceDataset ds,
      Scorer scorer,
      Phase phase,
      int[] users,
      int from,
      int to,
      int tile,
      boolean filterSeen,
      int[] ranksOut,
      int[] targetsOut) {
    int rows = to - from;
    int n = ds.numItems();
    int[] starts = new int[rows];
    int[] lengths = new int[rows];
    int[] target = new int[rows];
    int[][] seen = new int[rows][];
    for (int r = 0; r < rows; r++) {
      int u = users[from + r];
      starts[r] = ds.offset(u);
      lengths[r] = phase.historyLength(ds, u);
      target[r] = phase.target(ds, u);
      seen[r] =
          filterSeen
              ? seenExceptTarget(ds.flatItems(), starts[r], lengths[r], target[r])
              : new int[0];
    }
    Scorer.ScoreBatch batch = scorer.batch(new HistoryBatch(ds.flatItems(), starts, lengths));
    float[] buf = new float[rows * tile];
    float[] targetScore = new float[rows];
    int numTiles = (n + tile - 1) / tile;
    if (numTiles > 1) {
      int[] targetTiles = Arrays.stream(target).map(t -> t / tile).distinct().sorted().toArray();
      for (int k : targetTiles) {
        int lo = k * tile;
        int hi = Math.min(n, lo + tile);
        batch.score(lo, hi, buf);
        readTargetScores(buf, hi - lo, lo, hi, target, targetScore);
      }
    }
    long[] above = new long[rows];
    int[] seenPos = new int[rows];
    for (int k = 0; k < numTiles; k++) {
      int lo = k * tile;
      int hi = Math.min(n, lo + tile);
      int w = hi - lo;
      batch.score(lo, hi, buf);
      if (numTiles == 1) {
        readTargetScores(buf, w, lo, hi, target, targetScore);
      }
      for (int r = 0; r < rows; r++) {
        float s = targetScore[r];
        int t = target[r];
        int base = r * w - lo;
        // v beats the target when v > s, or v == s and i < t: so v >= s below t and v > s from t
        // on. Two branch-free counting loops (a data-dependent branch mispredicts on every other
        // item of a poorly ranked target).
        int split = Math.min(Math.max(t, lo), hi);
        long c = 0;
        for (int i = lo; i < split; i++) {
          c += buf[base + i] >= s ? 1 : 0;
        }
        for (int i = split; i < hi; i++) {
          c += buf[base + i] > s ? 1 : 0;
        }
        int[] sr = seen[r];
        int p = seenPos[r];
        for (; p < sr.length && sr[p] < hi; p++) {
          float v = buf[base + sr[p]];
          if (v > s || (v == s && sr[p] < t)) {
            c--;
          }
        }
        seenPos[r] = p;
        above[r] += c;
      }
    }
    for (int r = 0; r < rows; r++) {
      long candidates = n - seen[r].length;
      // A NaN target score would otherwise beat everything: rank it last instead.
      long rank = Float.isNaN(targetScore[r]) ? candidates : above[r] + 1;
      ranksOut[from + r] = (int) rank;
      targetsOut[from + r] = target[r];
    }
  }

  private static void readTargetScores(
      float[] buf, int w, int lo, int hi, int[] target, float[] out) {
    for (int r = 0; r < target.length; r++) {
      if (target[r] >= lo && target[r] < hi) {
        out[r] = buf[r * w + target[r] - lo];
      }
    }
  }

  /** The distinct history items other than the target, ascending. */
  static int[] seenExceptTarget(int[] flat, int start, int length, int target) {
    int[] s = Arrays.copyOfRange(flat, start, start + length);
    Arrays.sort(s);
    int m = 0;
    for (int i = 0; i < s.length; i++) {
      if (s[i] != target && (m == 0 || s[m - 1] != s[i])) {
        s[m++] = s[i];
      }
    }
    return Arrays.copyOf(s, m);
  }
}
