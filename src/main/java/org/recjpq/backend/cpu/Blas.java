package org.recjpq.backend.cpu;

import java.nio.FloatBuffer;
import org.bytedeco.javacpp.Loader;
import org.bytedeco.openblas.global.openblas_nolapack;
import org.recjpq.backend.Availability;

/**
 * Single-precision GEMM on Java {@code float[]} arrays through OpenBLAS (Bytedeco's {@code
 * openblas_nolapack} preset), loaded lazily on first use.
 *
 * <p>OpenBLAS is optional at run time (docs/architecture.md §3): {@link #status()} never throws and
 * says exactly why OpenBLAS is missing when it is (the loader's error message); {@link #sgemm}
 * throws {@link IllegalStateException} with that reason when called without it, so callers check
 * {@link #isAvailable()} first and fall back to plain loops.
 *
 * <p>All matrices are <b>row-major</b> with explicit leading dimensions and element offsets into
 * the arrays, as in CBLAS with {@code CblasRowMajor}.
 *
 * <p>Threads: OpenBLAS's thread count is set once, at load time, to the system property {@code
 * recjpq.blas.threads} if given, else to 1: the CPU engine runs GEMMs on its own threads over fixed
 * row blocks ({@code CpuGemm}), because OpenBLAS's worker threads spin after each call and starve
 * the engine's other threads on small machines.
 *
 * <p>Cost note: JavaCPP hands a heap array to native code with JNI {@code GetFloatArrayElements},
 * which on HotSpot copies the <em>whole</em> backing array in (and, for C, back out) on every call,
 * whatever the offsets. So pass arrays sized to the operands, not slices of a huge flat buffer, in
 * hot loops; an off-heap ({@code FloatPointer}) variant can be added when a caller needs it.
 */
public final class Blas {
  /** System property overriding OpenBLAS's thread count. */
  public static final String THREADS_PROPERTY = "recjpq.blas.threads";

  private Blas() {}

  /** Loaded once, on first use, by the JVM's class-initialisation lock. */
  private static final class Holder {
    static final Availability STATUS = load();
  }

  /**
   * Whether OpenBLAS loaded, with its version and thread count, or the exact reason it did not.
   * Never throws.
   */
  public static Availability status() {
    return Holder.STATUS;
  }

  /** Shorthand for {@code status().available()}. */
  public static boolean isAvailable() {
    return status().available();
  }

  private static Availability load() {
    try {
      Loader.load(openblas_nolapack.class);
      int threads = threadCount();
      org.bytedeco.openblas.presets.openblas_nolapack.blas_set_num_threads(threads);
      // A 1x1x1 product proves the symbols resolve and the library computes.
      float[] c = {0f};
      openblas_nolapack.cblas_sgemm(
          openblas_nolapack.CblasRowMajor,
          openblas_nolapack.CblasNoTrans,
          openblas_nolapack.CblasNoTrans,
          1,
          1,
          1,
          1f,
          new float[] {2f},
          1,
          new float[] {3f},
          1,
          0f,
          c,
          1);
      if (c[0] != 6f) {
        return Availability.no(
            "OpenBLAS loaded but computed 2*3 = " + c[0] + " in a self-test, so it is not used.");
      }
      return Availability.yes(
          openblas_nolapack.OPENBLAS_VERSION.trim()
              + " (Bytedeco openblas_nolapack "
              + presetVersion()
              + ", "
              + threads
              + " thread"
              + (threads == 1 ? "" : "s")
              + ", platform "
              + Loader.getPlatform()
              + ").");
    } catch (LinkageError | RuntimeException e) {
      return Availability.no("OpenBLAS could not be loaded: " + describe(e));
    }
  }

  private static String presetVersion() {
    try {
      String version = Loader.getVersion("org.bytedeco", "openblas");
      return version == null ? "(version unknown)" : version;
    } catch (java.io.IOException | RuntimeException e) {
      return "(version unknown)";
    }
  }

  private static int threadCount() {
    String value = System.getProperty(THREADS_PROPERTY);
    if (value != null && !value.isBlank()) {
      try {
        int threads = Integer.parseInt(value.trim());
        if (threads >= 1) {
          return threads;
        }
      } catch (NumberFormatException e) {
        // fall through to the default
      }
    }
    return 1; // the engine parallelises GEMMs itself (CpuGemm): OpenBLAS's spinning threads starve
    // it
  }

  /** The error's message, and its causes' messages, as one sentence-like string. */
  static String describe(Throwable error) {
    StringBuilder text = new StringBuilder();
    for (Throwable t = error; t != null; t = t.getCause()) {
      if (text.length() > 0) {
        text.append(" Caused by: ");
      }
      String message = t.getMessage();
      text.append(t.getClass().getSimpleName())
          .append(": ")
          .append(message == null ? "(no message)" : message.strip());
      if (t.getCause() == t) {
        break;
      }
    }
    if (text.charAt(text.length() - 1) != '.') {
      text.append('.');
    }
    return text.toString();
  }

  /**
   * {@code C = alpha * op(A) * op(B) + beta * C} with row-major matrices.
   *
   * <p>{@code op(A)} is {@code m x k}: A is stored {@code m x k} (lda ≥ k) or, when {@code transA},
   * {@code k x m} (lda ≥ m). {@code op(B)} is {@code k x n}: B is stored {@code k x n} (ldb ≥ n)
   * or, when {@code transB}, {@code n x k} (ldb ≥ k). C is {@code m x n} (ldc ≥ n). When {@code
   * beta == 0}, C is not read (NaNs in it do not propagate).
   *
   * @throws IllegalArgumentException if a size, leading dimension or offset does not fit the arrays
   * @throws IllegalStateException if OpenBLAS is not available (see {@link #status()})
   */
  public static void sgemm(
      boolean transA,
      boolean transB,
      int m,
      int n,
      int k,
      float alpha,
      float[] a,
      int aOffset,
      int lda,
      float[] b,
      int bOffset,
      int ldb,
      float beta,
      float[] c,
      int cOffset,
      int ldc) {
    if (m < 0 || n < 0 || k < 0) {
      throw new IllegalArgumentException(
          "GEMM sizes must not be negative, but m = " + m + ", n = " + n + ", k = " + k + ".");
    }
    checkMatrix("A", a, aOffset, lda, transA ? k : m, transA ? m : k);
    checkMatrix("B", b, bOffset, ldb, transB ? n : k, transB ? k : n);
    checkMatrix("C", c, cOffset, ldc, m, n);
    Availability status = status();
    if (!status.available()) {
      throw new IllegalStateException(
          "OpenBLAS is not available, so Blas.sgemm cannot run. " + status.description());
    }
    if (m == 0 || n == 0) {
      return;
    }
    openblas_nolapack.cblas_sgemm(
        openblas_nolapack.CblasRowMajor,
        transA ? openblas_nolapack.CblasTrans : openblas_nolapack.CblasNoTrans,
        transB ? openblas_nolapack.CblasTrans : openblas_nolapack.CblasNoTrans,
        m,
        n,
        k,
        alpha,
        view(a, aOffset),
        lda,
        view(b, bOffset),
        ldb,
        beta,
        view(c, cOffset),
        ldc);
  }

  /**
   * {@code C = alpha * op(A) * op(B) + beta * C} on off-heap CPU buffers (no copy: OpenBLAS works
   * on the buffers' memory), row-major, each matrix starting at its view's first element. Same
   * conventions as the array version.
   */
  public static void sgemm(
      boolean transA,
      boolean transB,
      int m,
      int n,
      int k,
      float alpha,
      CpuBuf a,
      int lda,
      CpuBuf b,
      int ldb,
      float beta,
      CpuBuf c,
      int ldc) {
    if (m < 0 || n < 0 || k < 0) {
      throw new IllegalArgumentException(
          "GEMM sizes must not be negative, but m = " + m + ", n = " + n + ", k = " + k + ".");
    }
    checkMatrix("A", a.size, 0, lda, transA ? k : m, transA ? m : k);
    checkMatrix("B", b.size, 0, ldb, transB ? n : k, transB ? k : n);
    checkMatrix("C", c.size, 0, ldc, m, n);
    Availability status = status();
    if (!status.available()) {
      throw new IllegalStateException(
          "OpenBLAS is not available, so Blas.sgemm cannot run. " + status.description());
    }
    if (m == 0 || n == 0) {
      return;
    }
    openblas_nolapack.cblas_sgemm(
        openblas_nolapack.CblasRowMajor,
        transA ? openblas_nolapack.CblasTrans : openblas_nolapack.CblasNoTrans,
        transB ? openblas_nolapack.CblasTrans : openblas_nolapack.CblasNoTrans,
        m,
        n,
        k,
        alpha,
        a.pointer(),
        lda,
        b.pointer(),
        ldb,
        beta,
        c.pointer(),
        ldc);
  }

  /**
   * {@code y = A · x} for a row-major A (m × n, leading dimension lda ≥ n) on off-heap buffers: one
   * matrix-vector product (a single query against a tile of item embeddings).
   */
  public static void sgemv(int m, int n, CpuBuf a, int lda, CpuBuf x, CpuBuf y) {
    if (m < 0 || n < 0) {
      throw new IllegalArgumentException(
          "GEMV sizes must not be negative, but m = " + m + ", n = " + n + ".");
    }
    checkMatrix("A", a.size, 0, lda, m, n);
    if (x.size < n || y.size < m) {
      throw new IllegalArgumentException(
          "GEMV vectors too short: x " + x.size + " < " + n + " or y " + y.size + " < " + m);
    }
    Availability status = status();
    if (!status.available()) {
      throw new IllegalStateException(
          "OpenBLAS is not available, so Blas.sgemv cannot run. " + status.description());
    }
    if (m == 0) {
      return;
    }
    openblas_nolapack.cblas_sgemv(
        openblas_nolapack.CblasRowMajor,
        openblas_nolapack.CblasNoTrans,
        m,
        n,
        1f,
        a.pointer(),
        lda,
        x.pointer(),
        1,
        0f,
        y.pointer(),
        1);
  }

  /** Plain {@code C = A * B} with dense row-major arrays (no offsets, tight leading dimensions). */
  public static void sgemm(int m, int n, int k, float[] a, float[] b, float[] c) {
    sgemm(
        false,
        false,
        m,
        n,
        k,
        1f,
        a,
        0,
        Math.max(1, k),
        b,
        0,
        Math.max(1, n),
        0f,
        c,
        0,
        Math.max(1, n));
  }

  /**
   * A heap buffer whose position is the offset: JavaCPP passes {@code array() + arrayOffset() +
   * position()} for a non-direct buffer (checked by BlasTest's offset cases).
   */
  private static FloatBuffer view(float[] array, int offset) {
    return FloatBuffer.wrap(array, offset, array.length - offset);
  }

  private static void checkMatrix(
      String name, float[] array, int offset, int ld, int rows, int cols) {
    if (array == null) {
      throw new IllegalArgumentException("Matrix " + name + " is null.");
    }
    checkMatrix(name, array.length, offset, ld, rows, cols);
  }

  private static void checkMatrix(
      String name, long arrayLength, long offset, int ld, int rows, int cols) {
    if (ld < Math.max(1, cols)) {
      throw new IllegalArgumentException(
          "The leading dimension of "
              + name
              + " is "
              + ld
              + ", but the stored matrix has "
              + cols
              + " columns (row-major), so it must be at least "
              + Math.max(1, cols)
              + ".");
    }
    if (offset < 0 || offset > arrayLength) {
      throw new IllegalArgumentException(
          "The offset of "
              + name
              + " is "
              + offset
              + ", outside its array of length "
              + arrayLength
              + ".");
    }
    if (rows > 0 && cols > 0) {
      long last = offset + (long) (rows - 1) * ld + cols - 1;
      if (last >= arrayLength) {
        throw new IllegalArgumentException(
            "Matrix "
                + name
                + " ("
                + rows
                + " x "
                + cols
                + ", leading dimension "
                + ld
                + ", offset "
                + offset
                + ") needs "
                + (last + 1)
                + " elements, but its array has "
                + arrayLength
                + ".");
      }
    }
  }
}
