package org.recjpq.backend.cuda;

/** The GRU layer of the CUDA engine (the CPU specification: {@code CpuGru}). */
final class CudaGru {
  private CudaGru() {}

  static void forward(CudaOps ops, CudaBuf y, CudaBuf gates, CudaBuf x, CudaBuf wIh, CudaBuf wHh, CudaBuf bIh,
      CudaBuf bHh, CudaIntBuf ids, int batch, int len, int in, int hidden) {
    throw new UnsupportedOperationException("the GRU is not implemented on the CUDA engine yet");
  }

  static void backward(CudaOps ops, CudaBuf dx, CudaBuf dWih, CudaBuf dWhh, CudaBuf dBih, CudaBuf dBhh, CudaBuf dy,
      CudaBuf x, CudaBuf y, CudaBuf gates, CudaBuf wIh, CudaBuf wHh, CudaIntBuf ids, int batch, int len, int in,
      int hidden) {
    throw new UnsupportedOperationException("the GRU is not implemented on the CUDA engine yet");
  }
}
