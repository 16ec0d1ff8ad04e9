package org.recjpq.backend.cuda;

import static jcuda.driver.JCudaDriver.cuMemAlloc;
import static jcuda.driver.JCudaDriver.cuMemFree;
import static jcuda.driver.JCudaDriver.cuMemcpyDtoH;
import static jcuda.driver.JCudaDriver.cuMemcpyHtoD;
import static jcuda.driver.JCudaDriver.cuMemsetD32;

import jcuda.Pointer;
import jcuda.driver.CUdeviceptr;
import org.bytedeco.javacpp.FloatPointer;

/**
 * One device allocation ({@code cuMemAlloc}), owned exactly once and freed by {@link #close()}.
 *
 * <p>Offsets into the buffer are explicit byte offsets everywhere, checked against the allocation's
 * size. Copies are synchronous ({@code cuMemcpyHtoD}/{@code DtoH}), so they also order against work
 * queued on the legacy default stream, where kernels and cuBLAS run for now. The context that
 * allocated the buffer must be current on the calling thread.
 */
public final class DeviceBuffer implements AutoCloseable {
  private final CUdeviceptr pointer;
  private final long bytes;
  private boolean closed;

  private DeviceBuffer(CUdeviceptr pointer, long bytes) {
    this.pointer = pointer;
    this.bytes = bytes;
  }

  /** Allocates {@code bytes} bytes (at least 1) in the current context. */
  public static DeviceBuffer allocate(long bytes) {
    if (bytes <= 0) {
      throw new IllegalArgumentException(
          "A device buffer needs a positive size, but " + bytes + " bytes were asked for.");
    }
    CUdeviceptr pointer = new CUdeviceptr();
    CudaException.check(cuMemAlloc(pointer, bytes), "cuMemAlloc(" + bytes + " bytes)");
    return new DeviceBuffer(pointer, bytes);
  }

  /** Allocates room for {@code count} floats in the current context. */
  public static DeviceBuffer allocateFloats(long count) {
    return allocate(Math.multiplyExact(count, (long) Float.BYTES));
  }

  /** The JCuda device pointer (valid until {@link #close()}). */
  public CUdeviceptr pointer() {
    ensureOpen();
    return pointer;
  }

  /** The allocation's size in bytes. */
  public long bytes() {
    return bytes;
  }

  /** The raw device address of the buffer's start. */
  public long address() {
    return AddressBridge.address(pointer());
  }

  /** A Bytedeco float pointer to {@code count} floats starting {@code byteOffset} bytes in. */
  public FloatPointer floats(long byteOffset, long count) {
    checkRange(byteOffset, Math.multiplyExact(count, (long) Float.BYTES), "floats()");
    return AddressBridge.floatPointer(pointer(), byteOffset, count);
  }

  /** Copies {@code count} floats from {@code source[sourceIndex..]} to {@code byteOffset}. */
  public void copyFrom(float[] source, int sourceIndex, int count, long byteOffset) {
    checkArray(source.length, sourceIndex, count);
    long length = (long) count * Float.BYTES;
    checkRange(byteOffset, length, "copyFrom");
    if (count == 0) {
      return;
    }
    CudaException.check(
        cuMemcpyHtoD(
            pointer().withByteOffset(byteOffset),
            Pointer.to(source).withByteOffset((long) sourceIndex * Float.BYTES),
            length),
        "cuMemcpyHtoD(" + length + " bytes at device offset " + byteOffset + ")");
  }

  /** Copies the whole array to the start of the buffer. */
  public void copyFrom(float[] source) {
    copyFrom(source, 0, source.length, 0);
  }

  /** Copies {@code count} floats from {@code byteOffset} to {@code target[targetIndex..]}. */
  public void copyTo(long byteOffset, float[] target, int targetIndex, int count) {
    checkArray(target.length, targetIndex, count);
    long length = (long) count * Float.BYTES;
    checkRange(byteOffset, length, "copyTo");
    if (count == 0) {
      return;
    }
    CudaException.check(
        cuMemcpyDtoH(
            Pointer.to(target).withByteOffset((long) targetIndex * Float.BYTES),
            pointer().withByteOffset(byteOffset),
            length),
        "cuMemcpyDtoH(" + length + " bytes at device offset " + byteOffset + ")");
  }

  /** Copies the start of the buffer into the whole array. */
  public void copyTo(float[] target) {
    copyTo(0, target, 0, target.length);
  }

  /** Sets every 32-bit word of the buffer to {@code bits} (e.g. {@code Float.floatToIntBits}). */
  public void fill32(int bits) {
    CudaException.check(
        cuMemsetD32(pointer(), bits, bytes / 4), "cuMemsetD32(" + bytes / 4 + " words)");
  }

  /** Frees the allocation; later calls do nothing. */
  @Override
  public void close() {
    if (!closed) {
      closed = true;
      CudaException.check(cuMemFree(pointer), "cuMemFree(" + bytes + " bytes)");
    }
  }

  private void ensureOpen() {
    if (closed) {
      throw new IllegalStateException("This device buffer (" + bytes + " bytes) was closed.");
    }
  }

  private void checkRange(long byteOffset, long length, String what) {
    if (byteOffset < 0 || length < 0 || byteOffset > bytes - length) {
      throw new IllegalArgumentException(
          what
              + ": "
              + length
              + " bytes at offset "
              + byteOffset
              + " do not fit in this device buffer of "
              + bytes
              + " bytes.");
    }
  }

  private static void checkArray(int arrayLength, int index, int count) {
    if (index < 0 || count < 0 || index > arrayLength - count) {
      throw new IllegalArgumentException(
          count
              + " floats from index "
              + index
              + " do not fit in a Java array of length "
              + arrayLength
              + ".");
    }
  }
}
