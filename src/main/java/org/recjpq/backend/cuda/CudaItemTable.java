package org.recjpq.backend.cuda;

import org.recjpq.backend.Buf;
import org.recjpq.backend.IntBuf;
import org.recjpq.backend.ItemTable;

/**
 * What the CUDA engine's two kinds of item table share: the scoring heads, which {@link CudaLosses}
 * runs on either kind (dense rows or RecJPQ codes + codebooks) through its {@link
 * CudaLosses.Items}. The look-ups are each kind's own ({@link CudaDenseTable}, {@link
 * CudaJpqTable}).
 */
abstract sealed class CudaItemTable implements ItemTable permits CudaDenseTable, CudaJpqTable {
  final CudaOps ops;
  final int numItems;
  final int dim;

  CudaItemTable(CudaOps ops, int numItems, int dim) {
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

  /** The table with its parameters, as the scoring kernels read it. */
  abstract CudaLosses.Items with(CudaBuf params);

  @Override
  public final void sampledScores(
      Buf scores, Buf h, IntBuf items, IntBuf targets, Buf params, int rows, int cols) {
    CudaLosses.sampledScores(
        ops,
        CudaBuf.of(scores),
        CudaBuf.of(h),
        CudaIntBuf.of(items),
        CudaIntBuf.of(targets),
        with(CudaBuf.of(params)),
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
    CudaLosses.sampledScoresBackward(
        ops,
        CudaBuf.of(dH),
        CudaBuf.of(dParams),
        CudaBuf.of(dScores),
        CudaBuf.of(h),
        CudaIntBuf.of(items),
        CudaIntBuf.of(targets),
        with(CudaBuf.of(params)),
        rows,
        cols);
  }

  @Override
  public final double fullCrossEntropy(
      Buf dH, Buf dParams, Buf dBias, Buf h, IntBuf targets, Buf params, Buf bias, int rows) {
    return CudaLosses.fullCrossEntropy(
        ops,
        CudaBuf.of(dH),
        CudaBuf.of(dParams),
        CudaBuf.ofNullable(dBias),
        CudaBuf.of(h),
        CudaIntBuf.of(targets),
        with(CudaBuf.of(params)),
        CudaBuf.ofNullable(bias),
        rows,
        numItems);
  }
}
