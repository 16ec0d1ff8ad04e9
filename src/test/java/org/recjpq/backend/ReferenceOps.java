package org.recjpq.backend;

import static org.recjpq.backend.ReferenceBufs.of;
import static org.recjpq.backend.ReferenceBufs.read;
import static org.recjpq.backend.ReferenceBufs.write;

import org.recjpq.backend.ReferenceBufs.Bytes;
import org.recjpq.backend.ReferenceBufs.Floats;
import org.recjpq.backend.ReferenceBufs.Ints;

/**
 * The oracle engine of the tests: every op of {@link Ops} written straight from its javadoc as
 * plain loops, one thread, no tiling, no BLAS. Inputs are read as float32 and widened to double;
 * all arithmetic (sums, exp, log, sqrt) runs in double; each output is rounded to float32 once when
 * it is stored. Accumulated gradients are {@code old + Σ terms} in double, rounded once. So every
 * output is the exact result of the op on its float inputs to within about one float32 rounding,
 * and a tuned engine's distance from it is its own rounding error.
 *
 * <p>Layer norm and the dense layers live in {@link ReferenceLayers}, attention and the GRU in
 * {@link ReferenceSequences}, the item tables in {@link ReferenceItemTable}, the sampled losses in
 * {@link ReferenceLosses}.
 */
public final class ReferenceOps implements Ops {

  @Override
  public String name() {
    return "reference";
  }

  // ---- memory ----------------------------------------------------------------------------

  @Override
  public Buf alloc(long n) {
    return new Floats(new float[Math.toIntExact(n)], 0, (int) n);
  }

  @Override
  public IntBuf allocInts(long n) {
    return new Ints(new int[Math.toIntExact(n)], 0, (int) n);
  }

  @Override
  public ByteBuf allocBytes(long n) {
    return new Bytes(new byte[Math.toIntExact(n)]);
  }

  @Override
  public void upload(Buf dst, float[] src) {
    Floats d = of(dst);
    sameLength(d.size, src.length);
    System.arraycopy(src, 0, d.data, d.offset, src.length);
  }

  @Override
  public void download(float[] dst, Buf src) {
    Floats s = of(src);
    sameLength(s.size, dst.length);
    System.arraycopy(s.data, s.offset, dst, 0, dst.length);
  }

  @Override
  public void upload(IntBuf dst, int[] src) {
    Ints d = of(dst);
    sameLength(d.size, src.length);
    System.arraycopy(src, 0, d.data, d.offset, src.length);
  }

  @Override
  public void download(int[] dst, IntBuf src) {
    Ints s = of(src);
    sameLength(s.size, dst.length);
    System.arraycopy(s.data, s.offset, dst, 0, dst.length);
  }

  @Override
  public void upload(ByteBuf dst, byte[] src) {
    Bytes d = of(dst);
    sameLength(d.data.length, src.length);
    System.arraycopy(src, 0, d.data, 0, src.length);
  }

  @Override
  public void fill(Buf x, float value) {
    Floats f = of(x);
    for (int i = 0; i < f.size; i++) {
      f.set(i, value);
    }
  }

  @Override
  public void copy(Buf dst, Buf src) {
    sameLength(dst.size(), src.size());
    write(dst, read(src));
  }

  @Override
  public void scale(Buf x, float alpha) {
    double[] v = read(x);
    for (int i = 0; i < v.length; i++) {
      v[i] = alpha * v[i];
    }
    write(x, v);
  }

  @Override
  public double sumOfSquares(Buf x) {
    double s = 0;
    for (double v : read(x)) {
      s += v * v;
    }
    return s;
  }

  @Override
  public boolean hasNonFinite(Buf x) {
    for (double v : read(x)) {
      if (!Double.isFinite(v)) {
        return true;
      }
    }
    return false;
  }

  // ---- item tables, positions, special tokens --------------------------------------------

  @Override
  public ItemTable denseTable(int numItems, int dim) {
    return ReferenceItemTable.dense(numItems, dim);
  }

  @Override
  public ItemTable jpqTable(ByteBuf codes, int numItems, int splits, int subDim) {
    return ReferenceItemTable.jpq(of(codes), numItems, splits, subDim);
  }

  @Override
  public void positionsForward(
      Buf out, Buf in, IntBuf ids, Buf positions, float inScale, int batch, int len, int dim) {
    double[] x = read(in, (long) batch * len * dim);
    double[] p = read(positions, (long) len * dim);
    int[] id = read(ids, (long) batch * len);
    double[] y = new double[x.length];
    for (int b = 0; b < batch; b++) {
      for (int t = 0; t < len; t++) {
        int row = b * len + t;
        for (int j = 0; j < dim; j++) {
          y[row * dim + j] = id[row] < 0 ? 0 : inScale * x[row * dim + j] + p[t * dim + j];
        }
      }
    }
    write(out, y);
  }

  @Override
  public void positionsBackward(
      Buf dIn, Buf dPositions, Buf dOut, IntBuf ids, float inScale, int batch, int len, int dim) {
    double[] d = read(dOut, (long) batch * len * dim);
    double[] dp = read(dPositions, (long) len * dim);
    int[] id = read(ids, (long) batch * len);
    double[] dx = new double[d.length];
    for (int b = 0; b < batch; b++) {
      for (int t = 0; t < len; t++) {
        int row = b * len + t;
        if (id[row] < 0) {
          continue; // PAD: dIn stays 0, no gradient to the position
        }
        for (int j = 0; j < dim; j++) {
          dx[row * dim + j] = inScale * d[row * dim + j];
          dp[t * dim + j] += d[row * dim + j];
        }
      }
    }
    write(dIn, dx);
    write(dPositions, dp);
  }

  @Override
  public void mapIds(IntBuf out, IntBuf in, int rows, int from, int to) {
    int[] v = read(in, rows);
    Ints o = of(out);
    for (int r = 0; r < rows; r++) {
      o.set(r, v[r] == from ? to : v[r]);
    }
  }

  @Override
  public void addTokenVector(Buf x, IntBuf ids, int token, Buf vector, int rows, int dim) {
    double[] v = read(x, (long) rows * dim);
    double[] vec = read(vector, dim);
    int[] id = read(ids, rows);
    for (int r = 0; r < rows; r++) {
      if (id[r] == token) {
        for (int j = 0; j < dim; j++) {
          v[r * dim + j] += vec[j];
        }
      }
    }
    write(x, v);
  }

  @Override
  public void addTokenVectorBackward(
      Buf dVector, Buf dx, IntBuf ids, int token, int rows, int dim) {
    double[] acc = read(dVector, dim);
    double[] d = read(dx, (long) rows * dim);
    int[] id = read(ids, rows);
    for (int r = 0; r < rows; r++) {
      if (id[r] == token) {
        for (int j = 0; j < dim; j++) {
          acc[j] += d[r * dim + j];
        }
      }
    }
    write(dVector, acc);
  }

  @Override
  public void maskPadRows(Buf x, IntBuf ids, int rows, int dim) {
    double[] v = read(x, (long) rows * dim);
    int[] id = read(ids, rows);
    for (int r = 0; r < rows; r++) {
      if (id[r] < 0) {
        for (int j = 0; j < dim; j++) {
          v[r * dim + j] = 0;
        }
      }
    }
    write(x, v);
  }

  // ---- normalisation, dense layers, activations --------------------------------------------

  @Override
  public void layerNormForward(
      Buf out, Buf mean, Buf rstd, Buf in, Buf gamma, Buf beta, int rows, int dim, float eps) {
    ReferenceLayers.layerNormForward(out, mean, rstd, in, gamma, beta, rows, dim, eps);
  }

  @Override
  public void layerNormBackward(
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
    ReferenceLayers.layerNormBackward(dIn, dGamma, dBeta, dOut, in, mean, rstd, gamma, rows, dim);
  }

  @Override
  public void linearForward(
      Buf out, Buf in, Buf weight, Buf bias, int rows, int inDim, int outDim) {
    ReferenceLayers.linearForward(out, in, weight, bias, rows, inDim, outDim);
  }

  @Override
  public void linearBackward(
      Buf dIn,
      Buf dWeight,
      Buf dBias,
      Buf dOut,
      Buf in,
      Buf weight,
      int rows,
      int inDim,
      int outDim) {
    ReferenceLayers.linearBackward(dIn, dWeight, dBias, dOut, in, weight, rows, inDim, outDim);
  }

  @Override
  public void matmulTransposed(Buf out, Buf a, Buf b, int rows, int n, int k) {
    ReferenceLayers.matmulTransposed(out, a, b, rows, n, k);
  }

  @Override
  public void activationForward(Buf out, Buf in, Activation act) {
    sameLength(out.size(), in.size());
    double[] u = read(in);
    double[] y = new double[u.length];
    for (int i = 0; i < u.length; i++) {
      y[i] = act == Activation.RELU ? Math.max(u[i], 0) : u[i] * ReferenceMath.normalCdf(u[i]);
    }
    write(out, y);
  }

  @Override
  public void activationBackward(Buf dIn, Buf dOut, Buf in, Activation act) {
    sameLength(dIn.size(), in.size());
    double[] u = read(in);
    double[] d = read(dOut, u.length);
    double[] dx = new double[u.length];
    for (int i = 0; i < u.length; i++) {
      double slope =
          act == Activation.RELU
              ? (u[i] > 0 ? 1 : 0)
              : ReferenceMath.normalCdf(u[i]) + u[i] * ReferenceMath.normalPdf(u[i]);
      dx[i] = d[i] * slope;
    }
    write(dIn, dx);
  }

  @Override
  public void add(Buf out, Buf a, Buf b) {
    sameLength(out.size(), a.size());
    sameLength(out.size(), b.size());
    double[] x = read(a);
    double[] y = read(b);
    for (int i = 0; i < x.length; i++) {
      x[i] += y[i];
    }
    write(out, x);
  }

  @Override
  public void addInPlace(Buf y, Buf x) {
    add(y, y, x);
  }

  // ---- attention and GRU ---------------------------------------------------------------------

  @Override
  public void attentionForward(
      Buf out,
      Buf probs,
      Buf q,
      Buf k,
      Buf v,
      IntBuf ids,
      int batch,
      int len,
      int dim,
      int heads,
      boolean causal) {
    ReferenceSequences.attentionForward(out, probs, q, k, v, ids, batch, len, dim, heads, causal);
  }

  @Override
  public void attentionBackward(
      Buf dq,
      Buf dk,
      Buf dv,
      Buf dOut,
      Buf probs,
      Buf q,
      Buf k,
      Buf v,
      IntBuf ids,
      int batch,
      int len,
      int dim,
      int heads,
      boolean causal) {
    ReferenceSequences.attentionBackward(
        dq, dk, dv, dOut, q, k, v, ids, batch, len, dim, heads, causal);
  }

  @Override
  public void gruForward(
      Buf y,
      Buf gates,
      Buf x,
      Buf wIh,
      Buf wHh,
      Buf bIh,
      Buf bHh,
      IntBuf ids,
      int batch,
      int len,
      int in,
      int hidden) {
    ReferenceSequences.gruForward(y, gates, x, wIh, wHh, bIh, bHh, ids, batch, len, in, hidden);
  }

  @Override
  public void gruBackward(
      Buf dx,
      Buf dWih,
      Buf dWhh,
      Buf dBih,
      Buf dBhh,
      Buf dy,
      Buf x,
      Buf y,
      Buf gates,
      Buf wIh,
      Buf wHh,
      IntBuf ids,
      int batch,
      int len,
      int in,
      int hidden) {
    ReferenceSequences.gruBackward(
        dx, dWih, dWhh, dBih, dBhh, dy, x, y, gates, wIh, wHh, ids, batch, len, in, hidden);
  }

  // ---- dropout -----------------------------------------------------------------------------

  /** Element i is kept when {@code CounterRng.uniform(seed, stream, i) >= p}. */
  static boolean kept(float p, long seed, long stream, long i) {
    return CounterRng.uniform(seed, stream, i) >= p;
  }

  @Override
  public void dropoutForward(Buf out, Buf in, float p, long seed, long stream) {
    dropout(out, in, p, seed, stream);
  }

  @Override
  public void dropoutBackward(Buf dIn, Buf dOut, float p, long seed, long stream) {
    dropout(dIn, dOut, p, seed, stream);
  }

  private static void dropout(Buf out, Buf in, float p, long seed, long stream) {
    sameLength(out.size(), in.size());
    if (!(p >= 0f && p < 1f)) {
      throw new IllegalArgumentException("dropout probability must be in [0, 1), got " + p);
    }
    double[] x = read(in);
    for (int i = 0; i < x.length; i++) {
      x[i] = kept(p, seed, stream, i) ? x[i] / (1.0 - p) : 0;
    }
    write(out, x);
  }

  // ---- sampled losses ----------------------------------------------------------------------

  @Override
  public double bceLoss(
      Buf dScores, Buf scores, IntBuf targets, int rows, int negatives, float beta) {
    return ReferenceLosses.bce(dScores, scores, targets, rows, negatives, beta);
  }

  @Override
  public double sampledSoftmaxLoss(
      Buf dScores, Buf scores, Buf logQ, IntBuf targets, int rows, int negatives) {
    return ReferenceLosses.sampledSoftmax(dScores, scores, logQ, targets, rows, negatives);
  }

  // ---- optimizer ---------------------------------------------------------------------------

  @Override
  public void adamStep(
      Buf params,
      Buf grads,
      Buf m,
      Buf v,
      float lr,
      float beta1,
      float beta2,
      float eps,
      float weightDecay,
      int step) {
    sameLength(params.size(), grads.size());
    sameLength(params.size(), m.size());
    sameLength(params.size(), v.size());
    if (step < 1) {
      throw new IllegalArgumentException("Adam steps count from 1, got " + step);
    }
    double[] p = read(params);
    double[] g = read(grads);
    double[] mm = read(m);
    double[] vv = read(v);
    double c1 = 1 - Math.pow(beta1, step);
    double c2 = 1 - Math.pow(beta2, step);
    for (int i = 0; i < p.length; i++) {
      mm[i] = beta1 * mm[i] + (1 - (double) beta1) * g[i];
      vv[i] = beta2 * vv[i] + (1 - (double) beta2) * g[i] * g[i];
      double mHat = mm[i] / c1;
      double vHat = vv[i] / c2;
      p[i] -= (double) lr * weightDecay * p[i] + lr * mHat / (Math.sqrt(vHat) + eps);
    }
    write(params, p);
    write(m, mm);
    write(v, vv);
  }

  @Override
  public void close() {
    // plain Java arrays: nothing to free
  }

  private static void sameLength(long a, long b) {
    if (a != b) {
      throw new IllegalArgumentException("sizes differ: " + a + " and " + b);
    }
  }
}
