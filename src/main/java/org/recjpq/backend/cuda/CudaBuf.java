package org.recjpq.backend.cuda;

import org.bytedeco.javacpp.FloatPointer;
import org.recjpq.backend.Buf;

/**
 * Float memory of the CUDA engine: a view {@code [offset, offset + size)} of one device allocation
 * made by {@link CudaOps#alloc}. Views share the allocation and keep it alive (see {@link
 * CudaOps}); the raw device address is fixed at creation, so kernels get it as a 64-bit argument
 * and cuBLAS as a Bytedeco pointer without JCuda's byte-offset bookkeeping.
 */
public final class CudaBuf implements Buf {
  final CudaMemory.Root root; // keeps the allocation reachable while any view is
  final long address; // of element 0 of this view
  final long size;

  CudaBuf(CudaMemory.Root root, long address, long size) {
    this.root = root;
    this.address = address;
    this.size = size;
  }

  @Override
  public long size() {
    return size;
  }

  @Override
  public CudaBuf slice(long offset, long length) {
    if (offset < 0 || length < 0 || offset + length > size) {
      throw new IndexOutOfBoundsException(
          "slice ["
              + offset
              + ", "
              + (offset + length)
              + ") of a device buffer of "
              + size
              + " floats");
    }
    return new CudaBuf(root, address + offset * Float.BYTES, length);
  }

  /** The raw device address of element 0 (a kernel's {@code float*} argument). */
  public long address() {
    return address;
  }

  /** A Bytedeco pointer for cuBLAS/cuDNN. */
  FloatPointer floats() {
    return AddressBridge.floatPointerAt(address, size);
  }

  /** The engine that owns this memory. */
  CudaOps engine() {
    return (CudaOps) root.ops; // CudaDevice permits only CudaOps
  }

  static CudaBuf of(Buf b) {
    if (b instanceof CudaBuf c) {
      return c;
    }
    throw new IllegalArgumentException(
        "not a CUDA buffer: " + (b == null ? "null" : b.getClass().getName()));
  }

  /** Throws unless {@code a} and {@code b} have the same number of floats. */
  static void sameSize(CudaBuf a, CudaBuf b) {
    if (a.size != b.size) {
      throw new IllegalArgumentException("buffer sizes differ: " + a.size + " and " + b.size);
    }
  }

  /** {@link #of} of an optional buffer: null stays null. */
  static CudaBuf ofNullable(Buf b) {
    return b == null ? null : of(b);
  }
}
