package org.recjpq.backend.cpu;

/** Scoring heads and losses of the CPU engine (see {@link org.recjpq.backend.Ops}). */
final class CpuLosses {
  private CpuLosses() {}

  /** The item embeddings a head scores against: a dense table or RecJPQ codes + codebooks. */
  record ItemTable(CpuBuf table, CpuByteBuf codes, CpuBuf codebooks, int splits, int subDim, int dim) {
    static ItemTable dense(CpuBuf table, int dim) {
      return new ItemTable(table, null, null, 0, 0, dim);
    }

    static ItemTable jpq(CpuByteBuf codes, CpuBuf codebooks, int splits, int subDim) {
      return new ItemTable(null, codes, codebooks, splits, subDim, splits * subDim);
    }

    boolean isJpq() {
      return codes != null;
    }
  }

  static void sampledScores(CpuOps ops, CpuBuf scores, CpuBuf h, CpuIntBuf items, CpuIntBuf targets, ItemTable t,
      int rows, int cols) {
    throw new UnsupportedOperationException("not implemented yet");
  }

  static void sampledScoresBackward(CpuOps ops, CpuBuf dH, CpuBuf dTable, CpuBuf dScores, CpuBuf h, CpuIntBuf items,
      CpuIntBuf targets, ItemTable t, int rows, int cols) {
    throw new UnsupportedOperationException("not implemented yet");
  }

  static double bce(CpuOps ops, CpuBuf dScores, CpuBuf scores, CpuIntBuf targets, int rows, int negatives,
      float beta) {
    throw new UnsupportedOperationException("not implemented yet");
  }

  static double sampledSoftmax(CpuOps ops, CpuBuf dScores, CpuBuf scores, CpuBuf logQ, CpuIntBuf targets, int rows,
      int negatives) {
    throw new UnsupportedOperationException("not implemented yet");
  }

  static double fullCrossEntropy(CpuOps ops, CpuBuf dH, CpuBuf dTable, CpuBuf h, CpuIntBuf targets, ItemTable t,
      int rows, int numItems) {
    throw new UnsupportedOperationException("not implemented yet");
  }
}
