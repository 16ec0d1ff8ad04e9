package org.recjpq.backend.cuda;

/**
 * The device side of {@link CudaOps}: its context made current on each calling thread, the kernels,
 * the cuBLAS handle, device memory and workspaces, and the launch and GEMM helpers every op class
 * uses.
 */
abstract sealed class CudaDevice implements AutoCloseable permits CudaOps {
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
  final CudaMemory memory = new CudaMemory(this);

  /**
   * Whether the calling thread has made this engine's context current (CUDA contexts are per
   * thread).
   */
  private final ThreadLocal<Boolean> bound = ThreadLocal.withInitial(() -> Boolean.FALSE);

  private boolean closed;

  CudaDevice(CudaContext context, CudaModule module, CublasHandle cublas, boolean deterministic) {
    this.context = context;
    this.module = module;
    this.cublas = cublas;
    this.deterministic = deterministic;
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

  /** Sets {@code n} bytes at {@code x} to zero (helpers' scratch). */
  void zeroBytes(CudaByteBuf x) {
    memory.zeroBytes(x);
  }

  /** Sets every int of {@code x} to {@code value}. */
  void fillInts(CudaIntBuf x, int value) {
    memory.fillInts(x, value);
  }

  /** The float workspace {@code name} of at least {@code n} elements (see {@link CudaMemory}). */
  CudaBuf workspace(String name, long n) {
    return memory.workspace(name, n);
  }

  /** The int workspace {@code name}, as {@link #workspace}. */
  CudaIntBuf workspaceInts(String name, long n) {
    return memory.workspaceInts(name, n);
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

  /** Row-major {@code C = alpha·op(A)·op(B) + beta·C} through cuBLAS (see {@link CublasHandle}). */
  public void gemm(
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
        memory.fill(c.slice(0, (long) m * ldc - (ldc - n)), 0f);
      } else if (beta != 1f) {
        throw new IllegalArgumentException("gemm with k = 0 and beta " + beta);
      }
      return;
    }
    cublas.sgemmRowMajor(
        transA, transB, m, n, k, alpha, a.floats(), lda, b.floats(), ldb, beta, c.floats(), ldc);
  }

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
    RuntimeException first = memory.freeAll();
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
