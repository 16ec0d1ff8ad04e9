package org.recjpq.backend.cuda;

import org.recjpq.backend.Buf;
import org.recjpq.backend.IntBuf;

/**
 * A dense item table (N, d) on the CUDA engine. The look-up's backward scatters with float atomics,
 * or, when {@link CudaOps#deterministic()}, one thread per column adds the rows in order.
 */
final class CudaDenseTable extends CudaItemTable {

  CudaDenseTable(CudaOps ops, int numItems, int dim) {
    super(ops, numItems, dim);
  }

  @Override
  CudaLosses.Items with(CudaBuf table) {
    return CudaLosses.Items.dense(table, dim);
  }

  @Override
  public void lookup(Buf out, IntBuf ids, Buf table, int rows) {
    ops.launchFlat(
        Kernels.EMBEDDING_FORWARD,
        (long) rows * dim,
        rows,
        dim,
        CudaBuf.of(out),
        CudaIntBuf.of(ids),
        CudaBuf.of(table));
  }

  @Override
  public void lookupBackward(Buf dTable, Buf dOut, IntBuf ids, int rows) {
    CudaBuf dt = CudaBuf.of(dTable);
    CudaBuf d = CudaBuf.of(dOut);
    CudaIntBuf id = CudaIntBuf.of(ids);
    if (ops.deterministic()) {
      ops.launchFlat(Kernels.EMBEDDING_BACKWARD_ORDERED, dim, rows, dim, dt, d, id);
    } else {
      ops.launchFlat(Kernels.EMBEDDING_BACKWARD_ATOMIC, (long) rows * dim, rows, dim, dt, d, id);
    }
  }
}
