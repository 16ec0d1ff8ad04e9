package org.recjpq.backend.cpu;

import static org.recjpq.backend.cpu.CpuBuf.of;

import org.recjpq.backend.Buf;
import org.recjpq.backend.ByteBuf;
import org.recjpq.backend.IntBuf;

/** The host transfers of {@link CpuOps}: arrays into and out of buffers, fills and copies. */
final class CpuMemory {
  private final CpuOps ops;

  CpuMemory(CpuOps ops) {
    this.ops = ops;
  }

  void download(float[] dst, Buf src) {
    CpuBuf s = of(src);
    if (dst.length != s.size) {
      throw new IllegalArgumentException(
          "expected " + s.size + " floats, got room for " + dst.length);
    }
    s.data.get(s.offset, dst, 0, s.size);
  }

  void download(float[] dst, int dstOffset, Buf src, long srcOffset, int length) {
    CpuBuf s = of(src);
    if (srcOffset < 0 || length < 0 || srcOffset + length > s.size) {
      throw new IndexOutOfBoundsException(
          "floats [" + srcOffset + ", " + (srcOffset + length) + ") of " + s.size);
    }
    s.data.get(s.offset + (int) srcOffset, dst, dstOffset, length);
  }

  void upload(IntBuf dst, int[] src) {
    CpuIntBuf d = CpuIntBuf.of(dst);
    if (src.length != d.size) {
      throw new IllegalArgumentException("expected " + d.size + " ints, got " + src.length);
    }
    System.arraycopy(src, 0, d.data, d.offset, d.size);
  }

  void download(int[] dst, IntBuf src) {
    CpuIntBuf s = CpuIntBuf.of(src);
    if (dst.length != s.size) {
      throw new IllegalArgumentException(
          "expected " + s.size + " ints, got room for " + dst.length);
    }
    System.arraycopy(s.data, s.offset, dst, 0, s.size);
  }

  void upload(ByteBuf dst, byte[] src) {
    CpuByteBuf d = CpuByteBuf.of(dst);
    if (src.length != d.data.length) {
      throw new IllegalArgumentException("expected " + d.data.length + " bytes, got " + src.length);
    }
    System.arraycopy(src, 0, d.data, 0, src.length);
  }

  void fill(Buf x, float value) {
    CpuBuf b = of(x);
    ops.forChunks(
        b.size,
        (from, to) -> {
          for (int i = from; i < to; i++) {
            b.data.put(b.offset + i, value);
          }
        });
  }

  void copy(Buf dst, Buf src) {
    CpuBuf d = of(dst);
    CpuBuf s = of(src);
    CpuBuf.sameSize(d, s);
    ops.forChunks(
        d.size,
        (from, to) -> {
          for (int i = from; i < to; i++) {
            d.data.put(d.offset + i, s.data.get(s.offset + i));
          }
        });
  }
}
