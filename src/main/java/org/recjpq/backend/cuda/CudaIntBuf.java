package org.recjpq.backend.cuda;

import org.recjpq.backend.IntBuf;

/** Int memory of the CUDA engine (item ids, targets, negatives); a view, like {@link CudaBuf}. */
public final class CudaIntBuf implements IntBuf {
  final CudaMemory.Root root;
  final long address;
  final long size;

  CudaIntBuf(CudaMemory.Root root, long address, long size) {
    this.root = root;
    this.address = address;
    this.size = size;
  }

  @Override
  public long size() {
    return size;
  }

  @Override
  public CudaIntBuf slice(long offset, long length) {
    if (offset < 0 || length < 0 || offset + length > size) {
      throw new IndexOutOfBoundsException(
          "slice ["
              + offset
              + ", "
              + (offset + length)
              + ") of a device buffer of "
              + size
              + " ints");
    }
    return new CudaIntBuf(root, address + offset * Integer.BYTES, length);
  }

  /** The raw device address of element 0 (a kernel's {@code int*} argument). */
  public long address() {
    return address;
  }

  static CudaIntBuf of(IntBuf b) {
    if (b instanceof CudaIntBuf c) {
      return c;
    }
    throw new IllegalArgumentException(
        "not a CUDA int buffer: " + (b == null ? "null" : b.getClass().getName()));
  }
}
