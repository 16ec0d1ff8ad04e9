package org.recjpq.backend;

/**
 * The memory of {@link ReferenceOps}: plain Java arrays behind views {@code [offset, offset +
 * size)}, so that a slice shares its parent's elements, as on every engine.
 */
final class ReferenceBufs {
  private ReferenceBufs() {}

  /** Floats: a view of a {@code float[]}. */
  static final class Floats implements Buf {
    final float[] data;
    final int offset;
    final int size;

    Floats(float[] data, int offset, int size) {
      this.data = data;
      this.offset = offset;
      this.size = size;
    }

    @Override
    public long size() {
      return size;
    }

    @Override
    public Floats slice(long off, long length) {
      if (off < 0 || length < 0 || off + length > size) {
        throw new IndexOutOfBoundsException(
            "slice [" + off + ", " + (off + length) + ") of " + size + " floats");
      }
      return new Floats(data, offset + (int) off, (int) length);
    }

    /** Element i of the view. */
    float get(long i) {
      check(i);
      return data[offset + (int) i];
    }

    /** Sets element i of the view (the one rounding to float32 of a reference result). */
    void set(long i, double v) {
      check(i);
      data[offset + (int) i] = (float) v;
    }

    private void check(long i) {
      if (i < 0 || i >= size) {
        throw new IndexOutOfBoundsException("element " + i + " of a view of " + size + " floats");
      }
    }
  }

  /** Ints: a view of an {@code int[]}. */
  static final class Ints implements IntBuf {
    final int[] data;
    final int offset;
    final int size;

    Ints(int[] data, int offset, int size) {
      this.data = data;
      this.offset = offset;
      this.size = size;
    }

    @Override
    public long size() {
      return size;
    }

    @Override
    public Ints slice(long off, long length) {
      if (off < 0 || length < 0 || off + length > size) {
        throw new IndexOutOfBoundsException(
            "slice [" + off + ", " + (off + length) + ") of " + size + " ints");
      }
      return new Ints(data, offset + (int) off, (int) length);
    }

    int get(long i) {
      if (i < 0 || i >= size) {
        throw new IndexOutOfBoundsException("element " + i + " of a view of " + size + " ints");
      }
      return data[offset + (int) i];
    }

    void set(long i, int v) {
      if (i < 0 || i >= size) {
        throw new IndexOutOfBoundsException("element " + i + " of a view of " + size + " ints");
      }
      data[offset + (int) i] = v;
    }
  }

  /** Bytes (RecJPQ codes, read as unsigned). */
  static final class Bytes implements ByteBuf {
    final byte[] data;

    Bytes(byte[] data) {
      this.data = data;
    }

    @Override
    public long size() {
      return data.length;
    }

    /** Byte i as an unsigned value in [0, 256). */
    int unsigned(long i) {
      return data[(int) i] & 0xff;
    }
  }

  static Floats of(Buf b) {
    if (b instanceof Floats f) {
      return f;
    }
    throw new IllegalArgumentException(
        "not a reference buffer: " + (b == null ? "null" : b.getClass().getName()));
  }

  static Ints of(IntBuf b) {
    if (b instanceof Ints i) {
      return i;
    }
    throw new IllegalArgumentException(
        "not a reference int buffer: " + (b == null ? "null" : b.getClass().getName()));
  }

  static Bytes of(ByteBuf b) {
    if (b instanceof Bytes x) {
      return x;
    }
    throw new IllegalArgumentException(
        "not a reference byte buffer: " + (b == null ? "null" : b.getClass().getName()));
  }

  /** The view's elements widened to double. */
  static double[] read(Buf b) {
    return read(b, of(b).size);
  }

  /** The view's first {@code n} elements widened to double. */
  static double[] read(Buf b, long n) {
    Floats f = of(b);
    double[] a = new double[Math.toIntExact(n)];
    for (int i = 0; i < a.length; i++) {
      a[i] = f.get(i);
    }
    return a;
  }

  /** Writes {@code values} (each rounded once to float32) into the view's first elements. */
  static void write(Buf b, double[] values) {
    Floats f = of(b);
    if (values.length > f.size) {
      throw new IllegalArgumentException(
          "a view of " + f.size + " floats cannot take " + values.length + " values");
    }
    for (int i = 0; i < values.length; i++) {
      f.set(i, values[i]);
    }
  }

  /** The view's first {@code n} ints, copied. */
  static int[] read(IntBuf b, long n) {
    Ints x = of(b);
    int[] a = new int[Math.toIntExact(n)];
    for (int i = 0; i < x.size; i++) {
      a[i] = x.get(i);
    }
    return a;
  }
}
