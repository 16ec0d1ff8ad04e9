package org.recjpq.backend.cpu;

import java.util.concurrent.atomic.AtomicLong;
import org.recjpq.backend.cpu.CpuFullCrossEntropy.Plan;
import org.recjpq.backend.cpu.CpuLosses.ItemTable;

/**
 * One {@link CpuFullCrossEntropy} call as both tile strategies see it. Everything the call's
 * strategy needs: h (R, D) and which of its rows are valid, dh of the valid rows (V, D), their
 * targets, and the per-row results lse and target score (V); with the per-row softmax steps both
 * strategies run, their per-thread {@link Work} arrays and the {@link Scratch} count.
 */
final class CpuFullCrossEntropyPass {
  final CpuOps ops;
  final ItemTable t;
  final CpuBuf h;
  final int[] valid; // valid row r's index in h; null when every row is valid
  final CpuBuf hBlock; // (B, D) gathered rows of h when some rows are ignored
  final CpuBuf dhv;
  final CpuBuf dTable;
  final int[] target;
  final int v;
  final int n;
  final Plan plan;
  final CpuBuf arena;
  final Scratch scratch;
  final double[] lse;
  final double[] targetScore;
  final double invV;
  float[] bias; // per-item score offsets (a heap copy), or null
  CpuBuf dBias; // their gradient (+=), or null
  private int gathered = -1; // the first valid row that hBlock holds

  CpuFullCrossEntropyPass(
      CpuOps ops,
      ItemTable t,
      CpuBuf h,
      int[] valid,
      CpuBuf hBlock,
      CpuBuf dhv,
      CpuBuf dTable,
      int[] target,
      int v,
      int n,
      Plan plan,
      CpuBuf arena,
      Scratch scratch) {
    this.ops = ops;
    this.t = t;
    this.h = h;
    this.valid = valid;
    this.hBlock = hBlock;
    this.dhv = dhv;
    this.dTable = dTable;
    this.target = target;
    this.v = v;
    this.n = n;
    this.plan = plan;
    this.arena = arena;
    this.scratch = scratch;
    this.lse = new double[v];
    this.targetScore = new double[v];
    scratch.heap(16L * v);
    this.invV = 1.0 / v;
  }

  /** h of valid rows [r0, r0 + rb) as an (rb, D) matrix (r0 a multiple of the row block). */
  CpuBuf hRows(int r0, int rb) {
    int d = t.dim();
    if (valid == null) {
      return h.slice((long) r0 * d, (long) rb * d);
    }
    if (gathered != r0) { // one gather per block visit; none at all when V fits in one block
      float[] row = new float[d];
      for (int i = 0; i < rb; i++) {
        h.data.get(h.offset + valid[r0 + i] * d, row, 0, d);
        hBlock.data.put(hBlock.offset + i * d, row, 0, d);
      }
      gathered = r0;
    }
    return hBlock.slice(0, (long) rb * d);
  }

  /** dh of valid rows [r0, r0 + rb). */
  CpuBuf dhRows(int r0, int rb) {
    int d = t.dim();
    return dhv.slice((long) r0 * d, (long) rb * d);
  }

  int tiles() {
    return CpuFullCrossEntropy.ceilDiv(n, plan.tile());
  }

  // ---- per-row steps of both strategies ------------------------------------------------------

  /**
   * Folds valid row r's scores of the tile starting at item i0, {@code row[0, nt)}, into the
   * running max and sum at {@code max[slot]}, {@code sum[slot]}, and notes the target's score.
   * {@code exps} is work space of nt doubles.
   */
  static void logSumExpStep(
      CpuFullCrossEntropyPass p,
      float[] row,
      double[] exps,
      int nt,
      int r,
      int i0,
      double[] max,
      double[] sum,
      int slot) {
    addBias(p, row, i0, nt);
    float tileMax = Float.NEGATIVE_INFINITY;
    for (int i = 0; i < nt; i++) {
      tileMax = Math.max(tileMax, row[i]);
      exps[i] = row[i];
    }
    double m = max[slot];
    double acc = sum[slot];
    if (tileMax > m) {
      acc *= Math.exp(m - tileMax); // 0 on the first tile (m = -inf, acc = 0)
      m = tileMax;
    }
    CpuExp.expShifted(exps, nt, m);
    max[slot] = m;
    sum[slot] = acc + CpuExp.sum(exps, nt);
    int ti = p.target[r] - i0;
    if (ti >= 0 && ti < nt) {
      p.targetScore[r] = row[ti];
    }
  }

  /**
   * One valid row's scores over the whole catalogue, {@code row[0, n)}, in one pass: sets lse_r and
   * the target's score, and overwrites the row with its gradient {@code (exp(row[i] − lse_r) − [i =
   * target_r]) / V}, from one exponential per item ({@code exps}: work space of n doubles).
   */
  static void softmaxRowGradient(
      CpuFullCrossEntropyPass p, float[] row, double[] exps, int n, int r) {
    addBias(p, row, 0, n);
    float max = Float.NEGATIVE_INFINITY;
    for (int i = 0; i < n; i++) {
      max = Math.max(max, row[i]);
      exps[i] = row[i];
    }
    CpuExp.expShifted(exps, n, max);
    double sum = CpuExp.sum(exps, n);
    int tg = p.target[r];
    p.lse[r] = max + Math.log(sum);
    p.targetScore[r] = row[tg];
    double scale = p.invV / sum;
    for (int i = 0; i < n; i++) {
      row[i] = (float) (exps[i] * scale);
    }
    row[tg] = (float) ((exps[tg] / sum - 1) * p.invV);
  }

  /**
   * {@code exps[i] = exp(row[i] − lse_r) − [i0 + i = target_r]} for one valid row's tile of scores:
   * the softmax gradient before the 1/V of the mean.
   */
  static void softmaxMinusOneHot(
      CpuFullCrossEntropyPass p, float[] row, double[] exps, int nt, int r, int i0) {
    addBias(p, row, i0, nt);
    for (int i = 0; i < nt; i++) {
      exps[i] = row[i];
    }
    CpuExp.expShifted(exps, nt, p.lse[r]);
    int ti = p.target[r] - i0;
    if (ti >= 0 && ti < nt) {
      exps[ti] -= 1;
    }
  }

  /** {@code row[i] += bias[i0 + i]} for a tile's nt scores, when the items have score offsets. */
  static void addBias(CpuFullCrossEntropyPass p, float[] row, int i0, int nt) {
    float[] b = p.bias;
    if (b != null) {
      for (int i = 0; i < nt; i++) {
        row[i] += b[i0 + i];
      }
    }
  }

  /**
   * Per-thread work arrays of the row tasks, grown on demand and kept (a task's tile of scores and
   * their exponentials, a row's sub-id table and its dSub in double), so that tasks allocate
   * nothing in steady state.
   */
  static final class Work {
    private static final ThreadLocal<Work> LOCAL = ThreadLocal.withInitial(Work::new);
    float[] scores = new float[0];
    double[] exps = new double[0];
    float[] table = new float[0];
    double[] grad = new double[0];

    /** This thread's arrays with room for {@code scores} scores and {@code width} sub-scores. */
    static Work get(Scratch scratch, int scores, int width) {
      Work w = LOCAL.get();
      if (w.scores.length < scores) {
        w.scores = new float[scores];
        w.exps = new double[scores];
        scratch.heap(12L * scores);
      }
      if (w.table.length < width) {
        w.table = new float[width];
        w.grad = new double[width];
        scratch.heap(12L * width);
      }
      return w;
    }
  }

  /** Bytes of scratch a call uses (off-heap arena slices and heap arrays), for the memory tests. */
  static final class Scratch {
    final AtomicLong bytes = new AtomicLong();

    void heap(long n) {
      bytes.addAndGet(n);
    }
  }
}
