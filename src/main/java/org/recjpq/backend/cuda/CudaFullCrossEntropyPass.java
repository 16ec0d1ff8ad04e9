package org.recjpq.backend.cuda;

import org.recjpq.backend.cuda.CudaFullCrossEntropy.Plan;
import org.recjpq.backend.cuda.CudaFullCrossEntropy.Strategy;
import org.recjpq.backend.cuda.CudaLosses.Items;

/**
 * One {@link CudaFullCrossEntropy} call's state, shared by both tile strategies: the compacted
 * valid rows of h (V, D) and their dh, their targets, the per-row running max and sum, target
 * score, lse and loss, and the plan. Row block r0 is a slice of these.
 */
final class CudaFullCrossEntropyPass {
  final CudaOps ops;
  final Items t;
  final CudaBuf dH; // (R, D) the caller's
  final CudaBuf dTable;
  final int rows;
  final int v;
  final int n;
  final Plan plan;
  final double invV;
  final CudaBuf hv; // (V, D) valid rows of h: h itself when every row is valid
  final CudaBuf dhv; // (V, D) their gradient: dH itself when every row is valid
  final CudaIntBuf tgt; // (V)
  final CudaIntBuf slot; // (R) row → valid index or -1; null when every row is valid
  final CudaBuf rowMax; // (V · units) floats
  final CudaBuf rowSum; // (V · units) doubles
  final CudaBuf targetScore; // (V)
  final CudaBuf lse; // (V)
  final CudaBuf rowLoss; // (V) doubles
  CudaBuf bias; // (N) per-item score offsets, or null
  CudaBuf dBias; // their gradient (+=), or null
  CudaBuf ones; // (B) ones for the rank-1 GEMMs of the offsets

  /** {@code s += 1 · bias[i0, i0 + nt)ᵀ} on a (rb, nt) tile of scores (nothing without offsets). */
  void addBias(CudaBuf s, int rb, int i0, int nt) {
    if (bias != null) {
      ops.gemm(
          false, false, rb, nt, 1, 1f, ones.slice(0, rb), 1, bias.slice(i0, nt), nt, 1f, s, nt);
    }
  }

  /**
   * {@code dBias[i0, i0 + nt) += Gᵀ · 1} from a (rb, nt) tile of gradients (nothing without
   * offsets).
   */
  void addBiasGradient(CudaBuf g, int rb, int i0, int nt) {
    if (bias != null) {
      ops.gemm(true, false, nt, 1, rb, 1f, g, nt, ones.slice(0, rb), 1, 1f, dBias.slice(i0, nt), 1);
    }
  }

  CudaFullCrossEntropyPass(
      CudaOps ops,
      Items t,
      CudaBuf h,
      CudaBuf dH,
      CudaBuf dTable,
      int[] targets,
      int[] valid,
      int rows,
      int n,
      Plan plan) {
    this.ops = ops;
    this.t = t;
    this.dH = dH;
    this.dTable = dTable;
    this.rows = rows;
    this.v = valid.length;
    this.n = n;
    this.plan = plan;
    this.invV = 1.0 / v;
    int d = t.dim();
    int[] tg = new int[v];
    for (int i = 0; i < v; i++) {
      tg[i] = targets[valid[i]];
    }
    tgt = ops.workspaceInts("loss.fce.tgt", v);
    ops.upload(tgt, tg);
    if (v == rows) {
      hv = h.slice(0, (long) rows * d);
      dhv = dH.slice(0, (long) rows * d);
      slot = null;
    } else {
      CudaIntBuf validDev = ops.workspaceInts("loss.fce.valid", v);
      ops.upload(validDev, valid);
      hv = ops.workspace("loss.fce.h", (long) v * d);
      dhv = ops.workspace("loss.fce.dh", (long) v * d);
      ops.launchFlat(
          FullCrossEntropyKernels.FULL_CE_GATHER_ROWS, (long) v * d, v, d, hv, h, validDev);
      int[] sl = new int[rows];
      java.util.Arrays.fill(sl, -1);
      for (int i = 0; i < v; i++) {
        sl[valid[i]] = i;
      }
      slot = ops.workspaceInts("loss.fce.slot", rows);
      ops.upload(slot, sl);
    }
    long units = plan.strategy() == Strategy.LOOKUP ? (long) plan.rowBlock() * plan.tiles() : v;
    rowMax = ops.workspace("loss.fce.max", units);
    rowSum = ops.workspace("loss.fce.sum", 2 * units);
    targetScore = ops.workspace("loss.fce.target", v);
    lse = ops.workspace("loss.fce.lse", v);
    rowLoss = ops.workspace("loss.fce.loss", 2L * v);
  }

  /** h of valid rows [r0, r0 + rb). */
  CudaBuf hRows(int r0, int rb) {
    int d = t.dim();
    return hv.slice((long) r0 * d, (long) rb * d);
  }

  /** dh of valid rows [r0, r0 + rb). */
  CudaBuf dhRows(int r0, int rb) {
    int d = t.dim();
    return dhv.slice((long) r0 * d, (long) rb * d);
  }

  /** The targets from valid row r0 on. */
  CudaIntBuf tgtAt(int r0) {
    return tgt.slice(r0, tgt.size - r0);
  }

  /** A per-row float buffer from element {@code i} on. */
  static CudaBuf at(CudaBuf b, long i) {
    return b.slice(i, b.size - i);
  }

  /** A per-row double buffer (two floats a double) from double {@code i} on. */
  static DevicePointer atDouble(CudaBuf b, long i) {
    return DevicePointer.doubles(b, i);
  }

  /**
   * lse and loss of valid rows [r0, r0 + rb) from their units' max and sum (units per row: chunks).
   */
  void finish(int r0, int rb, int chunks, long unitBase) {
    ops.launchFlat(
        FullCrossEntropyKernels.FULL_CE_FINISH,
        rb,
        rb,
        chunks,
        at(rowMax, unitBase),
        atDouble(rowSum, unitBase),
        at(targetScore, r0),
        at(lse, r0),
        atDouble(rowLoss, r0));
  }

  /**
   * Moves the compacted dh into the caller's dH, zeros on ignored rows (nothing to do when all rows
   * are valid).
   */
  void finishRows() {
    if (slot != null) {
      int d = t.dim();
      ops.launchFlat(
          FullCrossEntropyKernels.FULL_CE_SPREAD_ROWS, (long) rows * d, rows, d, dH, dhv, slot);
    }
  }
}
