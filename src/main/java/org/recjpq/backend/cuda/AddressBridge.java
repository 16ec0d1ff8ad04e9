package org.recjpq.backend.cuda;

import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.Pointer;

/**
 * The one bridge between JCuda device memory and Bytedeco's CUDA libraries (cuBLAS, cuDNN): the raw
 * device address of a JCuda {@link jcuda.Pointer} (usually a {@link jcuda.driver.CUdeviceptr}) as a
 * Bytedeco {@link FloatPointer} or {@link Pointer}.
 *
 * <p><b>Reading the address.</b> JCuda keeps the device address in the private field {@code
 * NativePointerObject.nativePointer}, readable only through the <em>protected</em> {@code
 * getNativePointer()}; a pointer made with {@code withByteOffset} shares that address and keeps the
 * offset in the private field {@code Pointer.byteOffset} (protected {@code getByteOffset()}), which
 * JCuda's JNI layer adds only when it passes the pointer to a CUDA function. So the address alone
 * does not reflect {@code withByteOffset}. This class reads both without reflection: a private
 * subclass of {@code jcuda.Pointer} copies the pointer through the protected copy constructor
 * (which copies the native address and the byte offset) and calls the two protected getters on
 * itself, which Java's access rules allow. Unlike {@code setAccessible} on the private field, this
 * survives field renames and works in a module system. The result is {@code nativePointer +
 * byteOffset + the explicit byte offset} given here, so callers can track offsets explicitly
 * (docs/architecture.md §6) or use JCuda's, and both are honoured.
 *
 * <p><b>Making the Bytedeco pointer.</b> JavaCPP exposes no public "pointer from address"
 * constructor; its documented way is a subclass that sets the protected {@code address}, {@code
 * limit} and {@code capacity} fields. The pointers made here have no deallocator: they never free
 * the memory, which stays owned by the {@link DeviceBuffer} (or other JCuda owner) it came from,
 * and they must not outlive it. They point to <em>device</em> memory: pass them to CUDA libraries
 * only, never call {@code get}/{@code put} on them (that would dereference a device address on the
 * host and crash the JVM).
 */
public final class AddressBridge {
  private AddressBridge() {}

  /** Reads JCuda's protected address and byte offset from a copy of a pointer. */
  private static final class Peek extends jcuda.Pointer {
    Peek(jcuda.Pointer other) {
      super(other);
    }

    long nativeAddress() {
      return getNativePointer();
    }

    long jcudaByteOffset() {
      return getByteOffset();
    }
  }

  /** A float pointer at a raw address, with no deallocator. */
  private static final class RawFloatPointer extends FloatPointer {
    RawFloatPointer(long address, long count) {
      super((Pointer) null);
      this.address = address;
      this.limit = count;
      this.capacity = count;
    }
  }

  /** A void pointer at a raw address, with no deallocator. */
  private static final class RawPointer extends Pointer {
    RawPointer(long address, long bytes) {
      super((Pointer) null);
      this.address = address;
      this.limit = bytes;
      this.capacity = bytes;
    }
  }

  /**
   * The address JCuda would pass for {@code pointer}: its native address plus its JCuda byte
   * offset.
   *
   * @throws IllegalArgumentException if the pointer has no native address (a never-allocated {@code
   *     CUdeviceptr}, a freed buffer's pointer, or a JCuda pointer to a host array or buffer, which
   *     is not device memory)
   */
  public static long address(jcuda.Pointer pointer) {
    return address(pointer, 0);
  }

  /**
   * The address of {@code pointer} plus {@code byteOffset} bytes.
   *
   * @throws IllegalArgumentException if the pointer has no native address or the offset is negative
   *     or overflows
   */
  public static long address(jcuda.Pointer pointer, long byteOffset) {
    if (pointer == null) {
      throw new IllegalArgumentException("The JCuda pointer is null.");
    }
    if (byteOffset < 0) {
      throw new IllegalArgumentException(
          "The byte offset must not be negative, but it is " + byteOffset + ".");
    }
    Peek peek = new Peek(pointer);
    long base = peek.nativeAddress();
    if (base == 0) {
      throw new IllegalArgumentException(
          "The JCuda pointer has no native address: it was never allocated, was freed, or points "
              + "to a Java array or buffer rather than device memory ("
              + pointer
              + ").");
    }
    try {
      return Math.addExact(Math.addExact(base, peek.jcudaByteOffset()), byteOffset);
    } catch (ArithmeticException e) {
      throw new IllegalArgumentException(
          "The address "
              + base
              + " plus the byte offsets "
              + peek.jcudaByteOffset()
              + " and "
              + byteOffset
              + " overflows.",
          e);
    }
  }

  /**
   * A Bytedeco float pointer to {@code floatCount} floats at {@code pointer + byteOffset}.
   *
   * @throws IllegalArgumentException if the resulting address is not 4-byte aligned, the count is
   *     negative, or {@link #address(jcuda.Pointer, long)} rejects the pointer
   */
  public static FloatPointer floatPointer(jcuda.Pointer pointer, long byteOffset, long floatCount) {
    return floatPointerAt(address(pointer, byteOffset), floatCount);
  }

  /**
   * A Bytedeco void pointer to {@code byteCount} bytes at {@code pointer + byteOffset}.
   *
   * @throws IllegalArgumentException if the count is negative or {@link #address(jcuda.Pointer,
   *     long)} rejects the pointer
   */
  public static Pointer pointer(jcuda.Pointer pointer, long byteOffset, long byteCount) {
    if (byteCount < 0) {
      throw new IllegalArgumentException(
          "The byte count must not be negative, but it is " + byteCount + ".");
    }
    return new RawPointer(address(pointer, byteOffset), byteCount);
  }

  /** A float pointer at a raw address (package-private: tests use host memory here). */
  static FloatPointer floatPointerAt(long address, long floatCount) {
    if (floatCount < 0) {
      throw new IllegalArgumentException(
          "The float count must not be negative, but it is " + floatCount + ".");
    }
    if ((address & (Float.BYTES - 1)) != 0) {
      throw new IllegalArgumentException(
          "The address 0x"
              + Long.toHexString(address)
              + " is not aligned to 4 bytes, so it cannot address floats; check the byte offset.");
    }
    return new RawFloatPointer(address, floatCount);
  }
}
