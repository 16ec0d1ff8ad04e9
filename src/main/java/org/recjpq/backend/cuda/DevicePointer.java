package org.recjpq.backend.cuda;

/**
 * A typed device address for a kernel's pointer parameter: where the engine's buffers do not carry
 * the element type by themselves (doubles kept in a float workspace, a raw {@link DeviceBuffer}),
 * or point into a buffer at an element offset. {@link Kernel#arguments} accepts one wherever a
 * pointer to its element type is declared.
 *
 * @param address the device address of element 0
 * @param element the element type
 */
public record DevicePointer(long address, Element element) {
  /** The element types kernels point to. */
  public enum Element {
    FLOAT("float"),
    DOUBLE("double"),
    INT("int"),
    UNSIGNED_CHAR("unsigned char");

    private final String spelling;

    Element(String spelling) {
      this.spelling = spelling;
    }

    /** The C spelling. */
    public String spelling() {
      return spelling;
    }
  }

  /**
   * Doubles stored in a float buffer (two floats each, 8-byte aligned), from double {@code index}.
   *
   * @throws IllegalArgumentException when the index is outside the buffer
   */
  static DevicePointer doubles(CudaBuf storage, long index) {
    if (index < 0 || 2 * index > storage.size) {
      throw new IllegalArgumentException(
          "double " + index + " is outside a buffer of " + storage.size / 2 + " doubles.");
    }
    return new DevicePointer(storage.address + 8L * index, Element.DOUBLE);
  }

  /** The floats of a raw device allocation. */
  public static DevicePointer floats(DeviceBuffer buffer) {
    return new DevicePointer(buffer.address(), Element.FLOAT);
  }

  /** The typed pointer of a kernel argument: a buffer of the engine, a DevicePointer, or null. */
  static DevicePointer of(Object arg) {
    if (arg == null || arg instanceof DevicePointer) {
      return (DevicePointer) arg;
    }
    if (arg instanceof CudaBuf b) {
      return new DevicePointer(b.address, Element.FLOAT);
    }
    if (arg instanceof CudaIntBuf b) {
      return new DevicePointer(b.address, Element.INT);
    }
    if (arg instanceof CudaByteBuf b) {
      return new DevicePointer(b.address, Element.UNSIGNED_CHAR);
    }
    throw new IllegalArgumentException(
        "a kernel's pointer argument must be a CUDA buffer, a DevicePointer or null, "
            + "not "
            + arg.getClass().getName()
            + " ("
            + arg
            + ").");
  }
}
