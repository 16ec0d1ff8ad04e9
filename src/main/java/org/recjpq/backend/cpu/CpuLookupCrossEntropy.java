package org.recjpq.backend.cpu;

import static org.recjpq.backend.cpu.CpuFullCrossEntropy.ROW_TASK;
import static org.recjpq.backend.cpu.CpuFullCrossEntropy.carve;

import java.util.Arrays;
import org.recjpq.backend.cpu.CpuFullCrossEntropyPass.Work;
import org.recjpq.backend.cpu.CpuLosses.ItemTable;
import org.recjpq.util.Parallel;

/**
 * The look-up tile strategy of {@link CpuFullCrossEntropy} for RecJPQ items (docs/method.md §4, the
 * PQTopK decomposition fused with the softmax).
 *
 * <p>Shapes: V valid rows, D = M·S, B = row block, W = M·256 (one row's sub-id table), N items, T =
 * tile, C = chunks (work units per row). Per row block:
 *
 * <pre>
 *   sub[r][k][j]  = h_r[k·S:(k+1)·S] · codebooks[k][j]          (B, M, 256)  GEMMs (64×S)·(S×256)
 *   score(r, i)   = Σ_k sub[r][k][codes[i][k]]                   M look-ups, k in order, float
 *   pass 1        online log-sum-exp per (row, chunk) unit over its tiles, merged per row in
 *                 chunk order: lse_r = max + log Σ_c sum_c·exp(max_c − max)
 *   pass 2        dSub[r][k][codes[i][k]] += exp(score − lse_r) − [i = target_r]   (double, per unit)
 *                 then · 1/V; summed over a row's chunks in chunk order          (B, M, 256)
 *   dh_r[k-block] = Σ_j dSub[r][k][j] codebooks[k][j]            M GEMMs (B×256)·(256×S)
 *   dCodebooks[k] += dSub[:, k, :]ᵀ · h[:, k-block]              M GEMMs (256×B)·(B×S)
 * </pre>
 *
 * <p>A unit (row, chunk) covers the contiguous tiles {@code [c·tiles/C, (c+1)·tiles/C)}; C > 1 only
 * when there are fewer rows than {@link CpuFullCrossEntropy#UNITS}, so that one user's scoring
 * still uses every core. Units are independent tasks with fixed bounds, so the bits do not depend
 * on the thread count.
 */
final class CpuLookupCrossEntropy {
  private CpuLookupCrossEntropy() {}

  static void run(CpuFullCrossEntropyPass p) {
    ItemTable t = p.t;
    int m = t.splits();
    int width = m * 256;
    int block = p.plan.rowBlock();
    int chunks = p.plan.chunks();
    int units = block * chunks;
    long[] at = {0};
    CpuBuf sub = carve(p.arena, at, (long) block * width); // (B, M, 256)
    CpuBuf dsub = carve(p.arena, at, (long) block * width); // (B, M, 256)
    double[] unitMax = new double[units];
    double[] unitSum = new double[units];
    double[] unitDs = chunks > 1 ? new double[units * width] : null;
    p.scratch.heap(16L * units + (chunks > 1 ? 8L * units * width : 0));
    for (int r0 = 0; r0 < p.v; r0 += block) {
      int rb = Math.min(block, p.v - r0);
      CpuBuf hb = p.hRows(r0, rb);
      CpuBuf dhb = p.dhRows(r0, rb);
      subScores(p, hb, sub, rb);
      int base = r0;
      int grain = unitGrain(p, chunks, m);
      Parallel.forRange(
          rb * chunks,
          p.ops.threads,
          grain,
          (from, to) -> forward(p, sub, base, from, to, unitMax, unitSum));
      mergeLogSumExp(p, base, rb, chunks, unitMax, unitSum);
      Parallel.forRange(
          rb * chunks,
          p.ops.threads,
          grain,
          (from, to) -> backward(p, sub, dsub, unitDs, base, from, to));
      if (chunks > 1) {
        mergeGradients(p, dsub, unitDs, rb, chunks, width);
      }
      if (p.dBias != null) {
        biasGradient(p, sub, base, rb);
      }
      subGradients(p, hb, dhb, dsub, rb);
    }
  }

  /**
   * {@code sub[r][k][j] = h_r[k-block] · codebooks[k][j]} for a block's rb rows, ROW_TASK rows a
   * task.
   */
  private static void subScores(CpuFullCrossEntropyPass p, CpuBuf hb, CpuBuf sub, int rb) {
    int d = p.t.dim();
    int m = p.t.splits();
    int s = p.t.subDim();
    int width = m * 256;
    CpuBuf cb = p.t.codebooks();
    Parallel.forRange(
        CpuFullCrossEntropy.ceilDiv(rb, ROW_TASK),
        p.ops.threads,
        1,
        (from, to) -> {
          for (int task = from; task < to; task++) {
            int a = task * ROW_TASK;
            int nr = Math.min(ROW_TASK, rb - a);
            for (int k = 0; k < m; k++) {
              Blas.sgemm(
                  false,
                  true,
                  nr,
                  256,
                  s,
                  1f,
                  hb.slice((long) a * d + k * s, (long) nr * d - k * s),
                  d,
                  cb.slice((long) k * 256 * s, 256L * s),
                  s,
                  0f,
                  sub.slice((long) a * width + k * 256, (long) nr * width - k * 256),
                  width);
            }
          }
        });
  }

  /**
   * From a block's dSub: {@code dh_r[k-block] = Σ_j dSub[r][k][j] codebooks[k][j]} (ROW_TASK rows a
   * task, overwrite) and {@code dCodebooks[k] += dSub[:, k, :]ᵀ · h[:, k-block]} (one split a task:
   * a reduction over the block's rows).
   */
  private static void subGradients(
      CpuFullCrossEntropyPass p, CpuBuf hb, CpuBuf dhb, CpuBuf dsub, int rb) {
    int d = p.t.dim();
    int m = p.t.splits();
    int s = p.t.subDim();
    int width = m * 256;
    CpuBuf cb = p.t.codebooks();
    Parallel.forRange(
        CpuFullCrossEntropy.ceilDiv(rb, ROW_TASK),
        p.ops.threads,
        1,
        (from, to) -> {
          for (int task = from; task < to; task++) {
            int a = task * ROW_TASK;
            int nr = Math.min(ROW_TASK, rb - a);
            for (int k = 0; k < m; k++) {
              Blas.sgemm(
                  false,
                  false,
                  nr,
                  s,
                  256,
                  1f,
                  dsub.slice((long) a * width + k * 256, (long) nr * width - k * 256),
                  width,
                  cb.slice((long) k * 256 * s, 256L * s),
                  s,
                  0f,
                  dhb.slice((long) a * d + k * s, (long) nr * d - k * s),
                  d);
            }
          }
        });
    Parallel.forRange(
        m,
        p.ops.threads,
        1,
        (from, to) -> {
          for (int k = from; k < to; k++) {
            Blas.sgemm(
                true,
                false,
                256,
                s,
                rb,
                1f,
                dsub.slice(k * 256L, (long) rb * width - k * 256L),
                width,
                hb.slice(k * s, (long) rb * d - k * s),
                d,
                1f,
                p.dTable.slice((long) k * 256 * s, 256L * s),
                s);
          }
        });
  }

  /** lse of rows [base, base + rb) from their units' running max and sum, in chunk order. */
  private static void mergeLogSumExp(
      CpuFullCrossEntropyPass p, int base, int rb, int chunks, double[] unitMax, double[] unitSum) {
    for (int r = 0; r < rb; r++) {
      double max = Double.NEGATIVE_INFINITY;
      for (int c = 0; c < chunks; c++) {
        max = Math.max(max, unitMax[r * chunks + c]);
      }
      double sum = 0;
      for (int c = 0; c < chunks; c++) {
        sum += unitSum[r * chunks + c] * Math.exp(unitMax[r * chunks + c] - max);
      }
      p.lse[base + r] = max + Math.log(sum);
    }
  }

  /** {@code dsub[r] = Σ_c unitDs[r][c] / V} in chunk order, for rows with several units. */
  private static void mergeGradients(
      CpuFullCrossEntropyPass p, CpuBuf dsub, double[] unitDs, int rb, int chunks, int width) {
    Parallel.forRange(
        rb,
        p.ops.threads,
        (from, to) -> {
          for (int r = from; r < to; r++) {
            for (int x = 0; x < width; x++) {
              double acc = 0;
              for (int c = 0; c < chunks; c++) {
                acc += unitDs[(r * chunks + c) * width + x];
              }
              dsub.set(r * width + x, (float) (acc * p.invV));
            }
          }
        });
  }

  /** Units per task: enough look-ups (~64k) that a task is worth handing to a thread. */
  private static int unitGrain(CpuFullCrossEntropyPass p, int chunks, int m) {
    long perUnit = Math.max(1L, (long) p.n * m / chunks);
    return (int) Math.max(1, Math.min(1 << 16, (1L << 16) / perUnit));
  }

  private static int firstTile(CpuFullCrossEntropyPass p, int c) {
    return (int) ((long) c * p.tiles() / p.plan.chunks());
  }

  /** Pass 1 over units [from, to): each unit's running max and sum of exp(score − max). */
  private static void forward(
      CpuFullCrossEntropyPass p,
      CpuBuf sub,
      int base,
      int from,
      int to,
      double[] unitMax,
      double[] unitSum) {
    ItemTable t = p.t;
    int m = t.splits();
    int width = m * 256;
    int chunks = p.plan.chunks();
    int tile = p.plan.tile();
    byte[] code = t.codes().data;
    Work work = Work.get(p.scratch, tile, width);
    float[] tab = work.table;
    float[] buf = work.scores;
    for (int u = from; u < to; u++) {
      int r = u / chunks;
      int c = u % chunks;
      int row = base + r;
      sub.data.get(sub.offset + r * width, tab, 0, width);
      unitMax[u] = Double.NEGATIVE_INFINITY;
      unitSum[u] = 0;
      for (int k = firstTile(p, c), end = firstTile(p, c + 1); k < end; k++) {
        int i0 = k * tile;
        int nt = Math.min(tile, p.n - i0);
        scores(tab, code, m, i0, nt, buf);
        CpuFullCrossEntropyPass.logSumExpStep(p, buf, work.exps, nt, row, i0, unitMax, unitSum, u);
      }
    }
  }

  /**
   * Pass 2 over units [from, to): dSub of each unit (into dsub directly when a row is one unit).
   */
  private static void backward(
      CpuFullCrossEntropyPass p,
      CpuBuf sub,
      CpuBuf dsub,
      double[] unitDs,
      int base,
      int from,
      int to) {
    ItemTable t = p.t;
    int m = t.splits();
    int width = m * 256;
    int chunks = p.plan.chunks();
    int tile = p.plan.tile();
    byte[] code = t.codes().data;
    Work work = Work.get(p.scratch, tile, width);
    float[] tab = work.table;
    float[] buf = work.scores;
    double[] g = work.exps;
    double[] ds = work.grad;
    for (int u = from; u < to; u++) {
      int r = u / chunks;
      int c = u % chunks;
      int row = base + r;
      sub.data.get(sub.offset + r * width, tab, 0, width);
      Arrays.fill(ds, 0, width, 0);
      for (int k = firstTile(p, c), end = firstTile(p, c + 1); k < end; k++) {
        int i0 = k * tile;
        int nt = Math.min(tile, p.n - i0);
        scores(tab, code, m, i0, nt, buf);
        CpuFullCrossEntropyPass.softmaxMinusOneHot(p, buf, g, nt, row, i0);
        for (int i = 0; i < nt; i++) {
          int cbase = (i0 + i) * m;
          for (int j = 0; j < m; j++) {
            ds[(j << 8) + (code[cbase + j] & 0xff)] += g[i];
          }
        }
      }
      if (chunks == 1) {
        int o = dsub.offset + r * width;
        for (int x = 0; x < width; x++) {
          dsub.data.put(o + x, (float) (ds[x] * p.invV));
        }
      } else {
        System.arraycopy(ds, 0, unitDs, u * width, width);
      }
    }
  }

  /**
   * {@code dBias[i] += Σ_r g[r][i]} over a block's rb rows: item-major (one tile a task, the
   * block's rows in order), since the passes above are split by rows. Scores the block's rows once
   * more.
   */
  private static void biasGradient(CpuFullCrossEntropyPass p, CpuBuf sub, int base, int rb) {
    ItemTable t = p.t;
    int m = t.splits();
    int width = m * 256;
    int tile = p.plan.tile();
    byte[] code = t.codes().data;
    Parallel.forRange(
        p.tiles(),
        p.ops.threads,
        1,
        (from, to) -> {
          Work work = Work.get(p.scratch, tile, width);
          float[] tab = work.table;
          float[] buf = work.scores;
          double[] acc = new double[tile];
          for (int k = from; k < to; k++) {
            int i0 = k * tile;
            int nt = Math.min(tile, p.n - i0);
            Arrays.fill(acc, 0, nt, 0);
            for (int r = 0; r < rb; r++) {
              sub.data.get(sub.offset + r * width, tab, 0, width);
              scores(tab, code, m, i0, nt, buf);
              CpuFullCrossEntropyPass.softmaxMinusOneHot(p, buf, work.exps, nt, base + r, i0);
              for (int i = 0; i < nt; i++) {
                acc[i] += work.exps[i];
              }
            }
            for (int i = 0; i < nt; i++) {
              int at = p.dBias.offset + i0 + i;
              p.dBias.data.put(at, p.dBias.data.get(at) + (float) (acc[i] * p.invV));
            }
          }
        });
  }

  /** {@code out[i] = Σ_k tab[k][codes[i0 + i][k]]} for the tile's nt items (k in order, float). */
  private static void scores(float[] tab, byte[] code, int m, int i0, int nt, float[] out) {
    for (int i = 0; i < nt; i++) {
      int cbase = (i0 + i) * m;
      float score = 0;
      for (int j = 0; j < m; j++) {
        score += tab[(j << 8) + (code[cbase + j] & 0xff)];
      }
      out[i] = score;
    }
  }
}
