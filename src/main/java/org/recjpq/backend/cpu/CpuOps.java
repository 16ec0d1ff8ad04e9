package org.recjpq.backend.cpu;

import static org.recjpq.backend.cpu.CpuBuf.of;

import org.recjpq.backend.Activation;
import org.recjpq.backend.Buf;
import org.recjpq.backend.ByteBuf;
import org.recjpq.backend.CounterRng;
import org.recjpq.backend.IntBuf;
import org.recjpq.backend.ItemTable;
import org.recjpq.backend.Ops;
import org.recjpq.util.Parallel;

/**
 * The CPU engine: the specification every other engine is tested against. Plain loops over rows,
 * multi-threaded with {@link Parallel}, GEMMs through OpenBLAS on off-heap buffers ({@link
 * CpuBuf}). Attention lives in {@link CpuAttention}, the item tables (look-ups, scoring heads, the
 * full cross-entropy) in {@link CpuDenseTable} and {@link CpuJpqTable} over {@link CpuLosses}, the
 * sampled losses in {@link CpuLosses}; everything else is here. Each output element is computed by
 * one thread in a fixed order, so results do not depend on the thread count (OpenBLAS GEMMs aside,
 * whose blocking may).
 */
public final class CpuOps implements Ops {
  final int threads;

  /** An engine using {@code threads} worker threads for its own loops. */
  public CpuOps(int threads) {
    if (threads < 1) {
      throw new IllegalArgumentException("threads must be at least 1, got " + threads);
    }
    this.threads = threads;
  }

  /** An engine using every available processor. */
  public CpuOps() {
    this(Runtime.getRuntime().availableProcessors());
  }

  @Override
  public String name() {
    return "cpu";
  }

  // ---- memory ----------------------------------------------------------------------------

  @Override
  public CpuBuf alloc(long n) {
    return CpuBuf.allocate(n);
  }

  @Override
  public CpuIntBuf allocInts(long n) {
    return new CpuIntBuf(new int[Math.toIntExact(n)], 0, (int) n);
  }

  @Override
  public CpuByteBuf allocBytes(long n) {
    return new CpuByteBuf(new byte[Math.toIntExact(n)]);
  }

  @Override
  public void upload(Buf dst, float[] src) {
    of(dst).put(src);
  }

  @Override
  public void download(float[] dst, Buf src) {
    CpuBuf s = of(src);
    if (dst.length != s.size) {
      throw new IllegalArgumentException(
          "expected " + s.size + " floats, got room for " + dst.length);
    }
    s.data.get(s.offset, dst, 0, s.size);
  }

  @Override
  public void download(float[] dst, int dstOffset, Buf src, long srcOffset, int length) {
    CpuBuf s = of(src);
    if (srcOffset < 0 || length < 0 || srcOffset + length > s.size) {
      throw new IndexOutOfBoundsException(
          "floats [" + srcOffset + ", " + (srcOffset + length) + ") of " + s.size);
    }
    s.data.get(s.offset + (int) srcOffset, dst, dstOffset, length);
  }

  @Override
  public void upload(IntBuf dst, int[] src) {
    CpuIntBuf d = CpuIntBuf.of(dst);
    if (src.length != d.size) {
      throw new IllegalArgumentException("expected " + d.size + " ints, got " + src.length);
    }
    System.arraycopy(src, 0, d.data, d.offset, d.size);
  }

  @Override
  public void download(int[] dst, IntBuf src) {
    CpuIntBuf s = CpuIntBuf.of(src);
    if (dst.length != s.size) {
      throw new IllegalArgumentException(
          "expected " + s.size + " ints, got room for " + dst.length);
    }
    System.arraycopy(s.data, s.offset, dst, 0, s.size);
  }

  @Override
  public void upload(ByteBuf dst, byte[] src) {
    CpuByteBuf d = CpuByteBuf.of(dst);
    if (src.length != d.data.length) {
      throw new IllegalArgumentException("expected " + d.data.length + " bytes, got " + src.length);
    }
    System.arraycopy(src, 0, d.data, 0, src.length);
  }

  @Override
  public void fill(Buf x, float value) {
    CpuBuf b = of(x);
    forChunks(
        b.size,
        (from, to) -> {
          for (int i = from; i < to; i++) {
            b.data.put(b.offset + i, value);
          }
        });
  }

  @Override
  public void copy(Buf dst, Buf src) {
    CpuBuf d = of(dst);
    CpuBuf s = of(src);
    sameSize(d, s);
    forChunks(
        d.size,
        (from, to) -> {
          for (int i = from; i < to; i++) {
            d.data.put(d.offset + i, s.data.get(s.offset + i));
          }
        });
  }

  @Override
  public void scale(Buf x, float alpha) {
    CpuBuf b = of(x);
    forChunks(
        b.size,
        (from, to) -> {
          for (int i = from; i < to; i++) {
            b.data.put(b.offset + i, alpha * b.data.get(b.offset + i));
          }
        });
  }

  @Override
  public double sumOfSquares(Buf x) {
    CpuBuf b = of(x);
    int chunk = 1 << 16;
    int chunks = (b.size + chunk - 1) / chunk;
    double[] part = new double[chunks];
    Parallel.forRange(
        chunks,
        threads,
        1,
        (from, to) -> {
          for (int c = from; c < to; c++) {
            double s = 0;
            for (int i = c * chunk, end = Math.min(b.size, i + chunk); i < end; i++) {
              double v = b.data.get(b.offset + i);
              s += v * v;
            }
            part[c] = s;
          }
        });
    double sum = 0;
    for (double p : part) {
      sum += p; // fixed order: independent of the thread count
    }
    return sum;
  }

  @Override
  public boolean hasNonFinite(Buf x) {
    CpuBuf b = of(x);
    for (int i = 0; i < b.size; i++) {
      if (!Float.isFinite(b.data.get(b.offset + i))) {
        return true;
      }
    }
    return false;
  }

  // ---- item tables, positions, special tokens --------------------------------------------

  @Override
  public ItemTable denseTable(int numItems, int dim) {
    return new CpuDenseTable(this, numItems, dim);
  }

  @Override
  public ItemTable jpqTable(ByteBuf codes, int numItems, int splits, int subDim) {
    return new CpuJpqTable(this, CpuByteBuf.of(codes), numItems, splits, subDim);
  }

  @Override
  public void positionsForward(
      Buf out, Buf in, IntBuf ids, Buf positions, float inScale, int batch, int len, int dim) {
    CpuBuf o = of(out);
    CpuBuf x = of(in);
    CpuBuf p = of(positions);
    CpuIntBuf id = CpuIntBuf.of(ids);
    Parallel.forRange(
        batch * len,
        threads,
        (from, to) -> {
          for (int r = from; r < to; r++) {
            int t = r % len;
            boolean pad = id.get(r) < 0;
            for (int j = 0; j < dim; j++) {
              float v =
                  pad
                      ? 0f
                      : inScale * x.data.get(x.offset + r * dim + j)
                          + p.data.get(p.offset + t * dim + j);
              o.data.put(o.offset + r * dim + j, v);
            }
          }
        });
  }

  @Override
  public void positionsBackward(
      Buf dIn, Buf dPositions, Buf dOut, IntBuf ids, float inScale, int batch, int len, int dim) {
    CpuBuf di = of(dIn);
    CpuBuf dp = of(dPositions);
    CpuBuf d = of(dOut);
    CpuIntBuf id = CpuIntBuf.of(ids);
    Parallel.forRange(
        batch * len,
        threads,
        (from, to) -> {
          for (int r = from; r < to; r++) {
            boolean pad = id.get(r) < 0;
            for (int j = 0; j < dim; j++) {
              di.data.put(
                  di.offset + r * dim + j, pad ? 0f : inScale * d.data.get(d.offset + r * dim + j));
            }
          }
        });
    Parallel.forRange(
        len,
        threads,
        (from, to) -> { // each position row summed over the batch in order
          for (int t = from; t < to; t++) {
            for (int b = 0; b < batch; b++) {
              int r = b * len + t;
              if (id.get(r) < 0) {
                continue;
              }
              for (int j = 0; j < dim; j++) {
                int pi = dp.offset + t * dim + j;
                dp.data.put(pi, dp.data.get(pi) + d.data.get(d.offset + r * dim + j));
              }
            }
          }
        });
  }

  @Override
  public void mapIds(IntBuf out, IntBuf in, int rows, int from, int to) {
    CpuIntBuf o = CpuIntBuf.of(out);
    CpuIntBuf i = CpuIntBuf.of(in);
    for (int r = 0; r < rows; r++) {
      int v = i.get(r);
      o.data[o.offset + r] = v == from ? to : v;
    }
  }

  @Override
  public void addTokenVector(Buf x, IntBuf ids, int token, Buf vector, int rows, int dim) {
    CpuBuf b = of(x);
    CpuIntBuf id = CpuIntBuf.of(ids);
    float[] v = of(vector).toArray();
    for (int r = 0; r < rows; r++) {
      if (id.get(r) == token) {
        for (int j = 0; j < dim; j++) {
          b.data.put(b.offset + r * dim + j, b.data.get(b.offset + r * dim + j) + v[j]);
        }
      }
    }
  }

  @Override
  public void addTokenVectorBackward(
      Buf dVector, Buf dx, IntBuf ids, int token, int rows, int dim) {
    CpuBuf d = of(dx);
    CpuBuf dv = of(dVector);
    CpuIntBuf id = CpuIntBuf.of(ids);
    float[] acc = dv.toArray();
    for (int r = 0; r < rows; r++) {
      if (id.get(r) == token) {
        for (int j = 0; j < dim; j++) {
          acc[j] += d.data.get(d.offset + r * dim + j);
        }
      }
    }
    dv.put(acc);
  }

  @Override
  public void maskPadRows(Buf x, IntBuf ids, int rows, int dim) {
    CpuBuf b = of(x);
    CpuIntBuf id = CpuIntBuf.of(ids);
    Parallel.forRange(
        rows,
        threads,
        (from, to) -> {
          for (int r = from; r < to; r++) {
            if (id.get(r) < 0) {
              for (int j = 0; j < dim; j++) {
                b.data.put(b.offset + r * dim + j, 0f);
              }
            }
          }
        });
  }

  // ---- normalisation, dense layers, activations --------------------------------------------

  @Override
  public void layerNormForward(
      Buf out, Buf mean, Buf rstd, Buf in, Buf gamma, Buf beta, int rows, int dim, float eps) {
    CpuNorm.forward(this, of(out), of(mean), of(rstd), of(in), of(gamma), of(beta), rows, dim, eps);
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
    CpuNorm.backward(
        this,
        of(dIn),
        of(dGamma),
        of(dBeta),
        of(dOut),
        of(in),
        of(mean),
        of(rstd),
        of(gamma),
        rows,
        dim);
  }

  @Override
  public void linearForward(
      Buf out, Buf in, Buf weight, Buf bias, int rows, int inDim, int outDim) {
    CpuBuf o = of(out);
    if (bias != null) {
      CpuBuf b = of(bias);
      float[] bv = b.toArray();
      Parallel.forRange(
          rows,
          threads,
          (from, to) -> {
            for (int r = from; r < to; r++) {
              o.data.put(o.offset + r * outDim, bv, 0, outDim);
            }
          });
    }
    CpuGemm.rows(
        this,
        false,
        rows,
        outDim,
        inDim,
        1f,
        of(in),
        inDim,
        of(weight),
        outDim,
        bias != null ? 1f : 0f,
        o,
        outDim);
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
    CpuBuf d = of(dOut);
    if (dIn != null) {
      CpuGemm.rows(
          this, true, rows, inDim, outDim, 1f, d, outDim, of(weight), outDim, 0f, of(dIn), inDim);
    }
    CpuGemm.transposedReduce(
        this, rows, inDim, outDim, of(in), inDim, d, outDim, of(dWeight), outDim);
    if (dBias != null) {
      CpuGemm.columnSums(this, rows, outDim, d, of(dBias));
    }
  }

  @Override
  public void matmulTransposed(Buf out, Buf a, Buf b, int rows, int n, int k) {
    CpuGemm.rows(this, true, rows, n, k, 1f, of(a), k, of(b), k, 0f, of(out), n);
  }

  @Override
  public void activationForward(Buf out, Buf in, Activation act) {
    CpuBuf o = of(out);
    CpuBuf x = of(in);
    sameSize(o, x);
    forChunks(
        o.size,
        (from, to) -> {
          for (int i = from; i < to; i++) {
            float u = x.data.get(x.offset + i);
            o.data.put(o.offset + i, act == Activation.RELU ? Math.max(u, 0f) : CpuMath.gelu(u));
          }
        });
  }

  @Override
  public void activationBackward(Buf dIn, Buf dOut, Buf in, Activation act) {
    CpuBuf di = of(dIn);
    CpuBuf d = of(dOut);
    CpuBuf x = of(in);
    sameSize(di, x);
    forChunks(
        di.size,
        (from, to) -> {
          for (int i = from; i < to; i++) {
            float u = x.data.get(x.offset + i);
            float g = d.data.get(d.offset + i);
            di.data.put(
                di.offset + i,
                act == Activation.RELU ? (u > 0f ? g : 0f) : g * CpuMath.geluGrad(u));
          }
        });
  }

  @Override
  public void add(Buf out, Buf a, Buf b) {
    CpuBuf o = of(out);
    CpuBuf x = of(a);
    CpuBuf y = of(b);
    sameSize(o, x);
    sameSize(o, y);
    forChunks(
        o.size,
        (from, to) -> {
          for (int i = from; i < to; i++) {
            o.data.put(o.offset + i, x.data.get(x.offset + i) + y.data.get(y.offset + i));
          }
        });
  }

  @Override
  public void addInPlace(Buf y, Buf x) {
    add(y, y, x);
  }

  // ---- attention ---------------------------------------------------------------------------

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
    CpuGru.forward(
        this,
        of(y),
        of(gates),
        of(x),
        of(wIh),
        of(wHh),
        of(bIh),
        of(bHh),
        ids == null ? null : CpuIntBuf.of(ids),
        batch,
        len,
        in,
        hidden);
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
    CpuGru.backward(
        this,
        of(dx),
        of(dWih),
        of(dWhh),
        of(dBih),
        of(dBhh),
        of(dy),
        of(x),
        of(y),
        of(gates),
        of(wIh),
        of(wHh),
        ids == null ? null : CpuIntBuf.of(ids),
        batch,
        len,
        in,
        hidden);
  }

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
    CpuAttention.forward(
        this,
        of(out),
        of(probs),
        of(q),
        of(k),
        of(v),
        CpuIntBuf.of(ids),
        batch,
        len,
        dim,
        heads,
        causal);
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
    CpuAttention.backward(
        this,
        of(dq),
        of(dk),
        of(dv),
        of(dOut),
        of(probs),
        of(q),
        of(k),
        of(v),
        CpuIntBuf.of(ids),
        batch,
        len,
        dim,
        heads,
        causal);
  }

  // ---- dropout -----------------------------------------------------------------------------

  @Override
  public void dropoutForward(Buf out, Buf in, float p, long seed, long stream) {
    dropout(of(out), of(in), p, seed, stream);
  }

  @Override
  public void dropoutBackward(Buf dIn, Buf dOut, float p, long seed, long stream) {
    dropout(of(dIn), of(dOut), p, seed, stream);
  }

  private void dropout(CpuBuf o, CpuBuf x, float p, long seed, long stream) {
    sameSize(o, x);
    if (!(p >= 0f && p < 1f)) {
      throw new IllegalArgumentException("dropout probability must be in [0, 1), got " + p);
    }
    float keepScale = 1f / (1f - p);
    long key = CounterRng.key(seed, stream);
    // uniform >= p  <=>  (bits >>> 40) >= p · 2^24 (both exact), compared as integers
    long threshold = (long) Math.ceil(p * (double) (1 << 24));
    float[] factor = {keepScale, 0f}; // indexed by the drop bit: no unpredictable branch
    forChunks(
        o.size,
        (from, to) -> {
          float[] v = new float[to - from];
          x.data.get(x.offset + from, v, 0, v.length);
          for (int i = 0; i < v.length; i++) {
            int drop = (int) (((CounterRng.bitsAt(key, from + i) >>> 40) - threshold) >>> 63);
            v[i] *= factor[drop];
          }
          o.data.put(o.offset + from, v, 0, v.length);
        });
  }

  // ---- sampled losses --------------------------------------------------------------------

  @Override
  public double bceLoss(
      Buf dScores, Buf scores, IntBuf targets, int rows, int negatives, float beta) {
    return CpuLosses.bce(
        this, of(dScores), of(scores), CpuIntBuf.of(targets), rows, negatives, beta);
  }

  @Override
  public double sampledSoftmaxLoss(
      Buf dScores, Buf scores, Buf logQ, IntBuf targets, int rows, int negatives) {
    return CpuLosses.sampledSoftmax(
        this, of(dScores), of(scores), of(logQ), CpuIntBuf.of(targets), rows, negatives);
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
    CpuBuf p = of(params);
    CpuBuf g = of(grads);
    CpuBuf mm = of(m);
    CpuBuf vv = of(v);
    sameSize(p, g);
    sameSize(p, mm);
    sameSize(p, vv);
    if (step < 1) {
      throw new IllegalArgumentException("Adam steps count from 1, got " + step);
    }
    double c1 = 1.0 - Math.pow(beta1, step);
    double c2 = 1.0 - Math.pow(beta2, step);
    forChunks(
        p.size,
        (from, to) -> {
          for (int i = from; i < to; i++) {
            float gi = g.data.get(g.offset + i);
            float mi = beta1 * mm.data.get(mm.offset + i) + (1f - beta1) * gi;
            float vi = beta2 * vv.data.get(vv.offset + i) + (1f - beta2) * gi * gi;
            mm.data.put(mm.offset + i, mi);
            vv.data.put(vv.offset + i, vi);
            float pi = p.data.get(p.offset + i);
            p.data.put(
                p.offset + i, (float) (pi + adamDelta(pi, mi, vi, lr, eps, weightDecay, c1, c2)));
          }
        });
  }

  /**
   * The change Adam(W) makes to one parameter, {@code -lr·wd·p - lr·m̂/(sqrt(v̂) + eps)} with
   * {@code m̂ = m/c1}, {@code v̂ = v/c2} (c = 1 - β^t), in double; the golden files check it
   * directly.
   */
  static double adamDelta(
      float param,
      float mNew,
      float vNew,
      float lr,
      float eps,
      float weightDecay,
      double c1,
      double c2) {
    return -(lr * (double) weightDecay * param + lr * (mNew / c1) / (Math.sqrt(vNew / c2) + eps));
  }

  @Override
  public void close() {
    // buffers are garbage-collected; nothing else is held
  }

  // ---- helpers -----------------------------------------------------------------------------

  /** Runs {@code body} over [0, n) in chunks of 16k elements on this engine's threads. */
  void forChunks(long n, Parallel.RangeBody body) {
    Parallel.forRange((int) n, threads, 1 << 14, body);
  }

  private static void sameSize(CpuBuf a, CpuBuf b) {
    if (a.size != b.size) {
      throw new IllegalArgumentException("buffer sizes differ: " + a.size + " and " + b.size);
    }
  }
}
