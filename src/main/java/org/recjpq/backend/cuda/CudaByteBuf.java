package org.recjpq.backend.cuda;

import org.recjpq.backend.ByteBuf;

/** Byte memory of the CUDA engine (RecJPQ codes, read as {@code unsigned char}). */
public final class CudaByteBuf implements ByteBuf {
  final CudaMemory.Root root;
  final long address;
  final long size;

  CudaByteBuf(CudaMemory.Root root, long address, long size) {
    this.root = root;
    this.address = address;
    this.size = size;
  }

  @Override
  public long size() {
    return size;
  }

  /** The raw device address of byte 0 (a kernel's {@code const unsigned char*} argument). */
  public long address() {
    return address;
  }

  static CudaByteBuf of(ByteBuf b) {
    if (b instanceof CudaByteBuf c) {
      return c;
    }
    throw new IllegalArgumentException(
        "not a CUDA byte buffer: " + (b == null ? "null" : b.getClass().getName()));
  }
}
