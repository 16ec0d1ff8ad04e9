package org.recjpq.backend.cuda.probe;

import static org.bytedeco.cuda.global.cudnn.CUDNN_STATUS_SUCCESS;
import static org.bytedeco.cuda.global.cudnn.CUDNN_VERSION;
import static org.bytedeco.cuda.global.cudnn.cudnnCreate;
import static org.bytedeco.cuda.global.cudnn.cudnnDestroy;
import static org.bytedeco.cuda.global.cudnn.cudnnGetErrorString;
import static org.bytedeco.cuda.global.cudnn.cudnnGetVersion;

import java.util.Locale;
import java.util.Random;
import org.bytedeco.cuda.cudnn.cudnnContext;
import org.recjpq.backend.cpu.Blas;
import org.recjpq.backend.cuda.AddressBridge;
import org.recjpq.backend.cuda.CublasHandle;
import org.recjpq.backend.cuda.CudaContext;
import org.recjpq.backend.cuda.CudaEmulator;
import org.recjpq.backend.cuda.CudaException;
import org.recjpq.backend.cuda.CudaModule;
import org.recjpq.backend.cuda.DeviceBuffer;
import org.recjpq.backend.cuda.DevicePointer;
import org.recjpq.backend.cuda.Kernels;

/**
 * The toolchain probe's checks, shared by {@link DeviceCheck} and the {@code gpu}-tagged tests.
 * Each returns a one-line detail on success and throws (an {@link IllegalStateException} for a
 * wrong result, a {@link CudaException} for a failed call) otherwise.
 */
public final class ToolchainProbe {
  static final String SAXPY_KERNEL = Kernels.SAXPY_PROBE.name();

  /** float32 unit roundoff, 2^-24. */
  static final double UNIT_ROUNDOFF = 0x1p-24;

  private ToolchainProbe() {}

  /**
   * Runs {@code saxpy_probe_kernel} on {@code n} small-integer inputs ({@code y = 3x + y}, exact in
   * float32) and compares every output with Java bit for bit.
   */
  public static String saxpy(CudaContext context, CudaModule module, int n) {
    float a = 3f;
    float[] x = new float[n];
    float[] y = new float[n];
    for (int i = 0; i < n; i++) {
      x[i] = (i % 2001) - 1000;
      y[i] = ((i * 7) % 1001) - 500;
    }
    float[] out = new float[n];
    long nanos;
    try (DeviceBuffer dx = DeviceBuffer.allocateFloats(n);
        DeviceBuffer dy = DeviceBuffer.allocateFloats(n)) {
      dx.copyFrom(x);
      dy.copyFrom(y);
      int blocks = (int) Math.min((n + 255L) / 256, 8192);
      // warm-up; dy = a*x + y
      module.launch(
          Kernels.SAXPY_PROBE,
          blocks,
          256,
          0,
          n,
          a,
          DevicePointer.floats(dx),
          DevicePointer.floats(dy));
      context.synchronize();
      dy.copyFrom(y);
      long start = System.nanoTime();
      module.launch(
          Kernels.SAXPY_PROBE,
          blocks,
          256,
          0,
          n,
          a,
          DevicePointer.floats(dx),
          DevicePointer.floats(dy));
      context.synchronize();
      nanos = System.nanoTime() - start;
      dy.copyTo(out);
    }
    int mismatches = 0;
    int first = -1;
    for (int i = 0; i < n; i++) {
      float expected = a * x[i] + y[i];
      if (Float.floatToRawIntBits(out[i]) != Float.floatToRawIntBits(expected)) {
        if (first < 0) {
          first = i;
        }
        mismatches++;
      }
    }
    if (mismatches > 0) {
      throw new IllegalStateException(
          mismatches
              + " of "
              + n
              + " saxpy outputs differ from Java; "
              + "the first at index "
              + first
              + ": GPU "
              + out[first]
              + ", Java "
              + (a * x[first] + y[first])
              + ".");
    }
    if (CudaEmulator.selected()) {
      return n + " outputs equal Java bit for bit (on the " + CudaEmulator.LABEL + ": no timing)";
    }
    double gbPerS = 3.0 * Float.BYTES * n / nanos;
    return String.format(
        Locale.ROOT,
        "%d outputs equal Java bit for bit; kernel %.3f ms (%.0f GB/s)",
        n,
        nanos / 1e6,
        gbPerS);
  }

  /**
   * Row-major cuBLAS SGEMM through {@link AddressBridge} on JCuda-allocated memory, compared with
   * {@link Blas} (OpenBLAS; a plain loop if OpenBLAS is missing).
   *
   * <p>Tolerance: each output must satisfy {@code |gpu - cpu| <= 2 (k + 2) u (|alpha| (|A||B|)_ij +
   * |beta C0_ij|)} with {@code u = 2^-24}: the classic worst-case error bound of a length-k float32
   * dot product, for each side, plus the scaling steps. It holds for any summation order and FMA
   * use; TF32 (u = 2^-11) would break it, which proves TF32 is off.
   *
   * @param offsetFloats the operands' position inside their buffers, in floats (0 for none); with
   *     an offset, guard values before and after C must survive, and alpha/beta are not 1/0
   */
  public static String sgemm(
      CublasHandle cublas,
      int m,
      int n,
      int k,
      boolean transA,
      boolean transB,
      int offsetFloats,
      long seed) {
    Random random = new Random(seed);
    int lda = transA ? m : k;
    int ldb = transB ? k : n;
    int ldc = n;
    float[] a = uniform(random, m * k);
    float[] b = uniform(random, k * n);
    float[] c0 = uniform(random, m * n);
    float alpha = offsetFloats == 0 ? 1f : 0.75f;
    float beta = offsetFloats == 0 ? 0f : -1.5f;
    int guard = 13;
    float guardValue = -12345.5f;
    float[] gpu = new float[offsetFloats + m * n + guard];
    try (DeviceBuffer da = DeviceBuffer.allocateFloats(offsetFloats + a.length + guard);
        DeviceBuffer db = DeviceBuffer.allocateFloats(offsetFloats + b.length + guard);
        DeviceBuffer dc = DeviceBuffer.allocateFloats(gpu.length)) {
      long byteOffset = (long) offsetFloats * Float.BYTES;
      da.copyFrom(a, 0, a.length, byteOffset);
      db.copyFrom(b, 0, b.length, byteOffset);
      dc.fill32(Float.floatToRawIntBits(guardValue));
      dc.copyFrom(c0, 0, c0.length, byteOffset);
      cublas.sgemmRowMajor(
          transA,
          transB,
          m,
          n,
          k,
          alpha,
          AddressBridge.floatPointer(da.pointer(), byteOffset, a.length),
          lda,
          AddressBridge.floatPointer(db.pointer(), byteOffset, b.length),
          ldb,
          beta,
          AddressBridge.floatPointer(dc.pointer(), byteOffset, c0.length),
          ldc);
      dc.copyTo(gpu);
    }
    for (int i = 0; i < gpu.length; i++) {
      boolean inside = i >= offsetFloats && i < offsetFloats + m * n;
      if (!inside && gpu[i] != guardValue) {
        throw new IllegalStateException(
            "cuBLAS wrote outside C: element "
                + i
                + " of C's buffer "
                + "(C starts at "
                + offsetFloats
                + ") is "
                + gpu[i]
                + ", not the guard "
                + guardValue
                + ".");
      }
    }
    float[] cpu = c0.clone();
    String reference;
    if (Blas.isAvailable()) {
      Blas.sgemm(transA, transB, m, n, k, alpha, a, 0, lda, b, 0, ldb, beta, cpu, 0, ldc);
      reference = "OpenBLAS";
    } else {
      naiveSgemm(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, cpu, ldc);
      reference = "a Java loop (OpenBLAS unavailable)";
    }
    double worstError = 0;
    double worstRatio = 0;
    for (int i = 0; i < m; i++) {
      for (int j = 0; j < n; j++) {
        double magnitude = 0;
        for (int p = 0; p < k; p++) {
          double av = transA ? a[p * lda + i] : a[i * lda + p];
          double bv = transB ? b[j * ldb + p] : b[p * ldb + j];
          magnitude += Math.abs(av * bv);
        }
        double bound =
            2.0
                    * (k + 2)
                    * UNIT_ROUNDOFF
                    * (Math.abs(alpha) * magnitude + Math.abs(beta * c0[i * ldc + j]))
                + 1e-30;
        double error = Math.abs((double) gpu[offsetFloats + i * ldc + j] - cpu[i * ldc + j]);
        worstError = Math.max(worstError, error);
        worstRatio = Math.max(worstRatio, error / bound);
        if (!(error <= bound)) {
          throw new IllegalStateException(
              String.format(
                  Locale.ROOT,
                  "cuBLAS and %s differ at (%d, %d) of a %dx%dx%d SGEMM (transA=%s, transB=%s): "
                      + "GPU %s, CPU %s, |difference| %.3g > bound %.3g (is TF32 on?).",
                  reference,
                  i,
                  j,
                  m,
                  n,
                  k,
                  transA,
                  transB,
                  gpu[offsetFloats + i * ldc + j],
                  cpu[i * ldc + j],
                  error,
                  bound));
        }
      }
    }
    return String.format(
        Locale.ROOT,
        "%dx%dx%d%s%s%s: max |gpu-cpu| %.2e = %.3f of the FP32 bound, vs %s",
        m,
        n,
        k,
        transA ? " A^T" : "",
        transB ? " B^T" : "",
        offsetFloats == 0 ? "" : " at +" + offsetFloats * Float.BYTES + " B, guards intact",
        worstError,
        worstRatio,
        reference);
  }

  /** Mean TFLOP/s of {@code reps} square SGEMMs of {@code size} in {@code mode}. */
  static double sgemmTflops(
      CudaContext context, CublasHandle cublas, int size, CublasHandle.MathMode mode, int reps) {
    long count = (long) size * size;
    try (DeviceBuffer a = DeviceBuffer.allocateFloats(count);
        DeviceBuffer b = DeviceBuffer.allocateFloats(count);
        DeviceBuffer c = DeviceBuffer.allocateFloats(count)) {
      a.fill32(Float.floatToRawIntBits(0.5f));
      b.fill32(Float.floatToRawIntBits(0.25f));
      cublas.setMathMode(mode);
      try {
        Runnable gemm =
            () ->
                cublas.sgemmRowMajor(
                    false,
                    false,
                    size,
                    size,
                    size,
                    1f,
                    a.floats(0, count),
                    size,
                    b.floats(0, count),
                    size,
                    0f,
                    c.floats(0, count),
                    size);
        gemm.run(); // warm-up, untimed
        context.synchronize();
        long start = System.nanoTime();
        for (int r = 0; r < reps; r++) {
          gemm.run();
        }
        context.synchronize();
        double seconds = (System.nanoTime() - start) / 1e9;
        return 2.0 * size * size * (double) size * reps / seconds / 1e12;
      } finally {
        cublas.setMathMode(CublasHandle.MathMode.PEDANTIC);
      }
    }
  }

  /** cuDNN's version (loaded from the machine's libraries) and a handle made and destroyed. */
  public static String cudnn(CudaContext context) {
    long version = cudnnGetVersion();
    context.makeCurrent();
    cudnnContext handle = new cudnnContext();
    int status = cudnnCreate(handle);
    if (status != CUDNN_STATUS_SUCCESS) {
      throw new CudaException("cudnnCreate()", status, cudnnGetErrorString(status).getString());
    }
    status = cudnnDestroy(handle);
    if (status != CUDNN_STATUS_SUCCESS) {
      throw new CudaException("cudnnDestroy()", status, cudnnGetErrorString(status).getString());
    }
    return "cuDNN "
        + cudnnVersionString(version)
        + " (Bytedeco preset built for "
        + cudnnVersionString(CUDNN_VERSION)
        + "); cudnnCreate/cudnnDestroy succeeded";
  }

  /** cuDNN 9 encodes major*10000 + minor*100 + patch. */
  public static String cudnnVersionString(long version) {
    return (version / 10000) + "." + (version % 10000) / 100 + "." + version % 100;
  }

  /** OpenBLAS against a plain loop on odd sizes and all transposes (CPU only). */
  static String openblas() {
    if (!Blas.isAvailable()) {
      throw new IllegalStateException(Blas.status().description());
    }
    Random random = new Random(42);
    int m = 67;
    int n = 45;
    int k = 33;
    double worst = 0;
    for (int t = 0; t < 4; t++) {
      boolean transA = (t & 1) != 0;
      boolean transB = (t & 2) != 0;
      int lda = transA ? m : k;
      int ldb = transB ? k : n;
      float[] a = uniform(random, m * k);
      float[] b = uniform(random, k * n);
      float[] fast = new float[m * n];
      float[] slow = new float[m * n];
      Blas.sgemm(transA, transB, m, n, k, 1f, a, 0, lda, b, 0, ldb, 0f, fast, 0, n);
      naiveSgemm(transA, transB, m, n, k, 1f, a, lda, b, ldb, 0f, slow, n);
      for (int i = 0; i < fast.length; i++) {
        double error = Math.abs(fast[i] - slow[i]);
        // Both sides round a length-k dot product of values in [-1, 1): 2 k u k bounds it.
        if (error > 2.0 * k * UNIT_ROUNDOFF * k) {
          throw new IllegalStateException(
              "OpenBLAS and a Java loop differ at " + i + ": " + fast[i] + " vs " + slow[i] + ".");
        }
        worst = Math.max(worst, error);
      }
    }
    return String.format(
        Locale.ROOT,
        "%s; %dx%dx%d, 4 transposes, max |diff| vs loop %.1e",
        Blas.status().description().replaceAll("\\.$", ""),
        m,
        n,
        k,
        worst);
  }

  static void naiveSgemm(
      boolean transA,
      boolean transB,
      int m,
      int n,
      int k,
      float alpha,
      float[] a,
      int lda,
      float[] b,
      int ldb,
      float beta,
      float[] c,
      int ldc) {
    for (int i = 0; i < m; i++) {
      for (int j = 0; j < n; j++) {
        float sum = 0f;
        for (int p = 0; p < k; p++) {
          float av = transA ? a[p * lda + i] : a[i * lda + p];
          float bv = transB ? b[j * ldb + p] : b[p * ldb + j];
          sum += av * bv;
        }
        c[i * ldc + j] = alpha * sum + (beta == 0f ? 0f : beta * c[i * ldc + j]);
      }
    }
  }

  private static float[] uniform(Random random, int count) {
    float[] values = new float[count];
    for (int i = 0; i < count; i++) {
      values[i] = random.nextFloat() * 2f - 1f;
    }
    return values;
  }
}
