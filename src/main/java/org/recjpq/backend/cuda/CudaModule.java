package org.recjpq.backend.cuda;

import static jcuda.driver.JCudaDriver.cuCtxSynchronize;
import static jcuda.driver.JCudaDriver.cuLaunchKernel;
import static jcuda.driver.JCudaDriver.cuModuleGetFunction;
import static jcuda.driver.JCudaDriver.cuModuleLoadData;
import static jcuda.driver.JCudaDriver.cuModuleUnload;

import java.util.HashMap;
import java.util.Map;
import jcuda.NativePointerObject;
import jcuda.Pointer;
import jcuda.driver.CUfunction;
import jcuda.driver.CUmodule;
import jcuda.driver.CUresult;

/**
 * A loaded CUDA module (the kernels' fatbin, via {@code cuModuleLoadData}), owned once and unloaded
 * by {@link #close()}, with kernels launched on the legacy default stream.
 *
 * <p>Every launch names a {@link Kernel} signature (see {@link Kernels}), and its Java arguments
 * are checked against it before the launch (see {@link Kernel#arguments}). If the system property
 * {@code recjpq.cuda.sync} is {@code true} or the environment variable {@code RECJPQ_CUDA_SYNC} is
 * {@code 1}, every launch is followed by a synchronisation, so a kernel fault is reported by the
 * launch that caused it, with the kernel's name and launch shape.
 */
public final class CudaModule implements AutoCloseable {
  private static final boolean SYNC_AFTER_LAUNCH =
      Boolean.getBoolean("recjpq.cuda.sync") || "1".equals(System.getenv("RECJPQ_CUDA_SYNC"));

  private final CUmodule module;
  private final String description;
  private final Map<String, CUfunction> functions = new HashMap<>();
  private boolean closed;

  private CudaModule(CUmodule module, String description) {
    this.module = module;
    this.description = description;
  }

  /** Loads a cubin, fatbin or PTX image into the current context. */
  public static CudaModule load(byte[] image, String description) {
    if (image == null || image.length == 0) {
      throw new IllegalArgumentException("The module image " + description + " is empty.");
    }
    CUmodule module = new CUmodule();
    CudaException.check(
        cuModuleLoadData(module, image),
        "cuModuleLoadData(" + description + ", " + image.length + " bytes)");
    return new CudaModule(module, description);
  }

  /** The kernel {@code name}, looked up once. */
  public CUfunction function(String name) {
    ensureOpen();
    CUfunction function = functions.get(name);
    if (function == null) {
      function = new CUfunction();
      int result = cuModuleGetFunction(function, module, name);
      if (result == CUresult.CUDA_ERROR_NOT_FOUND) {
        throw new CudaException(
            "cuModuleGetFunction(" + name + ") in " + description,
            result,
            CudaException.driverErrorText(result)
                + "; the module has no extern \"C\" kernel of "
                + "that name (is it in cuda/*.cu and was the fatbin rebuilt?)");
      }
      CudaException.check(result, "cuModuleGetFunction(" + name + ") in " + description);
      functions.put(name, function);
    }
    return function;
  }

  /** Launches a 1-D grid of {@code blocks} blocks of {@code threads} threads. */
  public void launch(Kernel kernel, int blocks, int threads, int sharedBytes, Object... args) {
    launch(kernel, new int[] {blocks, 1, 1}, new int[] {threads, 1, 1}, sharedBytes, args);
  }

  /**
   * Launches a grid of {@code grid} blocks (x, y, z) of {@code block} threads (x, y, z).
   *
   * @throws IllegalArgumentException when the arguments do not fit the kernel's signature
   */
  public void launch(Kernel kernel, int[] grid, int[] block, int sharedBytes, Object... args) {
    Object[] packed = kernel.arguments(args);
    CUfunction function = function(kernel.name());
    String shape =
        kernel.name()
            + "<<<("
            + grid[0]
            + ","
            + grid[1]
            + ","
            + grid[2]
            + "), ("
            + block[0]
            + ","
            + block[1]
            + ","
            + block[2]
            + "), "
            + sharedBytes
            + ">>>";
    CudaException.check(
        cuLaunchKernel(
            function,
            grid[0],
            grid[1],
            grid[2],
            block[0],
            block[1],
            block[2],
            sharedBytes,
            null,
            kernelParams(packed),
            null),
        "cuLaunchKernel(" + shape + ")");
    if (SYNC_AFTER_LAUNCH) {
      CudaException.check(cuCtxSynchronize(), "cuCtxSynchronize() after " + shape);
    }
  }

  /**
   * Packs checked kernel arguments ({@link Kernel#arguments}: Integer, Long, Float, Double;
   * pointers as Long addresses) into JCuda's pointer-to-pointers form.
   */
  static Pointer kernelParams(Object... args) {
    NativePointerObject[] pointers = new NativePointerObject[args.length];
    for (int i = 0; i < args.length; i++) {
      Object arg = args[i];
      if (arg instanceof Integer value) {
        pointers[i] = Pointer.to(new int[] {value});
      } else if (arg instanceof Long value) {
        pointers[i] = Pointer.to(new long[] {value});
      } else if (arg instanceof Float value) {
        pointers[i] = Pointer.to(new float[] {value});
      } else if (arg instanceof Double value) {
        pointers[i] = Pointer.to(new double[] {value});
      } else {
        throw new IllegalArgumentException(
            "Kernel argument "
                + i
                + " has the unsupported type "
                + (arg == null ? "null" : arg.getClass().getName())
                + "; use Integer, Long, Float or Double (pointers as Long addresses).");
      }
    }
    return Pointer.to(pointers);
  }

  /** Unloads the module; later calls do nothing. */
  @Override
  public void close() {
    if (!closed) {
      closed = true;
      functions.clear();
      CudaException.check(cuModuleUnload(module), "cuModuleUnload(" + description + ")");
    }
  }

  private void ensureOpen() {
    if (closed) {
      throw new IllegalStateException("The CUDA module " + description + " was unloaded.");
    }
  }
}
