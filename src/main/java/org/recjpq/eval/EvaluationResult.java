package org.recjpq.eval;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.file.Path;
import java.util.Locale;
import org.recjpq.data.LeaveOneOut.Phase;
import org.recjpq.data.SequenceDataset;
import org.recjpq.io.AtomicFiles;

/**
 * What an evaluation measured: every user's exact target rank, and the means of the metrics. Users,
 * targets and ranks are parallel arrays (internal ids, 1-based ranks).
 */
public final class EvaluationResult {
  private final String model;
  private final Phase phase;
  private final boolean filterSeen;
  private final int[] ks;
  private final int numItems;
  private final int[] users;
  private final int[] targets;
  private final int[] ranks;
  private final double seconds;

  EvaluationResult(
      String model,
      Phase phase,
      boolean filterSeen,
      int[] ks,
      int numItems,
      int[] users,
      int[] targets,
      int[] ranks,
      double seconds) {
    this.model = model;
    this.phase = phase;
    this.filterSeen = filterSeen;
    this.ks = ks.clone();
    this.numItems = numItems;
    this.users = users;
    this.targets = targets;
    this.ranks = ranks;
    this.seconds = seconds;
  }

  public String model() {
    return model;
  }

  public Phase phase() {
    return phase;
  }

  public boolean filterSeen() {
    return filterSeen;
  }

  /** The cut-offs evaluated, ascending. */
  public int[] ks() {
    return ks.clone();
  }

  /** Number of users evaluated. */
  public int users() {
    return users.length;
  }

  /** The 1-based rank of user number {@code i}'s target. */
  public int rank(int i) {
    return ranks[i];
  }

  /** Internal id of user number {@code i}. */
  public int user(int i) {
    return users[i];
  }

  /** Wall-clock seconds the evaluation took. */
  public double seconds() {
    return seconds;
  }

  public double ndcg(int k) {
    double s = 0;
    for (int r : ranks) {
      s += Metrics.ndcg(r, k);
    }
    return s / ranks.length;
  }

  public double recall(int k) {
    double s = 0;
    for (int r : ranks) {
      s += Metrics.recall(r, k);
    }
    return s / ranks.length;
  }

  public double mrr() {
    double s = 0;
    for (int r : ranks) {
      s += Metrics.reciprocalRank(r);
    }
    return s / ranks.length;
  }

  /**
   * The summary as JSON: model, phase, users, items, filter_seen, ndcg@K, recall@K, mrr, seconds.
   */
  public ObjectNode toJson() {
    ObjectNode o = new ObjectMapper().createObjectNode();
    o.put("model", model);
    o.put("phase", phase.name().toLowerCase(Locale.ROOT));
    o.put("users", users.length);
    o.put("items", numItems);
    o.put("filter_seen", filterSeen);
    for (int k : ks) {
      o.put("ndcg@" + k, ndcg(k));
    }
    for (int k : ks) {
      o.put("recall@" + k, recall(k));
    }
    o.put("mrr", mrr());
    o.put("seconds", Math.round(seconds * 1000) / 1000.0);
    return o;
  }

  /** Metric column names in the order of {@link #toJson()} and the per-user CSV. */
  public String[] metricNames() {
    String[] names = new String[2 * ks.length + 1];
    for (int i = 0; i < ks.length; i++) {
      names[i] = "ndcg@" + ks[i];
      names[ks.length + i] = "recall@" + ks[i];
    }
    names[2 * ks.length] = "mrr";
    return names;
  }

  /** The metric values of {@link #metricNames()}, in order. */
  public double[] metricValues() {
    double[] v = new double[2 * ks.length + 1];
    for (int i = 0; i < ks.length; i++) {
      v[i] = ndcg(ks[i]);
      v[ks.length + i] = recall(ks[i]);
    }
    v[2 * ks.length] = mrr();
    return v;
  }

  /**
   * Writes one CSV row per user (atomically): {@code user,target,rank,ndcg@K...,recall@K...,rr},
   * with external ids, for paired significance tests ({@link PairedSignificance}).
   */
  public void writePerUser(Path path, SequenceDataset ds) {
    AtomicFiles.writeText(
        path,
        out -> {
          StringBuilder h = new StringBuilder("user,target,rank");
          for (int k : ks) {
            h.append(",ndcg@").append(k);
          }
          for (int k : ks) {
            h.append(",recall@").append(k);
          }
          out.write(h.append(",rr\n").toString());
          StringBuilder line = new StringBuilder();
          for (int i = 0; i < users.length; i++) {
            line.setLength(0);
            line.append(csv(ds.users().externalId(users[i])))
                .append(',')
                .append(csv(ds.items().externalId(targets[i])))
                .append(',')
                .append(ranks[i]);
            for (int k : ks) {
              line.append(',').append(Metrics.ndcg(ranks[i], k));
            }
            for (int k : ks) {
              line.append(',').append((int) Metrics.recall(ranks[i], k));
            }
            line.append(',').append(Metrics.reciprocalRank(ranks[i])).append('\n');
            out.write(line.toString());
          }
        });
  }

  private static String csv(String s) {
    if (s.indexOf(',') < 0 && s.indexOf('"') < 0 && s.indexOf('\n') < 0) {
      return s;
    }
    return '"' + s.replace("\"", "\"\"") + '"';
  }

  @Override
  public String toString() {
    return toJson().toString();
  }
}
