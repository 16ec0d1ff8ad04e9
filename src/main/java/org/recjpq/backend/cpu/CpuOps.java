package org.recjpq.backend.cpu;

import static org.recjpq.backend.cpu.CpuBuf.of;

import org.recjpq.backend.Activation;
import org.recjpq.backend.Buf;
import org.recjpq.backend.ByteBuf;
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
  private final CpuMemory memory = new CpuMemory(this);
  private final CpuElementwise elementwise = new CpuElementwise(this);
  private final CpuPositions positional = new CpuPositions(this);

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
    memory.download(dst, src);
  }

  @Override
  public void download(float[] dst, int dstOffset, Buf src, long srcOffset, int length) {
    memory.download(dst, dstOffset, src, srcOffset, length);
  }

  @Override
  public void upload(IntBuf dst, int[] src) {
    memory.upload(dst, src);
  }

  @Override
  public void download(int[] dst, IntBuf src) {
    memory.download(dst, src);
  }

  @Override
  public void upload(ByteBuf dst, byte[] src) {
    memory.upload(dst, src);
  }

  @Override
  public void fill(Buf x, float value) {
    memory.fill(x, value);
  }

  @Override
  public void copy(Buf dst, Buf src) {
    memory.copy(dst, src);
  }

  @Override
  public void scale(Buf x, float alpha) {
    elementwise.scale(x, alpha);
  }

  @Override
  public double sumOfSquares(Buf x) {
    return elementwise.sumOfSquares(x);
  }

  @Override
  public boolean hasNonFinite(Buf x) {
    return elementwise.hasNonFinite(x);
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
    positional.forward(out, in, ids, positions, inScale, batch, len, dim);
  }

  @Override
  public void positionsBackward(
      Buf dIn, Buf dPositions, Buf dOut, IntBuf ids, float inScale, int batch, int len, int dim) {
    positional.backward(dIn, dPositions, dOut, ids, inScale, batch, len, dim);
  }

  @Override
  public void mapIds(IntBuf out, IntBuf in, int rows, int from, int to) {
    positional.mapIds(out, in, rows, from, to);
  }

  @Override
  public void addTokenVector(Buf x, IntBuf ids, int token, Buf vector, int rows, int dim) {
    positional.addTokenVector(x, ids, token, vector, rows, dim);
  }

  @Override
  public void addTokenVectorBackward(
      Buf dVector, Buf dx, IntBuf ids, int token, int rows, int dim) {
    positional.addTokenVectorBackward(dVector, dx, ids, token, rows, dim);
  }

  @Override
  public void maskPadRows(Buf x, IntBuf ids, int rows, int dim) {
    positional.maskPadRows(x, ids, rows, dim);
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
    elementwise.activationForward(out, in, act);
  }

  @Override
  public void activationBackward(Buf dIn, Buf dOut, Buf in, Activation act) {
    elementwise.activationBackward(dIn, dOut, in, act);
  }

  @Override
  public void add(Buf out, Buf a, Buf b) {
    elementwise.add(out, a, b);
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
    elementwise.dropout(of(out), of(in), p, seed, stream);
  }

  @Override
  public void dropoutBackward(Buf dIn, Buf dOut, float p, long seed, long stream) {
    elementwise.dropout(of(dIn), of(dOut), p, seed, stream);
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
    CpuBuf.sameSize(p, g);
    CpuBuf.sameSize(p, mm);
    CpuBuf.sameSize(p, vv);
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
                p.offset + i,
                (float) (pi + CpuMath.adamDelta(pi, mi, vi, lr, eps, weightDecay, c1, c2)));
          }
        });
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
}
