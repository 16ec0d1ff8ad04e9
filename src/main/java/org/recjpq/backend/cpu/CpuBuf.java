package org.recjpq.backend.cpu;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import org.bytedeco.javacpp.FloatPointer;
import org.recjpq.backend.Buf;

/**
 * Float memory of the CPU engine: a view {@code [offset, offset + size)} of one direct (off-heap)
 * {@link FloatBuffer} in native byte order.
 *
 * <p>Why off-heap: OpenBLAS reaches it through a raw address with no copy. A heap {@code float[]}
 * is copied whole through JNI on every BLAS call, which measured 22 GFLOP/s for a 25600 × 64 × 64
 * SGEMM on 2 cores against 155 GFLOP/s from direct memory; element loops run at about the same
 * speed on both. One allocation holds at most 2^29 floats (a direct buffer's 2 GiB limit).
 */
public final class CpuBuf implements Buf {
  /** Largest single allocation, in floats. */
  public static final long MAX_FLOATS = (1L << 29) - 16;

  final FloatBuffer data; // absolute indexing; never use position-relative calls
  final FloatPointer base; // the same memory, for BLAS
  final int offset;
  final int size;

  private CpuBuf(FloatBuffer data, FloatPointer base, int offset, int size) {
    this.data = data;
    this.base = base;
    this.offset = offset;
    this.size = size;
  }

  /** A new zero-filled buffer of {@code n} floats. */
  public static CpuBuf allocate(long n) {
    if (n < 0 || n > MAX_FLOATS) {
      throw new IllegalArgumentException(
          "a CPU buffer holds 0.." + MAX_FLOATS + " floats (2 GiB), asked for " + n);
    }
    FloatBuffer fb =
        ByteBuffer.allocateDirect((int) Math.max(4, n * 4))
            .order(ByteOrder.nativeOrder())
            .asFloatBuffer();
    return new CpuBuf(fb, new FloatPointer(fb), 0, (int) n);
  }

  @Override
  public long size() {
    return size;
  }

  @Override
  public CpuBuf slice(long off, long length) {
    if (off < 0 || length < 0 || off + length > size) {
      throw new IndexOutOfBoundsException(
          "slice [" + off + ", " + (off + length) + ") of a buffer of " + size + " floats");
    }
    return new CpuBuf(data, base, offset + (int) off, (int) length);
  }

  /** Element {@code i} of this view. */
  public float get(int i) {
    return data.get(offset + i);
  }

  /** Sets element {@code i} of this view. */
  public void set(int i, float v) {
    data.put(offset + i, v);
  }

  /** Copies elements {@code [at, at + len)} of this view into {@code dst[off, off + len)}. */
  public void read(int at, float[] dst, int off, int len) {
    if (at < 0 || len < 0 || (long) at + len > size) {
      throw new IndexOutOfBoundsException(
          "read [" + at + ", " + ((long) at + len) + ") of a view of " + size);
    }
    data.get(offset + at, dst, off, len);
  }

  /** Copies {@code src[off, off + len)} into elements {@code [at, at + len)} of this view. */
  public void write(int at, float[] src, int off, int len) {
    if (at < 0 || len < 0 || (long) at + len > size) {
      throw new IndexOutOfBoundsException(
          "write [" + at + ", " + ((long) at + len) + ") of a view of " + size);
    }
    data.put(offset + at, src, off, len);
  }

  /** A BLAS pointer at this view's first element (a new lightweight object: thread-safe use). */
  FloatPointer pointer() {
    return new FloatPointer(base).position(offset);
  }

  /** A copy of the view as a float array (tests, downloads). */
  public float[] toArray() {
    float[] a = new float[size];
    data.get(offset, a, 0, size);
    return a;
  }

  /** Copies {@code src} into the view. */
  public void put(float[] src) {
    if (src.length != size) {
      throw new IllegalArgumentException("expected " + size + " floats, got " + src.length);
    }
    data.put(offset, src, 0, size);
  }

  /** Throws unless {@code a} and {@code b} have the same number of floats. */
  static void sameSize(CpuBuf a, CpuBuf b) {
    if (a.size != b.size) {
      throw new IllegalArgumentException("buffer sizes differ: " + a.size + " and " + b.size);
    }
  }

  static CpuBuf of(Buf b) {
    if (b instanceof CpuBuf c) {
      return c;
    }
    throw new IllegalArgumentException(
        "not a CPU buffer: " + (b == null ? "null" : b.getClass().getName()));
  }

  /** {@link #of} of an optional buffer: null stays null. */
  static CpuBuf ofNullable(Buf b) {
    return b == null ? null : of(b);
  }
}
