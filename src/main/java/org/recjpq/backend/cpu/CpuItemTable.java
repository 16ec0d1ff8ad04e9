package org.recjpq.backend.cpu;

import static org.recjpq.backend.cpu.CpuBuf.of;
import static org.recjpq.backend.cpu.CpuBuf.ofNullable;

import org.recjpq.backend.Buf;
import org.recjpq.backend.IntBuf;
import org.recjpq.backend.ItemTable;

/**
 * What the CPU engine's two kinds of item table share: the scoring heads, which {@link CpuLosses}
 * runs on either kind (dense rows or RecJPQ codes + codebooks) through its {@link
 * CpuLosses.ItemTable}. The look-ups are each kind's own ({@link CpuDenseTable}, {@link
 * CpuJpqTable}).
 */
abstract sealed class CpuItemTable implements ItemTable permits CpuDenseTable, CpuJpqTable {
  final CpuOps ops;
  final int numItems;
  final int dim;

  CpuItemTable(CpuOps ops, int numItems, int dim) {
    this.ops = ops;
    this.numItems = numItems;
    this.dim = dim;
  }

  @Override
  public final int numItems() {
    return numItems;
  }

  @Override
  public final int dim() {
    return dim;
  }

  /** The table with its parameters, as the scoring heads read it. */
  abstract CpuLosses.ItemTable with(CpuBuf params);

  @Override
  public final void sampledScores(
      Buf scores, Buf h, IntBuf items, IntBuf targets, Buf params, int rows, int cols) {
    CpuLosses.sampledScores(
        ops,
        of(scores),
        of(h),
        CpuIntBuf.of(items),
        CpuIntBuf.of(targets),
        with(of(params)),
        rows,
        cols);
  }

  @Override
  public final void sampledScoresBackward(
      Buf dH,
      Buf dParams,
      Buf dScores,
      Buf h,
      IntBuf items,
      IntBuf targets,
      Buf params,
      int rows,
      int cols) {
    CpuLosses.sampledScoresBackward(
        ops,
        of(dH),
        of(dParams),
        of(dScores),
        of(h),
        CpuIntBuf.of(items),
        CpuIntBuf.of(targets),
        with(of(params)),
        rows,
        cols);
  }

  @Override
  public final double fullCrossEntropy(
      Buf dH, Buf dParams, Buf dBias, Buf h, IntBuf targets, Buf params, Buf bias, int rows) {
    return CpuLosses.fullCrossEntropy(
        ops,
        of(dH),
        of(dParams),
        ofNullable(dBias),
        of(h),
        CpuIntBuf.of(targets),
        with(of(params)),
        ofNullable(bias),
        rows,
        numItems);
  }
}
