package org.recjpq.backend.cuda;

/** Multi-head attention of the CUDA engine (the CPU specification: {@code CpuAttention}). */
final class CudaAttention {
  private CudaAttention() {}

  static void forward(CudaOps ops, CudaBuf out, CudaBuf probs, CudaBuf q, CudaBuf k, CudaBuf v, CudaIntBuf ids,
      int batch, int len, int dim, int heads, boolean causal) {
    throw new UnsupportedOperationException("attention is not implemented on the CUDA engine yet");
  }

  static void backward(CudaOps ops, CudaBuf dq, CudaBuf dk, CudaBuf dv, CudaBuf dOut, CudaBuf probs, CudaBuf q,
      CudaBuf k, CudaBuf v, CudaIntBuf ids, int batch, int len, int dim, int heads, boolean causal) {
    throw new UnsupportedOperationException("attention is not implemented on the CUDA engine yet");
  }
}
