package org.recjpq.backend.cuda;

import static jcuda.driver.JCudaDriver.cuCtxGetCurrent;
import static jcuda.driver.JCudaDriver.cuCtxSetCurrent;
import static jcuda.driver.JCudaDriver.cuCtxSynchronize;
import static jcuda.driver.JCudaDriver.cuDeviceGet;
import static jcuda.driver.JCudaDriver.cuDevicePrimaryCtxRelease;
import static jcuda.driver.JCudaDriver.cuDevicePrimaryCtxRetain;
import static jcuda.driver.JCudaDriver.cuInit;
import static jcuda.driver.JCudaDriver.cuMemGetInfo;

import jcuda.driver.CUcontext;
import jcuda.driver.CUdevice;

/**
 * Owns one retained reference to a device's <em>primary</em> context.
 *
 * <p>The primary context is the one the CUDA runtime API uses, so kernels launched through JCuda's
 * driver API and the runtime-API libraries called through Bytedeco (cuBLAS, cuDNN) share one
 * context, one address space and one legacy default stream (docs/architecture.md §6). {@link
 * #retainPrimary(int)} makes it current on the calling thread; other threads must call {@link
 * #makeCurrent()} before any CUDA work. {@link #close()} releases the reference (the driver
 * destroys the primary context when the last reference goes); close every buffer, module and
 * library handle made in it first.
 */
public final class CudaContext implements AutoCloseable {
  private final int ordinal;
  private final CUdevice device;
  private final CUcontext context;
  private boolean closed;

  private CudaContext(int ordinal, CUdevice device, CUcontext context) {
    this.ordinal = ordinal;
    this.device = device;
    this.context = context;
  }

  /**
   * Initialises the driver, retains device {@code ordinal}'s primary context and makes it current
   * on this thread.
   *
   * @throws CudaException naming the failing call (e.g. {@code cuInit(0)} with {@code
   *     CUDA_ERROR_NO_DEVICE})
   */
  public static CudaContext retainPrimary(int ordinal) {
    CudaException.check(cuInit(0), "cuInit(0)");
    CUdevice device = new CUdevice();
    CudaException.check(cuDeviceGet(device, ordinal), "cuDeviceGet(" + ordinal + ")");
    CUcontext context = new CUcontext();
    CudaException.check(
        cuDevicePrimaryCtxRetain(context, device),
        "cuDevicePrimaryCtxRetain(device " + ordinal + ")");
    try {
      CudaException.check(cuCtxSetCurrent(context), "cuCtxSetCurrent(primary context)");
    } catch (CudaException e) {
      cuDevicePrimaryCtxRelease(device);
      throw e;
    }
    return new CudaContext(ordinal, device, context);
  }

  /** The device ordinal. */
  public int ordinal() {
    return ordinal;
  }

  /** The JCuda context handle. */
  public CUcontext handle() {
    ensureOpen();
    return context;
  }

  /**
   * The JCuda context handle, even after {@link #close()} (tests of what a destroyed context
   * refuses).
   */
  CUcontext handleUnchecked() {
    return context;
  }

  /** Makes this context current on the calling thread. */
  public void makeCurrent() {
    CudaException.check(cuCtxSetCurrent(handle()), "cuCtxSetCurrent(primary context)");
  }

  /** Whether this context is the one current on the calling thread. */
  public boolean isCurrent() {
    CUcontext current = new CUcontext();
    CudaException.check(cuCtxGetCurrent(current), "cuCtxGetCurrent()");
    return current.equals(context);
  }

  /** Waits for all work queued in this context; reports asynchronous errors. */
  public void synchronize() {
    ensureOpen();
    CudaException.check(cuCtxSynchronize(), "cuCtxSynchronize()");
  }

  /** {free, total} device memory in bytes. */
  public long[] memoryInfo() {
    ensureOpen();
    long[] free = new long[1];
    long[] total = new long[1];
    CudaException.check(cuMemGetInfo(free, total), "cuMemGetInfo()");
    return new long[] {free[0], total[0]};
  }

  /** Loads the kernels' fatbin from the classpath (see {@link CudaAvailability#readFatbin()}). */
  public CudaModule loadKernels() {
    ensureOpen();
    return CudaModule.load(CudaAvailability.readFatbin(), "recjpq.fatbin");
  }

  /** Releases the primary context reference; later calls do nothing. */
  @Override
  public void close() {
    if (!closed) {
      closed = true;
      CudaException.check(
          cuDevicePrimaryCtxRelease(device), "cuDevicePrimaryCtxRelease(device " + ordinal + ")");
    }
  }

  private void ensureOpen() {
    if (closed) {
      throw new IllegalStateException("The CUDA context of device " + ordinal + " was closed.");
    }
  }
}
