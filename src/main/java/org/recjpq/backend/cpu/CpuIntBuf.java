package org.recjpq.backend.cpu;

import org.recjpq.backend.IntBuf;

/** Int memory of the CPU engine: a view of a heap {@code int[]} (never passed to native code). */
public final class CpuIntBuf implements IntBuf {
  final int[] data;
  final int offset;
  final int size;

  CpuIntBuf(int[] data, int offset, int size) {
    this.data = data;
    this.offset = offset;
    this.size = size;
  }

  /** Wraps {@code a} (not copied). */
  public static CpuIntBuf wrap(int[] a) {
    return new CpuIntBuf(a, 0, a.length);
  }

  @Override
  public long size() {
    return size;
  }

  @Override
  public CpuIntBuf slice(long off, long length) {
    if (off < 0 || length < 0 || off + length > size) {
      throw new IndexOutOfBoundsException(
          "slice [" + off + ", " + (off + length) + ") of " + size + " ints");
    }
    return new CpuIntBuf(data, offset + (int) off, (int) length);
  }

  public int get(int i) {
    return data[offset + i];
  }

  static CpuIntBuf of(IntBuf b) {
    if (b instanceof CpuIntBuf c) {
      return c;
    }
    throw new IllegalArgumentException(
        "not a CPU int buffer: " + (b == null ? "null" : b.getClass().getName()));
  }
}
