package org.recjpq.backend;

import static org.recjpq.backend.ReferenceBufs.read;
import static org.recjpq.backend.ReferenceBufs.write;

/**
 * Layer norm, linear layers and the transposed product of {@link ReferenceOps}, in double, from the
 * formulas of their {@link Ops} javadoc.
 */
final class ReferenceLayers {
  private ReferenceLayers() {}

  static void layerNormForward(
      Buf out, Buf mean, Buf rstd, Buf in, Buf gamma, Buf beta, int rows, int dim, float eps) {
    double[] x = read(in, (long) rows * dim);
    double[] g = read(gamma, dim);
    double[] bt = read(beta, dim);
    double[] y = new double[x.length];
    double[] mu = new double[rows];
    double[] rs = new double[rows];
    for (int r = 0; r < rows; r++) {
      double s = 0;
      for (int j = 0; j < dim; j++) {
        s += x[r * dim + j];
      }
      mu[r] = s / dim;
      double var = 0; // biased variance
      for (int j = 0; j < dim; j++) {
        double c = x[r * dim + j] - mu[r];
        var += c * c;
      }
      var /= dim;
      rs[r] = 1.0 / Math.sqrt(var + eps);
      for (int j = 0; j < dim; j++) {
        y[r * dim + j] = (x[r * dim + j] - mu[r]) * rs[r] * g[j] + bt[j];
      }
    }
    write(out, y);
    write(mean, mu);
    write(rstd, rs);
  }

  /**
   * With {@code xhat = (x - mean)·rstd} and {@code g = dOut ⊙ gamma}: {@code dx = rstd·(g - mean(g)
   * - xhat·mean(g ⊙ xhat))}, added into dIn; {@code dGamma += Σ_rows dOut ⊙ xhat}, {@code dBeta +=
   * Σ_rows dOut}. The saved mean and rstd are used as given (they define xhat).
   */
  static void layerNormBackward(
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
    double[] x = read(in, (long) rows * dim);
    double[] dy = read(dOut, (long) rows * dim);
    double[] mu = read(mean, rows);
    double[] rs = read(rstd, rows);
    double[] g = read(gamma, dim);
    double[] dx = read(dIn, (long) rows * dim);
    double[] dg = read(dGamma, dim);
    double[] db = read(dBeta, dim);
    double[] xhat = new double[dim];
    double[] gy = new double[dim];
    for (int r = 0; r < rows; r++) {
      double meanG = 0;
      double meanGx = 0;
      for (int j = 0; j < dim; j++) {
        xhat[j] = (x[r * dim + j] - mu[r]) * rs[r];
        gy[j] = dy[r * dim + j] * g[j];
        meanG += gy[j] / dim;
        meanGx += gy[j] * xhat[j] / dim;
        dg[j] += dy[r * dim + j] * xhat[j];
        db[j] += dy[r * dim + j];
      }
      for (int j = 0; j < dim; j++) {
        dx[r * dim + j] += rs[r] * (gy[j] - meanG - xhat[j] * meanGx);
      }
    }
    write(dIn, dx);
    write(dGamma, dg);
    write(dBeta, db);
  }

  static void linearForward(
      Buf out, Buf in, Buf weight, Buf bias, int rows, int inDim, int outDim) {
    double[] x = read(in, (long) rows * inDim);
    double[] w = read(weight, (long) inDim * outDim);
    double[] b = bias == null ? new double[outDim] : read(bias, outDim);
    double[] y = new double[rows * outDim];
    for (int r = 0; r < rows; r++) {
      for (int o = 0; o < outDim; o++) {
        double s = b[o];
        for (int i = 0; i < inDim; i++) {
          s += x[r * inDim + i] * w[i * outDim + o];
        }
        y[r * outDim + o] = s;
      }
    }
    write(out, y);
  }

  static void linearBackward(
      Buf dIn,
      Buf dWeight,
      Buf dBias,
      Buf dOut,
      Buf in,
      Buf weight,
      int rows,
      int inDim,
      int outDim) {
    double[] d = read(dOut, (long) rows * outDim);
    double[] x = read(in, (long) rows * inDim);
    double[] w = read(weight, (long) inDim * outDim);
    if (dIn != null) {
      double[] dx = new double[rows * inDim];
      for (int r = 0; r < rows; r++) {
        for (int i = 0; i < inDim; i++) {
          double s = 0;
          for (int o = 0; o < outDim; o++) {
            s += d[r * outDim + o] * w[i * outDim + o];
          }
          dx[r * inDim + i] = s;
        }
      }
      write(dIn, dx);
    }
    double[] dw = read(dWeight, (long) inDim * outDim);
    for (int i = 0; i < inDim; i++) {
      for (int o = 0; o < outDim; o++) {
        for (int r = 0; r < rows; r++) {
          dw[i * outDim + o] += x[r * inDim + i] * d[r * outDim + o];
        }
      }
    }
    write(dWeight, dw);
    if (dBias != null) {
      double[] db = read(dBias, outDim);
      for (int r = 0; r < rows; r++) {
        for (int o = 0; o < outDim; o++) {
          db[o] += d[r * outDim + o];
        }
      }
      write(dBias, db);
    }
  }

  static void matmulTransposed(Buf out, Buf a, Buf b, int rows, int n, int k) {
    double[] x = read(a, (long) rows * k);
    double[] y = read(b, (long) n * k);
    double[] o = new double[rows * n];
    for (int r = 0; r < rows; r++) {
      for (int c = 0; c < n; c++) {
        double s = 0;
        for (int j = 0; j < k; j++) {
          s += x[r * k + j] * y[c * k + j];
        }
        o[r * n + c] = s;
      }
    }
    write(out, o);
  }
}
