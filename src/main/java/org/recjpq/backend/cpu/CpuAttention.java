package org.recjpq.backend.cpu;

/** Multi-head attention of the CPU engine (see {@link org.recjpq.backend.Ops#attentionForward}). */
final class CpuAttention {
  private CpuAttention() {}

  static void forward(CpuOps ops, CpuBuf out, CpuBuf probs, CpuBuf q, CpuBuf k, CpuBuf v, CpuIntBuf ids, int batch,
      int len, int dim, int heads, boolean causal) {
    throw new UnsupportedOperationException("attention is not implemented yet");
  }

  static void backward(CpuOps ops, CpuBuf dq, CpuBuf dk, CpuBuf dv, CpuBuf dOut, CpuBuf probs, CpuBuf q, CpuBuf k,
      CpuBuf v, CpuIntBuf ids, int batch, int len, int dim, int heads, boolean causal) {
    throw new UnsupportedOperationException("attention is not implemented yet");
  }
}
