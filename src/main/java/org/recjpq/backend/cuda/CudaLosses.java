package org.recjpq.backend.cuda;

/** Scoring heads and losses of the CUDA engine (the CPU specification: {@code CpuLosses}). */
final class CudaLosses {
  private CudaLosses() {}

  /** An item table on the device: dense (N, dim) or RecJPQ codes (N, splits) + codebooks (splits, 256, subDim). */
  record Items(CudaBuf table, CudaByteBuf codes, CudaBuf codebooks, int splits, int subDim, int dim) {
    static Items dense(CudaBuf table, int dim) {
      return new Items(table, null, null, 0, 0, dim);
    }

    static Items jpq(CudaByteBuf codes, CudaBuf codebooks, int splits, int subDim) {
      return new Items(null, codes, codebooks, splits, subDim, splits * subDim);
    }

    boolean isJpq() {
      return codes != null;
    }
  }

  static void sampledScores(CudaOps ops, CudaBuf scores, CudaBuf h, CudaIntBuf items, CudaIntBuf targets,
      Items table, int rows, int cols) {
    throw new UnsupportedOperationException("sampled scores are not implemented on the CUDA engine yet");
  }

  static void sampledScoresBackward(CudaOps ops, CudaBuf dH, CudaBuf dTable, CudaBuf dScores, CudaBuf h,
      CudaIntBuf items, CudaIntBuf targets, Items table, int rows, int cols) {
    throw new UnsupportedOperationException("sampled scores are not implemented on the CUDA engine yet");
  }

  static double bce(CudaOps ops, CudaBuf dScores, CudaBuf scores, CudaIntBuf targets, int rows, int negatives,
      float beta) {
    throw new UnsupportedOperationException("BCE is not implemented on the CUDA engine yet");
  }

  static double sampledSoftmax(CudaOps ops, CudaBuf dScores, CudaBuf scores, CudaBuf logQ, CudaIntBuf targets,
      int rows, int negatives) {
    throw new UnsupportedOperationException("sampled softmax is not implemented on the CUDA engine yet");
  }

  static double fullCrossEntropy(CudaOps ops, CudaBuf dH, CudaBuf dTable, CudaBuf h, CudaIntBuf targets, Items table,
      int rows, int numItems) {
    throw new UnsupportedOperationException("full cross-entropy is not implemented on the CUDA engine yet");
  }
}
