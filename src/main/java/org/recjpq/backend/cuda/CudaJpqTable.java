package org.recjpq.backend.cuda;

import org.recjpq.backend.Buf;
import org.recjpq.backend.IntBuf;

/**
 * A RecJPQ item table on the CUDA engine: codes (N, splits) on the device, fixed when it is made;
 * codebooks (splits, 256, subDim) passed to each call. The look-up's backward scatters into the
 * codebooks with float atomics, or, when {@link CudaOps#deterministic()}, one thread per codebook
 * column adds the rows in order.
 */
final class CudaJpqTable extends CudaItemTable {
  private final CudaByteBuf codes;
  private final int splits;
  private final int subDim;

  CudaJpqTable(CudaOps ops, CudaByteBuf codes, int numItems, int splits, int subDim) {
    super(ops, numItems, splits * subDim);
    this.codes = codes;
    this.splits = splits;
    this.subDim = subDim;
  }

  @Override
  CudaLosses.Items with(CudaBuf codebooks) {
    return CudaLosses.Items.jpq(codes, codebooks, splits, subDim);
  }

  @Override
  public void lookup(Buf out, IntBuf ids, Buf codebooks, int rows) {
    ops.launchFlat(
        Kernels.JPQ_EMBEDDING_FORWARD,
        (long) rows * splits * subDim,
        rows,
        splits,
        subDim,
        CudaBuf.of(out),
        CudaIntBuf.of(ids),
        codes,
        CudaBuf.of(codebooks));
  }

  @Override
  public void lookupBackward(Buf dCodebooks, Buf dOut, IntBuf ids, int rows) {
    CudaBuf dc = CudaBuf.of(dCodebooks);
    CudaBuf d = CudaBuf.of(dOut);
    CudaIntBuf id = CudaIntBuf.of(ids);
    if (ops.deterministic()) {
      ops.launchFlat(
          Kernels.JPQ_EMBEDDING_BACKWARD_ORDERED,
          (long) splits * subDim,
          rows,
          splits,
          subDim,
          dc,
          d,
          id,
          codes);
    } else {
      ops.launchFlat(
          Kernels.JPQ_EMBEDDING_BACKWARD_ATOMIC,
          (long) rows * splits * subDim,
          rows,
          splits,
          subDim,
          dc,
          d,
          id,
          codes);
    }
  }
}
