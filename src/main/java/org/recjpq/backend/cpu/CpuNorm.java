package org.recjpq.backend.cpu;

import org.recjpq.util.Parallel;

/**
 * Layer normalisation over the last dimension (biased variance, eps inside the square root).
 * Forward and backward are parallel over rows; the gamma/beta gradients are summed per fixed
 * block of rows and the blocks added in order, so they do not depend on the thread count.
 */
final class CpuNorm {
  private static final int BLOCK = 256;

  private CpuNorm() {}

  static void forward(CpuOps ops, CpuBuf out, CpuBuf mean, CpuBuf rstd, CpuBuf in, CpuBuf gamma, CpuBuf beta,
      int rows, int dim, float eps) {
    Parallel.forRange(rows, ops.threads, (from, to) -> {
      for (int r = from; r < to; r++) {
        int x0 = in.offset + r * dim;
        double s = 0;
        for (int j = 0; j < dim; j++) {
          s += in.data.get(x0 + j);
        }
        double mu = s / dim;
        double v = 0;
        for (int j = 0; j < dim; j++) {
          double c = in.data.get(x0 + j) - mu;
          v += c * c;
        }
        double rs = 1.0 / Math.sqrt(v / dim + eps);
        mean.set(r, (float) mu);
        rstd.set(r, (float) rs);
        int o0 = out.offset + r * dim;
        for (int j = 0; j < dim; j++) {
          double norm = (in.data.get(x0 + j) - mu) * rs;
          out.data.put(o0 + j, (float) (norm * gamma.get(j) + beta.get(j)));
        }
      }
    });
  }

  static void backward(CpuOps ops, CpuBuf dIn, CpuBuf dGamma, CpuBuf dBeta, CpuBuf dOut, CpuBuf in, CpuBuf mean,
      CpuBuf rstd, CpuBuf gamma, int rows, int dim) {
    int blocks = (rows + BLOCK - 1) / BLOCK;
    double[] partGamma = new double[blocks * dim];
    double[] partBeta = new double[blocks * dim];
    Parallel.forRange(blocks, ops.threads, 1, (fromBlock, toBlock) -> {
      double[] dnorm = new double[dim];
      double[] norm = new double[dim];
      for (int b = fromBlock; b < toBlock; b++) {
        for (int r = b * BLOCK, end = Math.min(rows, r + BLOCK); r < end; r++) {
          int x0 = in.offset + r * dim;
          int g0 = dOut.offset + r * dim;
          double mu = mean.get(r);
          double rs = rstd.get(r);
          double meanD = 0;
          double meanDn = 0;
          for (int j = 0; j < dim; j++) {
            double g = dOut.data.get(g0 + j);
            norm[j] = (in.data.get(x0 + j) - mu) * rs;
            dnorm[j] = g * gamma.get(j);
            meanD += dnorm[j];
            meanDn += dnorm[j] * norm[j];
            partGamma[b * dim + j] += g * norm[j];
            partBeta[b * dim + j] += g;
          }
          meanD /= dim;
          meanDn /= dim;
          int d0 = dIn.offset + r * dim;
          for (int j = 0; j < dim; j++) {
            double dx = rs * (dnorm[j] - meanD - norm[j] * meanDn);
            dIn.data.put(d0 + j, (float) (dIn.data.get(d0 + j) + dx));
          }
        }
      }
    });
    for (int j = 0; j < dim; j++) {
      double sg = 0;
      double sb = 0;
      for (int b = 0; b < blocks; b++) {
        sg += partGamma[b * dim + j];
        sb += partBeta[b * dim + j];
      }
      dGamma.set(j, (float) (dGamma.get(j) + sg));
      dBeta.set(j, (float) (dBeta.get(j) + sb));
    }
  }
}
