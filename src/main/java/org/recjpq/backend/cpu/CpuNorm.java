package org.recjpq.backend.cpu;

import org.recjpq.util.Parallel;

/**
 * Layer normalisation over the last dimension (biased variance, eps inside the square root).
 * Forward and backward are parallel over rows; per-row statistics are summed in double, the element
 * loops run in float (mixing float and double in one loop is several times slower on the JIT). The
 * gamma/beta gradients are summed per fixed block of rows and the blocks added in order, so they do
 * not depend on the thread count.
 */
final class CpuNorm {
  private static final int BLOCK = 256;

  private CpuNorm() {}

  static void forward(
      CpuOps ops,
      CpuBuf out,
      CpuBuf mean,
      CpuBuf rstd,
      CpuBuf in,
      CpuBuf gamma,
      CpuBuf beta,
      int rows,
      int dim,
      float eps) {
    float[] g = gamma.toArray();
    float[] b = beta.toArray();
    Parallel.forRange(
        rows,
        ops.threads,
        (from, to) -> {
          float[] x = new float[dim];
          float[] y = new float[dim];
          for (int r = from; r < to; r++) {
            in.data.get(in.offset + r * dim, x, 0, dim);
            double s = 0;
            for (int j = 0; j < dim; j++) {
              s += x[j];
            }
            float mu = (float) (s / dim);
            double v = 0;
            for (int j = 0; j < dim; j++) {
              float c = x[j] - mu;
              v += c * c;
            }
            float rs = (float) (1.0 / Math.sqrt(v / dim + eps));
            mean.set(r, mu);
            rstd.set(r, rs);
            for (int j = 0; j < dim; j++) {
              y[j] = (x[j] - mu) * rs * g[j] + b[j];
            }
            out.data.put(out.offset + r * dim, y, 0, dim);
          }
        });
  }

  static void backward(
      CpuOps ops,
      CpuBuf dIn,
      CpuBuf dGamma,
      CpuBuf dBeta,
      CpuBuf dOut,
      CpuBuf in,
      CpuBuf mean,
      CpuBuf rstd,
      CpuBuf gamma,
      int rows,
      int dim) {
    int blocks = (rows + BLOCK - 1) / BLOCK;
    float[] partGamma = new float[blocks * dim];
    float[] partBeta = new float[blocks * dim];
    float[] g = gamma.toArray();
    Parallel.forRange(
        blocks,
        ops.threads,
        1,
        (fromBlock, toBlock) -> {
          float[] x = new float[dim];
          float[] dy = new float[dim];
          float[] dx = new float[dim];
          float[] dnorm = new float[dim];
          float[] norm = new float[dim];
          for (int b = fromBlock; b < toBlock; b++) {
            for (int r = b * BLOCK, end = Math.min(rows, r + BLOCK); r < end; r++) {
              in.data.get(in.offset + r * dim, x, 0, dim);
              dOut.data.get(dOut.offset + r * dim, dy, 0, dim);
              dIn.data.get(dIn.offset + r * dim, dx, 0, dim);
              float mu = mean.get(r);
              float rs = rstd.get(r);
              int pb = b * dim;
              for (int j = 0; j < dim; j++) {
                norm[j] = (x[j] - mu) * rs;
                dnorm[j] = dy[j] * g[j];
                partGamma[pb + j] += dy[j] * norm[j];
                partBeta[pb + j] += dy[j];
              }
              double sd = 0;
              double sdn = 0;
              for (int j = 0; j < dim; j++) {
                sd += dnorm[j];
                sdn += dnorm[j] * norm[j];
              }
              float meanD = (float) (sd / dim);
              float meanDn = (float) (sdn / dim);
              for (int j = 0; j < dim; j++) {
                dx[j] += rs * (dnorm[j] - meanD - norm[j] * meanDn);
              }
              dIn.data.put(dIn.offset + r * dim, dx, 0, dim);
            }
          }
        });
    for (int j = 0; j < dim; j++) {
      float sg = dGamma.get(j);
      float sb = dBeta.get(j);
      for (int b = 0; b < blocks; b++) {
        sg += partGamma[b * dim + j];
        sb += partBeta[b * dim + j];
      }
      dGamma.set(j, sg);
      dBeta.set(j, sb);
    }
  }
}
