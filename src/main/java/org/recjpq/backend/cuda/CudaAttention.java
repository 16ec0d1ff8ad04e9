package org.recjpq.backend.cuda;

import org.bytedeco.javacpp.FloatPointer;

/**
 * Multi-head scaled dot-product attention of the CUDA engine; the specification is {@code
 * CpuAttention} (see {@link org.recjpq.backend.Ops#attentionForward}), and the contract tests
 * compare the two.
 *
 * <p>Shapes: B = batch, T = len, D = dim, H = heads, dh = D / H. q, k, v, out and their gradients
 * are row-major (B, T, D); head h owns columns [h·dh, (h+1)·dh). probs is (B, H, T, T). For one (b,
 * h):
 *
 * <pre>
 *   S  = q_h k_hᵀ / sqrt(dh), masked where key j is PAD or (causal) j &gt; i
 *   P  = softmax_j(S)              (saved; masked entries exactly 0, PAD query rows all 0)
 *   out_h = P v_h
 *   dv_h = Pᵀ dOut_h,   dP = dOut_h v_hᵀ,   dS = P ⊙ (dP − rowsum(dP ⊙ P))
 *   dq_h = dS k_h / sqrt(dh),   dk_h = dSᵀ q_h / sqrt(dh)
 * </pre>
 *
 * <p>How: every product is one cuBLAS strided-batched GEMM per head, batched over the sequences, on
 * zero-copy operands. A head's columns of a (T, D) matrix are a strided submatrix: the operand
 * starts at column h·dh with leading dimension D, and consecutive sequences are T·D floats apart.
 * Head h of probs starts at h·T·T with leading dimension T, sequences H·T·T apart. The GEMMs write
 * straight into their destination (probs, or a head's columns of out, dq, dk, dv with leading
 * dimension D) with beta = 0, so every output is overwritten and never read first.
 *
 * <ul>
 *   <li>Forward: H GEMMs write the scaled scores into probs (alpha = 1/sqrt(dh)); one launch of
 *       {@code attention_softmax_kernel} (one warp per row of all B·H·T rows) applies the masks and
 *       the softmax in place; H GEMMs then compute out_h = P v_h.
 *   <li>Backward, per head: dv_h = Pᵀ dOut_h; dP = dOut_h v_hᵀ into a (B, T, T) workspace; {@code
 *       attention_softmax_backward_kernel} turns dP into dS in place; dq_h = dS k_h and dk_h = dSᵀ
 *       q_h, both with alpha = 1/sqrt(dh) as on the CPU. The workspace holds one head at a time, so
 *       backward needs B·T·T extra floats, not B·H·T·T; all work is on one stream, so the next head
 *       reuses it safely.
 * </ul>
 *
 * <p>What differs from the CPU, and why the results agree anyway:
 *
 * <ul>
 *   <li>The CPU computes only the window between a sequence's first and last non-PAD position (and
 *       skips most of the causal triangle); here the full T×T products are computed. Every entry
 *       outside the window is masked: the softmax writes 0 there without reading the score, PAD
 *       query rows of P and dS are set to 0, and masked P entries are exactly 0, so the extra
 *       products contribute exactly 0 to out, dq, dk and dv (for finite q, k, v and dOut).
 *   <li>Sums run in a different order (cuBLAS blocking, warp trees), which the contract tests'
 *       tolerances cover; the softmax's row sum and the backward's row dot product accumulate in
 *       double and are rounded once per row, as on the CPU.
 * </ul>
 */
final class CudaAttention {
  /** Threads per block of the row kernels (one warp per row; a multiple of 32). */
  private static final int THREADS = CudaOps.THREADS;

  private CudaAttention() {}

  static void forward(
      CudaOps ops,
      CudaBuf out,
      CudaBuf probs,
      CudaBuf q,
      CudaBuf k,
      CudaBuf v,
      CudaIntBuf ids,
      int batch,
      int len,
      int dim,
      int heads,
      boolean causal) {
    check(
        ops, batch, len, dim, heads, ids, probs, new String[] {"q", "k", "v", "out"}, q, k, v, out);
    if (batch == 0 || len == 0) {
      return;
    }
    int dh = dim / heads;
    float scale = (float) (1.0 / Math.sqrt(dh));
    long seq = (long) len * dim; // floats between sequences of (B, T, D)
    long square = (long) len * len; // floats of one (T, T) matrix
    long probsSeq = heads * square; // floats between sequences of (B, H, T, T)
    CublasHandle blas = ops.cublas();
    for (int h = 0; h < heads; h++) {
      int col = h * dh;
      // S_h = scale · q_h k_hᵀ, straight into probs[:, h]
      blas.sgemmStridedBatchedRowMajor(
          false,
          true,
          len,
          len,
          dh,
          scale,
          from(q, col),
          dim,
          seq,
          from(k, col),
          dim,
          seq,
          0f,
          from(probs, h * square),
          len,
          probsSeq,
          batch);
    }
    long rows = (long) batch * heads * len;
    ops.module()
        .launch(
            Kernels.ATTENTION_SOFTMAX,
            warpBlocks(rows),
            THREADS,
            0,
            rows,
            len,
            heads,
            causal ? 1 : 0,
            probs,
            ids);
    for (int h = 0; h < heads; h++) {
      int col = h * dh;
      // out_h = P_h v_h, into out's columns of head h
      blas.sgemmStridedBatchedRowMajor(
          false,
          false,
          len,
          dh,
          len,
          1f,
          from(probs, h * square),
          len,
          probsSeq,
          from(v, col),
          dim,
          seq,
          0f,
          from(out, col),
          dim,
          seq,
          batch);
    }
  }

  static void backward(
      CudaOps ops,
      CudaBuf dq,
      CudaBuf dk,
      CudaBuf dv,
      CudaBuf dOut,
      CudaBuf probs,
      CudaBuf q,
      CudaBuf k,
      CudaBuf v,
      CudaIntBuf ids,
      int batch,
      int len,
      int dim,
      int heads,
      boolean causal) {
    check(
        ops,
        batch,
        len,
        dim,
        heads,
        ids,
        probs,
        new String[] {"q", "k", "v", "dq", "dk", "dv", "dOut"},
        q,
        k,
        v,
        dq,
        dk,
        dv,
        dOut);
    if (batch == 0 || len == 0) {
      return;
    }
    // causal needs nothing here: the causal mask is already in probs (masked entries are 0).
    int dh = dim / heads;
    float scale = (float) (1.0 / Math.sqrt(dh));
    long seq = (long) len * dim;
    long square = (long) len * len;
    long probsSeq = heads * square;
    long rows = (long) batch * len;
    CudaBuf ds = ops.workspace("attn.ds", batch * square); // (B, T, T): dP, then dS in place
    CublasHandle blas = ops.cublas();
    for (int h = 0; h < heads; h++) {
      int col = h * dh;
      // dv_h = P_hᵀ dOut_h
      blas.sgemmStridedBatchedRowMajor(
          true,
          false,
          len,
          dh,
          len,
          1f,
          from(probs, h * square),
          len,
          probsSeq,
          from(dOut, col),
          dim,
          seq,
          0f,
          from(dv, col),
          dim,
          seq,
          batch);
      // dP = dOut_h v_hᵀ
      blas.sgemmStridedBatchedRowMajor(
          false,
          true,
          len,
          len,
          dh,
          1f,
          from(dOut, col),
          dim,
          seq,
          from(v, col),
          dim,
          seq,
          0f,
          ds.floats(),
          len,
          square,
          batch);
      // dS = P ⊙ (dP − rowsum(dP ⊙ P)), PAD query rows 0
      ops.module()
          .launch(
              Kernels.ATTENTION_SOFTMAX_BACKWARD,
              warpBlocks(rows),
              THREADS,
              0,
              rows,
              len,
              heads,
              h,
              ds,
              probs,
              ids);
      // dq_h = scale · dS k_h
      blas.sgemmStridedBatchedRowMajor(
          false,
          false,
          len,
          dh,
          len,
          scale,
          ds.floats(),
          len,
          square,
          from(k, col),
          dim,
          seq,
          0f,
          from(dq, col),
          dim,
          seq,
          batch);
      // dk_h = scale · dSᵀ q_h
      blas.sgemmStridedBatchedRowMajor(
          true,
          false,
          len,
          dh,
          len,
          scale,
          ds.floats(),
          len,
          square,
          from(q, col),
          dim,
          seq,
          0f,
          from(dk, col),
          dim,
          seq,
          batch);
    }
  }

  /**
   * Blocks of {@link #THREADS} threads for one warp per row, capped (the kernels loop over rows).
   */
  private static int warpBlocks(long rows) {
    long warpsPerBlock = THREADS / 32;
    return (int) Math.min(CudaOps.MAX_BLOCKS, (rows + warpsPerBlock - 1) / warpsPerBlock);
  }

  /**
   * A cuBLAS pointer to element {@code offset} of x onwards: the start of a head's column block
   * (offset = h·dh) or of a head's (T, T) matrices in probs (offset = h·T·T). The view runs to the
   * end of x, so it stays inside the buffer however the GEMM strides through it.
   */
  private static FloatPointer from(CudaBuf x, long offset) {
    return x.slice(offset, x.size - offset).floats();
  }

  /** The checks of the CPU engine, plus that every buffer belongs to {@code ops}. */
  private static void check(
      CudaOps ops,
      int batch,
      int len,
      int dim,
      int heads,
      CudaIntBuf ids,
      CudaBuf probs,
      String[] names,
      CudaBuf... seqs) {
    if (batch < 0 || len < 0 || heads < 1 || dim < heads || dim % heads != 0) {
      throw new IllegalArgumentException(
          "attention needs batch, len >= 0 and dim divisible into heads >= 1 equal "
              + "parts, got batch "
              + batch
              + ", len "
              + len
              + ", dim "
              + dim
              + ", heads "
              + heads
              + ".");
    }
    if (ids.size < (long) batch * len) {
      throw new IllegalArgumentException(
          "ids hold " + ids.size + " ints, expected batch·len = " + (long) batch * len + ".");
    }
    if (ids.root.ops != ops) {
      throw new IllegalArgumentException("ids belong to another CUDA engine.");
    }
    long probsNeeded = (long) batch * heads * len * len;
    need("probs", probs, probsNeeded, ops);
    for (int i = 0; i < seqs.length; i++) {
      need(names[i] + " (batch, len, dim)", seqs[i], (long) batch * len * dim, ops);
    }
  }

  private static void need(String what, CudaBuf x, long n, CudaOps ops) {
    if (x.size < n) {
      throw new IllegalArgumentException(
          what + " holds " + x.size + " floats, expected at least " + n + ".");
    }
    if (x.root.ops != ops) {
      throw new IllegalArgumentException(what + " belongs to another CUDA engine.");
    }
  }
}
