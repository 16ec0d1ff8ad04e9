package org.recjpq.backend.cuda;

import org.recjpq.backend.Activation;
import org.recjpq.backend.Availability;
import org.recjpq.backend.Buf;
import org.recjpq.backend.ByteBuf;
import org.recjpq.backend.IntBuf;
import org.recjpq.backend.ItemTable;
import org.recjpq.backend.Ops;

/**
 * The CUDA engine: every {@link Ops} method on device memory, with the CPU engine as its
 * specification (the contract tests compare the two). Kernels come from {@code cuda/*.cu} (one
 * fatbin, see CMakeLists.txt); GEMMs go to cuBLAS through {@link CublasHandle}. Attention lives in
 * {@link CudaAttention}, the item tables (look-ups, scoring heads, the full cross-entropy) in
 * {@link CudaDenseTable} and {@link CudaJpqTable} over {@link CudaLosses}, the sampled losses in
 * {@link CudaLosses}, the GRU in {@link CudaGru}, layer norm and dense layers in {@link
 * CudaLayers}, the element-wise ops in {@link CudaElementwise}, the embedding-position ops in
 * {@link CudaPositions}; the context, launch and GEMM helpers in {@link CudaDevice}, memory in
 * {@link CudaMemory}. This class is the {@link Ops} contract over them.
 *
 * <h2>Threads and memory</h2>
 *
 * One engine is used by one thread at a time, but that thread may change: a CUDA context is current
 * only on the threads that made it current, so the engine makes the device's primary context
 * current on each thread the first time the thread calls it (a serving pool's threads take turns on
 * one engine). Buffers from {@link #alloc} are device allocations that stay alive while any view of
 * them is reachable; allocations whose views were all collected are freed at the next {@code alloc}
 * (on the owning thread, where the context is current), and {@link #close} frees everything. All
 * work runs on the legacy default stream, in order; host copies are synchronous.
 *
 * <h2>Determinism</h2>
 *
 * Scatter-adds into parameter gradients (item look-ups' backward, the RecJPQ codebook scatter) use
 * float atomics by default, which makes the order of the additions, and so the last bits of the
 * sums, vary from run to run. With {@code deterministic = true} (system property {@code
 * recjpq.cuda.deterministic=true}) they run without float atomics, one thread per output column
 * adding rows in order: slower, bit-reproducible, and in the same order as the CPU engine.
 *
 * <p>Launch errors name the kernel and its launch shape; {@code recjpq.cuda.sync=true} synchronises
 * after every launch so asynchronous faults surface at the launch that caused them.
 */
public final class CudaOps extends CudaDevice implements Ops {
  private final CudaElementwise elementwise = new CudaElementwise(this);
  private final CudaPositions positional = new CudaPositions(this);
  private final CudaLayers layers = new CudaLayers(this);

  private CudaOps(
      CudaContext context, CudaModule module, CublasHandle cublas, boolean deterministic) {
    super(context, module, cublas, deterministic);
  }

  /**
   * Opens the engine on device {@code ordinal}: retains its primary context, loads the kernels and
   * creates a cuBLAS handle in plain FP32 ({@link CublasHandle.MathMode#PEDANTIC}, so results match
   * the CPU within FP32 rounding).
   *
   * @throws CudaException or {@link IllegalStateException} with the reason when CUDA cannot be used
   */
  public static CudaOps open(int ordinal, boolean deterministic) {
    Availability a = CudaAvailability.check();
    if (!a.available()) {
      throw new IllegalStateException("The CUDA engine is not available: " + a.description());
    }
    CudaContext context = CudaContext.retainPrimary(ordinal);
    CudaModule module = null;
    try {
      module = context.loadKernels();
      CublasHandle cublas = CublasHandle.create(context);
      return new CudaOps(context, module, cublas, deterministic);
    } catch (RuntimeException
        | LinkageError e) { // a missing or mismatched cuBLAS is a LinkageError
      if (module != null) {
        module.close();
      }
      context.close();
      throw e;
    }
  }

  /**
   * {@link #open(int, boolean)} on device 0, deterministic when {@code
   * recjpq.cuda.deterministic=true}.
   */
  public static CudaOps open() {
    return open(0, Boolean.getBoolean("recjpq.cuda.deterministic"));
  }

  @Override
  public String name() {
    return "cuda";
  }

  // ---- memory ----------------------------------------------------------------------------

  @Override
  public CudaBuf alloc(long n) {
    return memory.alloc(n);
  }

  @Override
  public CudaIntBuf allocInts(long n) {
    return memory.allocInts(n);
  }

  @Override
  public CudaByteBuf allocBytes(long n) {
    return memory.allocBytes(n);
  }

  @Override
  public void upload(Buf dst, float[] src) {
    memory.upload(dst, src);
  }

  @Override
  public void download(float[] dst, Buf src) {
    memory.download(dst, src);
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

  /** Downloads bytes (tests). */
  public void download(byte[] dst, ByteBuf src) {
    memory.download(dst, src);
  }

  @Override
  public void fill(Buf x, float value) {
    memory.fill(x, value);
  }

  @Override
  public void copy(Buf dst, Buf src) {
    memory.copy(dst, src);
  }

  // ---- element-wise ------------------------------------------------------------------------

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
    return new CudaDenseTable(this, numItems, dim);
  }

  @Override
  public ItemTable jpqTable(ByteBuf codes, int numItems, int splits, int subDim) {
    return new CudaJpqTable(this, CudaByteBuf.of(codes), numItems, splits, subDim);
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
    layers.layerNormForward(out, mean, rstd, in, gamma, beta, rows, dim, eps);
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
    layers.layerNormBackward(dIn, dGamma, dBeta, dOut, in, mean, rstd, gamma, rows, dim);
  }

  @Override
  public void linearForward(
      Buf out, Buf in, Buf weight, Buf bias, int rows, int inDim, int outDim) {
    layers.linearForward(out, in, weight, bias, rows, inDim, outDim);
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
    layers.linearBackward(dIn, dWeight, dBias, dOut, in, weight, rows, inDim, outDim);
  }

  @Override
  public void matmulTransposed(Buf out, Buf a, Buf b, int rows, int n, int k) {
    gemm(false, true, rows, n, k, 1f, CudaBuf.of(a), k, CudaBuf.of(b), k, 0f, CudaBuf.of(out), n);
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

  // ---- attention, GRU ------------------------------------------------------------------------

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
    CudaAttention.forward(
        this,
        CudaBuf.of(out),
        CudaBuf.of(probs),
        CudaBuf.of(q),
        CudaBuf.of(k),
        CudaBuf.of(v),
        CudaIntBuf.of(ids),
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
    CudaAttention.backward(
        this,
        CudaBuf.of(dq),
        CudaBuf.of(dk),
        CudaBuf.of(dv),
        CudaBuf.of(dOut),
        CudaBuf.of(probs),
        CudaBuf.of(q),
        CudaBuf.of(k),
        CudaBuf.of(v),
        CudaIntBuf.of(ids),
        batch,
        len,
        dim,
        heads,
        causal);
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
    CudaGru.forward(
        this,
        CudaBuf.of(y),
        CudaBuf.of(gates),
        CudaBuf.of(x),
        CudaBuf.of(wIh),
        CudaBuf.of(wHh),
        CudaBuf.of(bIh),
        CudaBuf.of(bHh),
        ids == null ? null : CudaIntBuf.of(ids),
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
    CudaGru.backward(
        this,
        CudaBuf.of(dx),
        CudaBuf.of(dWih),
        CudaBuf.of(dWhh),
        CudaBuf.of(dBih),
        CudaBuf.of(dBhh),
        CudaBuf.of(dy),
        CudaBuf.of(x),
        CudaBuf.of(y),
        CudaBuf.of(gates),
        CudaBuf.of(wIh),
        CudaBuf.of(wHh),
        ids == null ? null : CudaIntBuf.of(ids),
        batch,
        len,
        in,
        hidden);
  }

  // ---- dropout -----------------------------------------------------------------------------

  @Override
  public void dropoutForward(Buf out, Buf in, float p, long seed, long stream) {
    elementwise.dropout(CudaBuf.of(out), CudaBuf.of(in), p, seed, stream);
  }

  @Override
  public void dropoutBackward(Buf dIn, Buf dOut, float p, long seed, long stream) {
    elementwise.dropout(CudaBuf.of(dIn), CudaBuf.of(dOut), p, seed, stream);
  }

  // ---- sampled losses --------------------------------------------------------------------

  @Override
  public double bceLoss(
      Buf dScores, Buf scores, IntBuf targets, int rows, int negatives, float beta) {
    return CudaLosses.bce(
        this,
        CudaBuf.of(dScores),
        CudaBuf.of(scores),
        CudaIntBuf.of(targets),
        rows,
        negatives,
        beta);
  }

  @Override
  public double sampledSoftmaxLoss(
      Buf dScores, Buf scores, Buf logQ, IntBuf targets, int rows, int negatives) {
    return CudaLosses.sampledSoftmax(
        this,
        CudaBuf.of(dScores),
        CudaBuf.of(scores),
        CudaBuf.of(logQ),
        CudaIntBuf.of(targets),
        rows,
        negatives);
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
    CudaBuf p = CudaBuf.of(params);
    CudaBuf g = CudaBuf.of(grads);
    CudaBuf mm = CudaBuf.of(m);
    CudaBuf vv = CudaBuf.of(v);
    CudaBuf.sameSize(p, g);
    CudaBuf.sameSize(p, mm);
    CudaBuf.sameSize(p, vv);
    if (step < 1) {
      throw new IllegalArgumentException("Adam steps count from 1, got " + step);
    }
    double c1 = 1.0 - Math.pow(beta1, step);
    double c2 = 1.0 - Math.pow(beta2, step);
    launchFlat(
        Kernels.ADAM, p.size, p.size, lr, beta1, beta2, eps, weightDecay, c1, c2, p, g, mm, vv);
  }
}
