package org.recjpq.backend.cuda;

import org.recjpq.backend.Buf;
import org.recjpq.backend.IntBuf;

/**
 * The embedding-position ops of {@link CudaOps}: positional embeddings, id mapping, special-token
 * vectors and PAD-row masking.
 */
final class CudaPositions {
  private final CudaOps ops;

  CudaPositions(CudaOps ops) {
    this.ops = ops;
  }

  void forward(
      Buf out, Buf in, IntBuf ids, Buf positions, float inScale, int batch, int len, int dim) {
    ops.launchFlat(
        Kernels.POSITIONS_FORWARD,
        (long) batch * len * dim,
        batch,
        len,
        dim,
        inScale,
        CudaBuf.of(out),
        CudaBuf.of(in),
        CudaIntBuf.of(ids),
        CudaBuf.of(positions));
  }

  void backward(
      Buf dIn, Buf dPositions, Buf dOut, IntBuf ids, float inScale, int batch, int len, int dim) {
    CudaIntBuf id = CudaIntBuf.of(ids);
    CudaBuf d = CudaBuf.of(dOut);
    ops.launchFlat(
        Kernels.POSITIONS_BACKWARD_INPUT,
        (long) batch * len * dim,
        batch,
        len,
        dim,
        inScale,
        CudaBuf.of(dIn),
        d,
        id);
    ops.launchFlat(
        Kernels.POSITIONS_BACKWARD_TABLE,
        (long) len * dim,
        batch,
        len,
        dim,
        CudaBuf.of(dPositions),
        d,
        id);
  }

  void mapIds(IntBuf out, IntBuf in, int rows, int from, int to) {
    ops.launchFlat(Kernels.MAP_IDS, rows, rows, from, to, CudaIntBuf.of(out), CudaIntBuf.of(in));
  }

  void addTokenVector(Buf x, IntBuf ids, int token, Buf vector, int rows, int dim) {
    ops.launchFlat(
        Kernels.ADD_TOKEN_VECTOR,
        (long) rows * dim,
        rows,
        dim,
        token,
        CudaBuf.of(x),
        CudaIntBuf.of(ids),
        CudaBuf.of(vector));
  }

  void addTokenVectorBackward(Buf dVector, Buf dx, IntBuf ids, int token, int rows, int dim) {
    ops.launchFlat(
        Kernels.ADD_TOKEN_VECTOR_BACKWARD,
        dim,
        rows,
        dim,
        token,
        CudaBuf.of(dVector),
        CudaBuf.of(dx),
        CudaIntBuf.of(ids));
  }

  void maskPadRows(Buf x, IntBuf ids, int rows, int dim) {
    ops.launchFlat(
        Kernels.MASK_PAD_ROWS, (long) rows * dim, rows, dim, CudaBuf.of(x), CudaIntBuf.of(ids));
  }
}
