package org.recjpq.backend.cuda;

import static org.bytedeco.cuda.global.cublas.CUBLAS_DEFAULT_MATH;
import static org.bytedeco.cuda.global.cublas.CUBLAS_OP_N;
import static org.bytedeco.cuda.global.cublas.CUBLAS_OP_T;
import static org.bytedeco.cuda.global.cublas.CUBLAS_PEDANTIC_MATH;
import static org.bytedeco.cuda.global.cublas.CUBLAS_STATUS_SUCCESS;
import static org.bytedeco.cuda.global.cublas.CUBLAS_TF32_TENSOR_OP_MATH;
import static org.bytedeco.cuda.global.cublas.cublasCreate_v2;
import static org.bytedeco.cuda.global.cublas.cublasDestroy_v2;
import static org.bytedeco.cuda.global.cublas.cublasGetStatusName;
import static org.bytedeco.cuda.global.cublas.cublasGetVersion_v2;
import static org.bytedeco.cuda.global.cublas.cublasSetMathMode;
import static org.bytedeco.cuda.global.cublas.cublasSgemmStridedBatched;
import static org.bytedeco.cuda.global.cublas.cublasSgemm_v2;

import org.bytedeco.cuda.cublas.cublasContext;
import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.javacpp.FloatPointer;

/**
 * A cuBLAS handle (Bytedeco's {@code org.bytedeco.cuda.global.cublas}), owned once and destroyed by
 * {@link #close()}, with a row-major SGEMM on device memory.
 *
 * <p>The handle is created in the context current on the calling thread, which must be the {@link
 * CudaContext}'s primary context so cuBLAS and the JCuda-launched kernels share it. Work runs on
 * the legacy default stream, like the kernels, so the two are ordered without extra
 * synchronisation.
 *
 * <p><b>Row-major on a column-major library.</b> A row-major {@code r x c} matrix with leading
 * dimension {@code ld} is, byte for byte, the column-major {@code c x r} matrix (its transpose)
 * with the same {@code ld}. So the row-major product {@code C = op(A) op(B)} ({@code m x n}) is
 * computed as the column-major product {@code C^T = op(B)^T op(A)^T} ({@code n x m}): call {@code
 * cublasSgemm(opB, opA, n, m, k, alpha, B, ldb, A, lda, beta, C, ldc)}, swapping the operands and
 * the sizes m and n while keeping each operand's transpose flag and leading dimension.
 *
 * <p><b>Precision.</b> The math mode starts as {@link MathMode#PEDANTIC}: plain FP32 with no TF32
 * tensor cores, so results match a CPU SGEMM within FP32 rounding (the device check depends on
 * this). Training may opt into {@link MathMode#TF32} (docs/architecture.md §6).
 */
public final class CublasHandle implements AutoCloseable {
  /** cuBLAS math modes used here. */
  public enum MathMode {
    /** Plain FP32, no tensor-core shortcuts ({@code CUBLAS_PEDANTIC_MATH}). */
    PEDANTIC(CUBLAS_PEDANTIC_MATH),
    /** cuBLAS's default, which for FP32 does not use TF32 ({@code CUBLAS_DEFAULT_MATH}). */
    DEFAULT(CUBLAS_DEFAULT_MATH),
    /** FP32 GEMMs on TF32 tensor cores ({@code CUBLAS_TF32_TENSOR_OP_MATH}). */
    TF32(CUBLAS_TF32_TENSOR_OP_MATH);

    final int value;

    MathMode(int value) {
      this.value = value;
    }
  }

  private final cublasContext handle;
  private final FloatPointer alpha = new FloatPointer(1);
  private final FloatPointer beta = new FloatPointer(1);
  private boolean closed;

  private CublasHandle(cublasContext handle) {
    this.handle = handle;
  }

  /**
   * Creates a handle in the current context, in {@link MathMode#PEDANTIC} mode.
   *
   * @param context the context that must be current (made current here)
   */
  public static CublasHandle create(CudaContext context) {
    context.makeCurrent();
    cublasContext handle = new cublasContext();
    check(cublasCreate_v2(handle), "cublasCreate_v2()");
    CublasHandle result = new CublasHandle(handle);
    try {
      result.setMathMode(MathMode.PEDANTIC);
    } catch (CudaException e) {
      result.close();
      throw e;
    }
    return result;
  }

  /** Sets the math mode for later calls. */
  public void setMathMode(MathMode mode) {
    check(cublasSetMathMode(handle(), mode.value), "cublasSetMathMode(" + mode + ")");
  }

  /** cuBLAS's version as an integer (e.g. 130100 for 13.1.0). */
  public int version() {
    int[] version = new int[1];
    check(cublasGetVersion_v2(handle(), version), "cublasGetVersion_v2()");
    return version[0];
  }

  /**
   * Row-major {@code C = alpha * op(A) * op(B) + beta * C} on device memory, with the same
   * conventions as {@code org.recjpq.backend.cpu.Blas.sgemm}: {@code op(A)} is {@code m x k},
   * {@code op(B)} is {@code k x n}, C is {@code m x n}; A is stored {@code k x m} when {@code
   * transA}, B is stored {@code n x k} when {@code transB}. Pointers come from {@link
   * AddressBridge} or {@link DeviceBuffer#floats}.
   */
  public void sgemmRowMajor(
      boolean transA,
      boolean transB,
      int m,
      int n,
      int k,
      float alpha,
      FloatPointer a,
      int lda,
      FloatPointer b,
      int ldb,
      float beta,
      FloatPointer c,
      int ldc) {
    checkLeading("A", lda, transA ? m : k);
    checkLeading("B", ldb, transB ? k : n);
    checkLeading("C", ldc, n);
    this.alpha.put(0, alpha);
    this.beta.put(0, beta);
    // Column-major C^T (n x m) = op(B)^T (n x k) * op(A)^T (k x m); see the class comment.
    check(
        cublasSgemm_v2(
            handle(),
            transB ? CUBLAS_OP_T : CUBLAS_OP_N,
            transA ? CUBLAS_OP_T : CUBLAS_OP_N,
            n,
            m,
            k,
            this.alpha,
            b,
            ldb,
            a,
            lda,
            this.beta,
            c,
            ldc),
        "cublasSgemm_v2(row-major m="
            + m
            + ", n="
            + n
            + ", k="
            + k
            + ", transA="
            + transA
            + ", transB="
            + transB
            + ", lda="
            + lda
            + ", ldb="
            + ldb
            + ", ldc="
            + ldc
            + ")");
  }

  /**
   * {@code batch} independent row-major GEMMs, {@code C_i = alpha * op(A_i) * op(B_i) + beta *
   * C_i}, where operand {@code X_i} starts {@code strideX} floats after {@code X_{i-1}} (the same
   * conventions as {@link #sgemmRowMajor}, one {@code cublasSgemmStridedBatched} call).
   */
  public void sgemmStridedBatchedRowMajor(
      boolean transA,
      boolean transB,
      int m,
      int n,
      int k,
      float alpha,
      FloatPointer a,
      int lda,
      long strideA,
      FloatPointer b,
      int ldb,
      long strideB,
      float beta,
      FloatPointer c,
      int ldc,
      long strideC,
      int batch) {
    checkLeading("A", lda, transA ? m : k);
    checkLeading("B", ldb, transB ? k : n);
    checkLeading("C", ldc, n);
    if (batch < 0) {
      throw new IllegalArgumentException(
          "The batch count must not be negative, but it is " + batch + ".");
    }
    if (batch == 0) {
      return;
    }
    this.alpha.put(0, alpha);
    this.beta.put(0, beta);
    check(
        cublasSgemmStridedBatched(
            handle(),
            transB ? CUBLAS_OP_T : CUBLAS_OP_N,
            transA ? CUBLAS_OP_T : CUBLAS_OP_N,
            n,
            m,
            k,
            this.alpha,
            b,
            ldb,
            strideB,
            a,
            lda,
            strideA,
            this.beta,
            c,
            ldc,
            strideC,
            batch),
        "cublasSgemmStridedBatched(row-major m="
            + m
            + ", n="
            + n
            + ", k="
            + k
            + ", transA="
            + transA
            + ", transB="
            + transB
            + ", lda="
            + lda
            + ", ldb="
            + ldb
            + ", ldc="
            + ldc
            + ", strides "
            + strideA
            + "/"
            + strideB
            + "/"
            + strideC
            + ", batch="
            + batch
            + ")");
  }

  /** Destroys the handle; later calls do nothing. */
  @Override
  public void close() {
    if (!closed) {
      closed = true;
      try {
        check(cublasDestroy_v2(handle), "cublasDestroy_v2()");
      } finally {
        alpha.close();
        beta.close();
      }
    }
  }

  private cublasContext handle() {
    if (closed) {
      throw new IllegalStateException("This cuBLAS handle was closed.");
    }
    return handle;
  }

  private static void checkLeading(String name, int ld, int columns) {
    if (ld < Math.max(1, columns)) {
      throw new IllegalArgumentException(
          "The leading dimension of "
              + name
              + " is "
              + ld
              + ", but the stored row-major matrix has "
              + columns
              + " columns.");
    }
  }

  /** Throws unless {@code status} is {@code CUBLAS_STATUS_SUCCESS}. */
  static void check(int status, String call) {
    if (status != CUBLAS_STATUS_SUCCESS) {
      String name;
      try {
        BytePointer text = cublasGetStatusName(status);
        name = text == null ? "cublasStatus" : text.getString();
      } catch (RuntimeException | LinkageError e) {
        name = "cublasStatus";
      }
      throw new CudaException(call, status, name + " (" + status + ")");
    }
  }
}
