package org.recjpq.backend.cuda;

import static jcuda.driver.JCudaDriver.cuMemcpyDtoD;
import static jcuda.driver.JCudaDriver.cuMemcpyDtoH;
import static jcuda.driver.JCudaDriver.cuMemcpyHtoD;
import static jcuda.driver.JCudaDriver.cuMemsetD32;
import static jcuda.driver.JCudaDriver.cuMemsetD8;

import java.lang.ref.PhantomReference;
import java.lang.ref.Reference;
import java.lang.ref.ReferenceQueue;
import java.util.HashSet;
import java.util.Set;
import jcuda.Pointer;
import jcuda.driver.CUdeviceptr;
import org.recjpq.backend.Activation;
import org.recjpq.backend.Availability;
import org.recjpq.backend.Buf;
import org.recjpq.backend.ByteBuf;
import org.recjpq.backend.CounterRng;
import org.recjpq.backend.IntBuf;
import org.recjpq.backend.ItemTable;
import org.recjpq.backend.Ops;

/**
 * The CUDA engine: every {@link Ops} method on device memory, with the CPU engine as its
 * specification (the contract tests compare the two). Kernels come from {@code cuda/*.cu} (one
 * fatbin, see CMakeLists.txt); GEMMs go to cuBLAS through {@link CublasHandle}. Attention lives in
 * {@link CudaAttention}, the item tables (look-ups, scoring heads, the full cross-entropy) in
 * {@link CudaDenseTable} and {@link CudaJpqTable} over {@link CudaLosses}, the sampled losses in
 * {@link CudaLosses}, the GRU in {@link CudaGru}; everything else is here.
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
public final class CudaOps implements Ops {
  /** Threads per block of the element-wise kernels. */
  static final int THREADS = 256;

  /** Grid cap of the grid-stride kernels. */
  static final int MAX_BLOCKS = 65_535;

  /** Rows per block of the two-stage column sums (the CPU's layer-norm block). */
  static final int COLUMN_BLOCK = 256;

  private final CudaContext context;
  private final CudaModule module;
  private final CublasHandle cublas;
  private final boolean deterministic;
  private final ReferenceQueue<Root> collected = new ReferenceQueue<>();

  /**
   * Whether the calling thread has made this engine's context current (CUDA contexts are per
   * thread).
   */
  private final ThreadLocal<Boolean> bound = ThreadLocal.withInitial(() -> Boolean.FALSE);

  private final Set<Allocation> live = new HashSet<>();
  private boolean closed;

  /**
   * The token every view of one allocation holds; when it becomes unreachable the memory is freed.
   */
  static final class Root {
    final CudaOps ops;
    final DeviceBuffer buffer;
    final long base;

    Root(CudaOps ops, DeviceBuffer buffer) {
      this.ops = ops;
      this.buffer = buffer;
      this.base = buffer.address();
    }
  }

  private static final class Allocation extends PhantomReference<Root> {
    final DeviceBuffer buffer;

    Allocation(Root root, ReferenceQueue<Root> queue) {
      super(root, queue);
      this.buffer = root.buffer;
    }
  }

  private CudaOps(
      CudaContext context, CudaModule module, CublasHandle cublas, boolean deterministic) {
    this.context = context;
    this.module = module;
    this.cublas = cublas;
    this.deterministic = deterministic;
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

  /** Whether scatter-adds avoid float atomics (bit-reproducible). */
  public boolean deterministic() {
    return deterministic;
  }

  /**
   * Makes the engine's context current on the calling thread, once per thread: every entry point
   * that reaches the device calls this first, so the engine works from any thread.
   */
  void bind() {
    ensureOpen();
    if (!bound.get()) {
      context.makeCurrent();
      bound.set(Boolean.TRUE);
    }
  }

  /** Switches cuBLAS between plain FP32 and TF32 tensor cores (docs/architecture.md §6). */
  public void setTf32(boolean on) {
    bind();
    cublas.setMathMode(on ? CublasHandle.MathMode.TF32 : CublasHandle.MathMode.PEDANTIC);
  }

  /** Waits for all queued work; reports asynchronous errors. */
  public void synchronize() {
    bind();
    context.synchronize();
  }

  /** {free, total} device memory in bytes. */
  public long[] memoryInfo() {
    bind();
    return context.memoryInfo();
  }

  /** The kernels (the calling thread's context made current). */
  CudaModule module() {
    bind();
    return module;
  }

  /** The cuBLAS handle (the calling thread's context made current). */
  CublasHandle cublas() {
    bind();
    return cublas;
  }

  // ---- memory ----------------------------------------------------------------------------

  private Root allocate(long bytes) {
    bind();
    freeCollected();
    DeviceBuffer buffer = DeviceBuffer.allocate(Math.max(bytes, 4));
    buffer.fill32(0);
    Root root = new Root(this, buffer);
    live.add(new Allocation(root, collected));
    return root;
  }

  private void freeCollected() {
    Reference<? extends Root> r;
    while ((r = collected.poll()) != null) {
      Allocation a = (Allocation) r;
      live.remove(a);
      a.buffer.close();
    }
  }

  @Override
  public CudaBuf alloc(long n) {
    Root root = allocate(Math.multiplyExact(n, (long) Float.BYTES));
    return new CudaBuf(root, root.base, n);
  }

  @Override
  public CudaIntBuf allocInts(long n) {
    Root root = allocate(Math.multiplyExact(n, (long) Integer.BYTES));
    return new CudaIntBuf(root, root.base, n);
  }

  @Override
  public CudaByteBuf allocBytes(long n) {
    Root root = allocate(n);
    return new CudaByteBuf(root, root.base, n);
  }

  private static CUdeviceptr at(Root root, long address) {
    return (CUdeviceptr) root.buffer.pointer().withByteOffset(address - root.base);
  }

  /**
   * Host to device: {@code count} elements of {@code bytesEach} from {@code host} into the view at
   * {@code address}.
   */
  private static void toDevice(
      Root root, long address, long size, Pointer host, int count, int bytesEach, String what) {
    sizes(size, count, what);
    if (count > 0) {
      CudaException.check(
          cuMemcpyHtoD(at(root, address), host, (long) count * bytesEach),
          "cuMemcpyHtoD(" + count + " " + what + ")");
    }
  }

  /** Device to host, as {@link #toDevice}. */
  private static void toHost(
      Root root, long address, long size, Pointer host, int count, int bytesEach, String what) {
    sizes(size, count, what);
    if (count > 0) {
      CudaException.check(
          cuMemcpyDtoH(host, at(root, address), (long) count * bytesEach),
          "cuMemcpyDtoH(" + count + " " + what + ")");
    }
  }

  @Override
  public void upload(Buf dst, float[] src) {
    bind();
    CudaBuf d = CudaBuf.of(dst);
    toDevice(d.root, d.address, d.size, Pointer.to(src), src.length, Float.BYTES, "floats");
  }

  @Override
  public void download(float[] dst, Buf src) {
    bind();
    CudaBuf s = CudaBuf.of(src);
    toHost(s.root, s.address, s.size, Pointer.to(dst), dst.length, Float.BYTES, "floats");
  }

  @Override
  public void upload(IntBuf dst, int[] src) {
    bind();
    CudaIntBuf d = CudaIntBuf.of(dst);
    toDevice(d.root, d.address, d.size, Pointer.to(src), src.length, Integer.BYTES, "ints");
  }

  @Override
  public void download(int[] dst, IntBuf src) {
    bind();
    CudaIntBuf s = CudaIntBuf.of(src);
    toHost(s.root, s.address, s.size, Pointer.to(dst), dst.length, Integer.BYTES, "ints");
  }

  @Override
  public void upload(ByteBuf dst, byte[] src) {
    bind();
    CudaByteBuf d = CudaByteBuf.of(dst);
    toDevice(d.root, d.address, d.size, Pointer.to(src), src.length, 1, "bytes");
  }

  /** Downloads bytes (tests). */
  public void download(byte[] dst, ByteBuf src) {
    bind();
    CudaByteBuf s = CudaByteBuf.of(src);
    toHost(s.root, s.address, s.size, Pointer.to(dst), dst.length, 1, "bytes");
  }

  @Override
  public void fill(Buf x, float value) {
    bind();
    CudaBuf b = CudaBuf.of(x);
    if (b.size > 0) {
      CudaException.check(
          cuMemsetD32(at(b.root, b.address), Float.floatToRawIntBits(value), b.size),
          "cuMemsetD32(" + b.size + " floats)");
    }
  }

  /** Sets {@code n} bytes at {@code x} to zero (helpers' scratch). */
  void zeroBytes(CudaByteBuf x) {
    bind();
    if (x.size > 0) {
      CudaException.check(
          cuMemsetD8(at(x.root, x.address), (byte) 0, x.size), "cuMemsetD8(" + x.size + " bytes)");
    }
  }

  /** Sets every int of {@code x} to {@code value}. */
  void fillInts(CudaIntBuf x, int value) {
    bind();
    if (x.size > 0) {
      CudaException.check(
          cuMemsetD32(at(x.root, x.address), value, x.size), "cuMemsetD32(" + x.size + " ints)");
    }
  }

  @Override
  public void copy(Buf dst, Buf src) {
    bind();
    CudaBuf d = CudaBuf.of(dst);
    CudaBuf s = CudaBuf.of(src);
    sameSize(d, s);
    if (d.size > 0) {
      CudaException.check(
          cuMemcpyDtoD(at(d.root, d.address), at(s.root, s.address), d.size * 4),
          "cuMemcpyDtoD(" + d.size + " floats)");
    }
  }

  @Override
  public void scale(Buf x, float alpha) {
    CudaBuf b = CudaBuf.of(x);
    launchFlat(Kernels.SCALE, b.size, b.size, alpha, b);
  }

  @Override
  public double sumOfSquares(Buf x) {
    CudaBuf b = CudaBuf.of(x);
    if (b.size == 0) {
      return 0;
    }
    int chunk = 1 << 16; // as the CPU: one double partial per 65,536 elements, added in order
    int chunks = (int) ((b.size + chunk - 1) / chunk);
    CudaBuf part = workspace("core.sumsq", 2L * chunks); // doubles
    module()
        .launch(
            Kernels.SUM_SQUARES,
            chunks,
            THREADS,
            THREADS * Double.BYTES,
            b.size,
            chunk,
            b,
            DevicePointer.doubles(part, 0));
    float[] raw = new float[2 * chunks];
    download(raw, part);
    double sum = 0;
    for (int c = 0; c < chunks; c++) {
      long bits =
          (Integer.toUnsignedLong(Float.floatToRawIntBits(raw[2 * c + 1])) << 32)
              | Integer.toUnsignedLong(Float.floatToRawIntBits(raw[2 * c]));
      sum += Double.longBitsToDouble(bits);
    }
    return sum;
  }

  @Override
  public boolean hasNonFinite(Buf x) {
    CudaBuf b = CudaBuf.of(x);
    if (b.size == 0) {
      return false;
    }
    CudaIntBuf flag = workspaceInts("core.flag", 1);
    fillInts(flag, 0);
    launchFlat(Kernels.NON_FINITE, b.size, b.size, b, flag);
    int[] f = new int[1];
    download(f, flag);
    return f[0] != 0;
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
    launchFlat(
        Kernels.POSITIONS_FORWARD,
        (long) batch * len * dim,
        batch,
        len,
        dim,
        inScale,
        CudaBuf.of(out),
        CudaBuf.of(in),
        CudaIntBuf.of(ids),
        CudaBuf.of(positions));
  }

  @Override
  public void positionsBackward(
      Buf dIn, Buf dPositions, Buf dOut, IntBuf ids, float inScale, int batch, int len, int dim) {
    CudaIntBuf id = CudaIntBuf.of(ids);
    CudaBuf d = CudaBuf.of(dOut);
    launchFlat(
        Kernels.POSITIONS_BACKWARD_INPUT,
        (long) batch * len * dim,
        batch,
        len,
        dim,
        inScale,
        CudaBuf.of(dIn),
        d,
        id);
    launchFlat(
        Kernels.POSITIONS_BACKWARD_TABLE,
        (long) len * dim,
        batch,
        len,
        dim,
        CudaBuf.of(dPositions),
        d,
        id);
  }

  @Override
  public void mapIds(IntBuf out, IntBuf in, int rows, int from, int to) {
    launchFlat(Kernels.MAP_IDS, rows, rows, from, to, CudaIntBuf.of(out), CudaIntBuf.of(in));
  }

  @Override
  public void addTokenVector(Buf x, IntBuf ids, int token, Buf vector, int rows, int dim) {
    launchFlat(
        Kernels.ADD_TOKEN_VECTOR,
        (long) rows * dim,
        rows,
        dim,
        token,
        CudaBuf.of(x),
        CudaIntBuf.of(ids),
        CudaBuf.of(vector));
  }

  @Override
  public void addTokenVectorBackward(
      Buf dVector, Buf dx, IntBuf ids, int token, int rows, int dim) {
    launchFlat(
        Kernels.ADD_TOKEN_VECTOR_BACKWARD,
        dim,
        rows,
        dim,
        token,
        CudaBuf.of(dVector),
        CudaBuf.of(dx),
        CudaIntBuf.of(ids));
  }

  @Override
  public void maskPadRows(Buf x, IntBuf ids, int rows, int dim) {
    launchFlat(
        Kernels.MASK_PAD_ROWS, (long) rows * dim, rows, dim, CudaBuf.of(x), CudaIntBuf.of(ids));
  }

  // ---- normalisation, dense layers, activations --------------------------------------------

  @Override
  public void layerNormForward(
      Buf out, Buf mean, Buf rstd, Buf in, Buf gamma, Buf beta, int rows, int dim, float eps) {
    // one warp per row
    long warps = rows;
    int blocks = (int) Math.min(MAX_BLOCKS, (warps * 32 + THREADS - 1) / THREADS);
    if (rows == 0) {
      return;
    }
    module()
        .launch(
            Kernels.LAYER_NORM_FORWARD,
            blocks,
            THREADS,
            0,
            rows,
            dim,
            eps,
            CudaBuf.of(out),
            CudaBuf.of(mean),
            CudaBuf.of(rstd),
            CudaBuf.of(in),
            CudaBuf.of(gamma),
            CudaBuf.of(beta));
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
    if (rows == 0) {
      return;
    }
    int blocks = (int) Math.min(MAX_BLOCKS, ((long) rows * 32 + THREADS - 1) / THREADS);
    CudaBuf d = CudaBuf.of(dOut);
    CudaBuf x = CudaBuf.of(in);
    CudaBuf mu = CudaBuf.of(mean);
    CudaBuf rs = CudaBuf.of(rstd);
    CudaBuf g = CudaBuf.of(gamma);
    module()
        .launch(
            Kernels.LAYER_NORM_BACKWARD_INPUT,
            blocks,
            THREADS,
            0,
            rows,
            dim,
            CudaBuf.of(dIn),
            d,
            x,
            mu,
            rs,
            g);
    // gamma/beta: per block of 256 rows in row order, then the blocks in order (as the CPU)
    int rowBlocks = (rows + COLUMN_BLOCK - 1) / COLUMN_BLOCK;
    CudaBuf part = workspace("core.layernorm", 2L * rowBlocks * dim);
    launchFlat(
        Kernels.LAYER_NORM_BACKWARD_PARTIALS,
        (long) rowBlocks * dim,
        rows,
        dim,
        COLUMN_BLOCK,
        part,
        d,
        x,
        mu,
        rs);
    launchFlat(
        Kernels.LAYER_NORM_BACKWARD_FINISH,
        dim,
        rowBlocks,
        dim,
        CudaBuf.of(dGamma),
        CudaBuf.of(dBeta),
        part);
  }

  @Override
  public void linearForward(
      Buf out, Buf in, Buf weight, Buf bias, int rows, int inDim, int outDim) {
    CudaBuf o = CudaBuf.of(out);
    if (bias != null) {
      launchFlat(Kernels.BROADCAST_ROWS, (long) rows * outDim, rows, outDim, o, CudaBuf.of(bias));
    }
    gemm(
        false,
        false,
        rows,
        outDim,
        inDim,
        1f,
        CudaBuf.of(in),
        inDim,
        CudaBuf.of(weight),
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
    CudaBuf d = CudaBuf.of(dOut);
    if (dIn != null) {
      gemm(
          false,
          true,
          rows,
          inDim,
          outDim,
          1f,
          d,
          outDim,
          CudaBuf.of(weight),
          outDim,
          0f,
          CudaBuf.of(dIn),
          inDim);
    }
    gemm(
        true,
        false,
        inDim,
        outDim,
        rows,
        1f,
        CudaBuf.of(in),
        inDim,
        d,
        outDim,
        1f,
        CudaBuf.of(dWeight),
        outDim);
    if (dBias != null) {
      columnSumsInto(CudaBuf.of(dBias), d, rows, outDim);
    }
  }

  /** {@code dst[j] += Σ_r x[r][j]}: per block of 256 rows in order, then the blocks in order. */
  void columnSumsInto(CudaBuf dst, CudaBuf x, int rows, int cols) {
    if (rows == 0) {
      return;
    }
    int rowBlocks = (rows + COLUMN_BLOCK - 1) / COLUMN_BLOCK;
    CudaBuf part = workspace("core.colsums", (long) rowBlocks * cols);
    launchFlat(
        Kernels.COLUMN_SUMS_PARTIALS, (long) rowBlocks * cols, rows, cols, COLUMN_BLOCK, part, x);
    launchFlat(Kernels.COLUMN_SUMS_FINISH, cols, rowBlocks, cols, dst, part);
  }

  @Override
  public void matmulTransposed(Buf out, Buf a, Buf b, int rows, int n, int k) {
    gemm(false, true, rows, n, k, 1f, CudaBuf.of(a), k, CudaBuf.of(b), k, 0f, CudaBuf.of(out), n);
  }

  /** Row-major {@code C = alpha·op(A)·op(B) + beta·C} through cuBLAS (see {@link CublasHandle}). */
  void gemm(
      boolean transA,
      boolean transB,
      int m,
      int n,
      int k,
      float alpha,
      CudaBuf a,
      int lda,
      CudaBuf b,
      int ldb,
      float beta,
      CudaBuf c,
      int ldc) {
    bind();
    if (m == 0 || n == 0) {
      return;
    }
    if (k == 0) {
      if (beta == 0f) {
        fill(c.slice(0, (long) m * ldc - (ldc - n)), 0f);
      } else if (beta != 1f) {
        throw new IllegalArgumentException("gemm with k = 0 and beta " + beta);
      }
      return;
    }
    cublas.sgemmRowMajor(
        transA, transB, m, n, k, alpha, a.floats(), lda, b.floats(), ldb, beta, c.floats(), ldc);
  }

  @Override
  public void activationForward(Buf out, Buf in, Activation act) {
    CudaBuf o = CudaBuf.of(out);
    CudaBuf x = CudaBuf.of(in);
    sameSize(o, x);
    launchFlat(Kernels.ACTIVATION_FORWARD, o.size, o.size, act == Activation.RELU ? 0 : 1, o, x);
  }

  @Override
  public void activationBackward(Buf dIn, Buf dOut, Buf in, Activation act) {
    CudaBuf di = CudaBuf.of(dIn);
    CudaBuf x = CudaBuf.of(in);
    sameSize(di, x);
    launchFlat(
        Kernels.ACTIVATION_BACKWARD,
        di.size,
        di.size,
        act == Activation.RELU ? 0 : 1,
        di,
        CudaBuf.of(dOut),
        x);
  }

  @Override
  public void add(Buf out, Buf a, Buf b) {
    CudaBuf o = CudaBuf.of(out);
    CudaBuf x = CudaBuf.of(a);
    CudaBuf y = CudaBuf.of(b);
    sameSize(o, x);
    sameSize(o, y);
    launchFlat(Kernels.ADD, o.size, o.size, o, x, y);
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
    dropout(CudaBuf.of(out), CudaBuf.of(in), p, seed, stream);
  }

  @Override
  public void dropoutBackward(Buf dIn, Buf dOut, float p, long seed, long stream) {
    dropout(CudaBuf.of(dIn), CudaBuf.of(dOut), p, seed, stream);
  }

  private void dropout(CudaBuf o, CudaBuf x, float p, long seed, long stream) {
    sameSize(o, x);
    if (!(p >= 0f && p < 1f)) {
      throw new IllegalArgumentException("dropout probability must be in [0, 1), got " + p);
    }
    float keepScale = 1f / (1f - p);
    long key = CounterRng.key(seed, stream);
    long threshold =
        (long)
            Math.ceil(p * (double) (1 << 24)); // as the CPU: keep when (bits >>> 40) >= threshold
    launchFlat(Kernels.DROPOUT, o.size, o.size, key, threshold, keepScale, o, x);
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
    sameSize(p, g);
    sameSize(p, mm);
    sameSize(p, vv);
    if (step < 1) {
      throw new IllegalArgumentException("Adam steps count from 1, got " + step);
    }
    double c1 = 1.0 - Math.pow(beta1, step);
    double c2 = 1.0 - Math.pow(beta2, step);
    launchFlat(
        Kernels.ADAM, p.size, p.size, lr, beta1, beta2, eps, weightDecay, c1, c2, p, g, mm, vv);
  }

  // ---- workspaces ----------------------------------------------------------------------------

  private final java.util.Map<String, CudaBuf> floatWorkspaces = new java.util.HashMap<>();
  private final java.util.Map<String, CudaIntBuf> intWorkspaces = new java.util.HashMap<>();

  /**
   * The float workspace {@code name}, at least {@code n} elements, kept between calls and grown
   * when too small (contents are not preserved when it grows). Each op family uses its own names,
   * so one op's workspace is never another's; all work is on one stream, so reuse across calls is
   * safe.
   */
  CudaBuf workspace(String name, long n) {
    CudaBuf b = floatWorkspaces.get(name);
    if (b == null || b.size < n) {
      b = alloc(Math.max(n, 1024));
      floatWorkspaces.put(name, b);
    }
    return b.slice(0, n);
  }

  /** The int workspace {@code name}, as {@link #workspace}. */
  CudaIntBuf workspaceInts(String name, long n) {
    CudaIntBuf b = intWorkspaces.get(name);
    if (b == null || b.size < n) {
      b = allocInts(Math.max(n, 1024));
      intWorkspaces.put(name, b);
    }
    return b.slice(0, n);
  }

  // ---- helpers -----------------------------------------------------------------------------

  /**
   * Launches a grid-stride kernel over {@code work} elements ({@code THREADS} per block, capped
   * grid).
   */
  void launchFlat(Kernel kernel, long work, Object... args) {
    if (work <= 0) {
      return;
    }
    int blocks = (int) Math.min(MAX_BLOCKS, (work + THREADS - 1) / THREADS);
    module().launch(kernel, blocks, THREADS, 0, args);
  }

  private static void sameSize(CudaBuf a, CudaBuf b) {
    if (a.size != b.size) {
      throw new IllegalArgumentException("buffer sizes differ: " + a.size + " and " + b.size);
    }
  }

  private static void sizes(long bufSize, int arrayLength, String what) {
    if (bufSize != arrayLength) {
      throw new IllegalArgumentException(
          "expected " + bufSize + " " + what + ", got " + arrayLength);
    }
  }

  private void ensureOpen() {
    if (closed) {
      throw new IllegalStateException("This CUDA engine was closed.");
    }
  }

  /** Frees every allocation, then the cuBLAS handle, the module and the context reference. */
  @Override
  public void close() {
    if (closed) {
      return;
    }
    closed = true;
    context.makeCurrent();
    RuntimeException first = null;
    for (Allocation a : live) {
      try {
        a.buffer.close();
      } catch (RuntimeException e) {
        first = first == null ? e : first;
      }
    }
    live.clear();
    for (AutoCloseable c : new AutoCloseable[] {cublas, module, context}) {
      try {
        c.close();
      } catch (Exception e) {
        first = first == null ? new RuntimeException(e) : first;
      }
    }
    if (first != null) {
      throw first;
    }
  }
}
