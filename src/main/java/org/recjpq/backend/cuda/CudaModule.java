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
 * by {@link #close()}, with kernels launched by name on the legacy default stream.
 *
 * <p>Kernel arguments are passed in order as Java values: {@code Integer} (C {@code int}), {@code
 * Long} ({@code long long} / {@code size_t}), {@code Float}, {@code Double}, a {@link DeviceBuffer}
 * or JCuda device pointer ({@code T*}). If the system property {@code recjpq.cuda.sync} is {@code
 * true} or the environment variable {@code RECJPQ_CUDA_SYNC} is {@code 1}, every launch is followed
 * by a synchronisation, so a kernel fault is reported by the launch that caused it, with the
 * kernel's name and launch shape.
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
  public void launch(String kernel, int blocks, int threads, int sharedBytes, Object... args) {
    launch(kernel, new int[] {blocks, 1, 1}, new int[] {threads, 1, 1}, sharedBytes, args);
  }

  /** Launches a grid of {@code grid} blocks (x, y, z) of {@code block} threads (x, y, z). */
  public void launch(String kernel, int[] grid, int[] block, int sharedBytes, Object... args) {
    CUfunction function = function(kernel);
    String shape =
        kernel
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
            kernelParams(args),
            null),
        "cuLaunchKernel(" + shape + ")");
    if (SYNC_AFTER_LAUNCH) {
      CudaException.check(cuCtxSynchronize(), "cuCtxSynchronize() after " + shape);
    }
  }

  /** Packs Java kernel arguments into JCuda's pointer-to-pointers form. */
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
      } else if (arg instanceof DeviceBuffer buffer) {
        pointers[i] = Pointer.to(buffer.pointer());
      } else if (arg instanceof Pointer pointer) {
        pointers[i] = Pointer.to(pointer);
      } else {
        throw new IllegalArgumentException(
            "Kernel argument "
                + i
                + " has the unsupported type "
                + (arg == null ? "null" : arg.getClass().getName())
                + "; use Integer, Long, Float, Double, DeviceBuffer or a JCuda device pointer.");
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
