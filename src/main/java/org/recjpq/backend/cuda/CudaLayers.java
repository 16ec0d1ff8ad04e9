package org.recjpq.backend.cuda;

import org.recjpq.backend.Buf;

/**
 * Layer normalisation and dense layers of {@link CudaOps}: the layer-norm kernels, and cuBLAS GEMMs
 * with the bias broadcast and column sums.
 */
final class CudaLayers {
  private final CudaOps ops;

  CudaLayers(CudaOps ops) {
    this.ops = ops;
  }

  void layerNormForward(
      Buf out, Buf mean, Buf rstd, Buf in, Buf gamma, Buf beta, int rows, int dim, float eps) {
    // one warp per row
    long warps = rows;
    int blocks =
        (int) Math.min(CudaOps.MAX_BLOCKS, (warps * 32 + CudaOps.THREADS - 1) / CudaOps.THREADS);
    if (rows == 0) {
      return;
    }
    ops.module()
        .launch(
            Kernels.LAYER_NORM_FORWARD,
            blocks,
            CudaOps.THREADS,
            0,
            rows,
            dim,
            eps,
            CudaBuf.of(out),
            CudaBuf.of(mean),
            CudaBuf.of(rstd),
            CudaBuf.of(in),
            CudaBuf.of(gamma),
            CudaBuf.of(beta));
  }

  void layerNormBackward(
      Buf dIn,
      Buf dGamma,
      Buf dBeta,
      Buf dOut,
      Buf in,
      Buf mean,
      Buf rstd,
      Buf gamma,
      int rows,
      int dim) {
    if (rows == 0) {
      return;
    }
    int blocks =
        (int)
            Math.min(
                CudaOps.MAX_BLOCKS, ((long) rows * 32 + CudaOps.THREADS - 1) / CudaOps.THREADS);
    CudaBuf d = CudaBuf.of(dOut);
    CudaBuf x = CudaBuf.of(in);
    CudaBuf mu = CudaBuf.of(mean);
    CudaBuf rs = CudaBuf.of(rstd);
    CudaBuf g = CudaBuf.of(gamma);
    ops.module()
        .launch(
            Kernels.LAYER_NORM_BACKWARD_INPUT,
            blocks,
            CudaOps.THREADS,
            0,
            rows,
            dim,
            CudaBuf.of(dIn),
            d,
            x,
            mu,
            rs,
            g);
    // gamma/beta: per block of 256 rows in row order, then the blocks in order (as the CPU)
    int rowBlocks = (rows + CudaOps.COLUMN_BLOCK - 1) / CudaOps.COLUMN_BLOCK;
    CudaBuf part = ops.workspace("core.layernorm", 2L * rowBlocks * dim);
    ops.launchFlat(
        Kernels.LAYER_NORM_BACKWARD_PARTIALS,
        (long) rowBlocks * dim,
        rows,
        dim,
        CudaOps.COLUMN_BLOCK,
        part,
        d,
        x,
        mu,
        rs);
    ops.launchFlat(
        Kernels.LAYER_NORM_BACKWARD_FINISH,
        dim,
        rowBlocks,
        dim,
        CudaBuf.of(dGamma),
        CudaBuf.of(dBeta),
        part);
  }

  void linearForward(Buf out, Buf in, Buf weight, Buf bias, int rows, int inDim, int outDim) {
    CudaBuf o = CudaBuf.of(out);
    if (bias != null) {
      ops.launchFlat(
          Kernels.BROADCAST_ROWS, (long) rows * outDim, rows, outDim, o, CudaBuf.of(bias));
    }
    ops.gemm(
        false,
        false,
        rows,
        outDim,
        inDim,
        1f,
        CudaBuf.of(in),
        inDim,
        CudaBuf.of(weight),
        outDim,
        bias != null ? 1f : 0f,
        o,
        outDim);
  }

  void linearBackward(
      Buf dIn,
      Buf dWeight,
      Buf dBias,
      Buf dOut,
      Buf in,
      Buf weight,
      int rows,
      int inDim,
      int outDim) {
    CudaBuf d = CudaBuf.of(dOut);
    if (dIn != null) {
      ops.gemm(
          false,
          true,
          rows,
          inDim,
          outDim,
          1f,
          d,
          outDim,
          CudaBuf.of(weight),
          outDim,
          0f,
          CudaBuf.of(dIn),
          inDim);
    }
    ops.gemm(
        true,
        false,
        inDim,
        outDim,
        rows,
        1f,
        CudaBuf.of(in),
        inDim,
        d,
        outDim,
        1f,
        CudaBuf.of(dWeight),
        outDim);
    if (dBias != null) {
      ops.columnSumsInto(CudaBuf.of(dBias), d, rows, outDim);
    }
  }
}
