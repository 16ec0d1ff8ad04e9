package org.recjpq.backend.cpu;

import org.recjpq.backend.ByteBuf;

/** Byte memory of the CPU engine: a heap {@code byte[]} (RecJPQ codes, read as unsigned). */
public final class CpuByteBuf implements ByteBuf {
  final byte[] data;

  CpuByteBuf(byte[] data) {
    this.data = data;
  }

  /** Wraps {@code a} (not copied). */
  public static CpuByteBuf wrap(byte[] a) {
    return new CpuByteBuf(a);
  }

  @Override
  public long size() {
    return data.length;
  }

  static CpuByteBuf of(ByteBuf b) {
    if (b instanceof CpuByteBuf c) {
      return c;
    }
    throw new IllegalArgumentException(
        "not a CPU byte buffer: " + (b == null ? "null" : b.getClass().getName()));
  }
}
