package org.recjpq.backend.cuda;

import static jcuda.driver.JCudaDriver.cuFuncGetAttribute;
import static jcuda.driver.JCudaDriver.cuFuncSetAttribute;

import jcuda.driver.CUfunction;
import jcuda.driver.CUfunction_attribute;
import org.recjpq.backend.cuda.CudaLosses.Items;

/**
 * The look-up tile strategy of {@link CudaFullCrossEntropy} for RecJPQ items (docs/method.md §4,
 * the PQTopK decomposition fused with the softmax); the CPU twin is {@code CpuLookupCrossEntropy}.
 *
 * <p>Shapes: V valid rows, B = row block, D = M·S, W = M·256, N items, C = chunks per row (the
 * plan's "tiles"), L = items per chunk (the plan's "tile"). Per row block:
 *
 * <pre>
 *   sub[r][k][j]  = h_r[k-block] · codebooks[k][j]        (B, M, 256)  one strided-batched GEMM, batch = M
 *   pass 1        one thread block per unit (row, chunk): the row's table in shared memory, score(r, i) =
 *                 Σ_k sub[r][k][codes[i][k]], online log-sum-exp → the unit's (max, sum), merged per row
 *                 in chunk order (full_ce_finish_kernel) into lse_r and the row's loss
 *   pass 2        the same units: g = exp(score − lse_r) − [i = target_r] added into the unit's dSub in
 *                 shared memory at the item's M codes; written out once (· 1/V when C = 1), else as
 *                 partials summed per row in chunk order (full_ce_lookup_merge_kernel)
 *   dh_b[k-block] = dSub[:, k, :] · codebooks[k]           (B, S) × M    strided-batched GEMM, beta 0
 *   dCodebooks[k] += dSub[:, k, :]ᵀ · h_b[k-block]          (256, S) × M  strided-batched GEMM, beta 1
 * </pre>
 *
 * <p>Shared memory per block: W floats of table plus W accumulators, floats (atomic mode) or 64-bit
 * fixed point (deterministic mode); above the default 48 KB the kernels are opted in to more.
 */
final class CudaFullCrossEntropyLookup {
  private CudaFullCrossEntropyLookup() {}

  /** Shared memory (static + dynamic) a block may use without opting in. */
  private static final int DEFAULT_SHARED = 48 * 1024;

  /** Dynamic shared memory of the pass-2 kernel (the larger of the two passes). */
  static long sharedBytes(int splits, boolean deterministic) {
    long width = 256L * splits;
    return width * Float.BYTES + width * (deterministic ? Long.BYTES : Float.BYTES);
  }

  static void run(CudaFullCrossEntropyPass p) {
    CudaOps ops = p.ops;
    Items t = p.t;
    int m = t.splits();
    int s = t.subDim();
    int d = t.dim();
    int width = 256 * m;
    int block = p.plan.rowBlock();
    int chunks = p.plan.tiles();
    int chunkLen = p.plan.tile();
    boolean deterministic = ops.deterministic();
    CudaBuf sub = ops.workspace("loss.fce.sub", (long) block * width); // (B, M, 256)
    CudaBuf dsub = ops.workspace("loss.fce.dsub", (long) block * width); // (B, M, 256)
    CudaBuf part =
        chunks > 1 ? ops.workspace("loss.fce.part", (long) block * chunks * width) : null;
    CudaBuf cb = t.codebooks();
    CudaByteBuf codes = t.codes();
    int words = m % 4 == 0 && (codes.address & 3) == 0 ? 1 : 0; // read codes as 32-bit words
    Kernel lseKernel = FullCrossEntropyKernels.FULL_CE_LOOKUP_LSE;
    Kernel gradKernel =
        deterministic
            ? FullCrossEntropyKernels.FULL_CE_LOOKUP_GRAD_FIXED
            : FullCrossEntropyKernels.FULL_CE_LOOKUP_GRAD_ATOMIC;
    int lseShared = width * Float.BYTES;
    int gradShared = (int) sharedBytes(m, deterministic);
    allowShared(ops, lseKernel, lseShared);
    allowShared(ops, gradKernel, gradShared);
    for (int r0 = 0; r0 < p.v; r0 += block) {
      int rb = Math.min(block, p.v - r0);
      int units = rb * chunks;
      CudaBuf hb = p.hRows(r0, rb);
      CudaBuf dhb = p.dhRows(r0, rb);
      // sub[r][k][:] = h_r[k-block] · codebooks[k]ᵀ, batch over k
      ops.cublas()
          .sgemmStridedBatchedRowMajor(
              false,
              true,
              rb,
              256,
              s,
              1f,
              hb.floats(),
              d,
              s,
              cb.floats(),
              s,
              256L * s,
              0f,
              sub.floats(),
              width,
              256,
              m);
      ops.module()
          .launch(
              lseKernel,
              units,
              CudaOps.THREADS,
              lseShared,
              p.n,
              m,
              chunkLen,
              chunks,
              words,
              sub,
              codes,
              p.tgtAt(r0),
              p.rowMax,
              CudaFullCrossEntropyPass.atDouble(p.rowSum, 0),
              CudaFullCrossEntropyPass.at(p.targetScore, r0));
      p.finish(r0, rb, chunks, 0);
      CudaBuf out = chunks > 1 ? part : dsub;
      double scale = chunks > 1 ? 1.0 : p.invV;
      ops.module()
          .launch(
              gradKernel,
              units,
              CudaOps.THREADS,
              gradShared,
              p.n,
              m,
              chunkLen,
              chunks,
              words,
              scale,
              sub,
              codes,
              p.tgtAt(r0),
              CudaFullCrossEntropyPass.at(p.lse, r0),
              out);
      if (chunks > 1) {
        ops.launchFlat(
            FullCrossEntropyKernels.FULL_CE_LOOKUP_MERGE,
            (long) rb * width,
            rb,
            chunks,
            width,
            p.invV,
            part,
            dsub);
      }
      // dh_b[:, k-block] = dSub[:, k, :] · codebooks[k] (overwrite)
      ops.cublas()
          .sgemmStridedBatchedRowMajor(
              false,
              false,
              rb,
              s,
              256,
              1f,
              dsub.floats(),
              width,
              256,
              cb.floats(),
              s,
              256L * s,
              0f,
              dhb.floats(),
              d,
              s,
              m);
      // dCodebooks[k] += dSub[:, k, :]ᵀ · h_b[:, k-block]
      ops.cublas()
          .sgemmStridedBatchedRowMajor(
              true,
              false,
              256,
              s,
              rb,
              1f,
              dsub.floats(),
              width,
              256,
              hb.floats(),
              d,
              s,
              1f,
              p.dTable.floats(),
              s,
              256L * s,
              m);
    }
  }

  /**
   * Opts {@code kernel} in to {@code bytes} of dynamic shared memory when that and the kernel's
   * static shared memory together exceed the 48 KiB every kernel may use without asking (the
   * look-up log-sum-exp kernel at M = 48: 48 KiB of table plus 384 static bytes).
   */
  private static void allowShared(CudaOps ops, Kernel kernel, int bytes) {
    CUfunction function = ops.module().function(kernel.name());
    int[] staticBytes = new int[1];
    CudaException.check(
        cuFuncGetAttribute(
            staticBytes, CUfunction_attribute.CU_FUNC_ATTRIBUTE_SHARED_SIZE_BYTES, function),
        "cuFuncGetAttribute(" + kernel.name() + ", SHARED_SIZE_BYTES)");
    if ((long) staticBytes[0] + bytes > DEFAULT_SHARED) {
      CudaException.check(
          cuFuncSetAttribute(
              function,
              CUfunction_attribute.CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES,
              bytes),
          "cuFuncSetAttribute("
              + kernel.name()
              + ", MAX_DYNAMIC_SHARED_SIZE_BYTES, "
              + bytes
              + ")");
    }
  }
}
