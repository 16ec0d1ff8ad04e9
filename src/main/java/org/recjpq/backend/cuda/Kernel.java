package org.recjpq.backend.cuda;

import java.util.List;

/**
 * One {@code extern "C" __global__} kernel of {@code cuda/*.cu}: its name and its parameters' C
 * types in order, as the kernel declares them. Every launch goes through {@link
 * CudaModule#launch(Kernel, int[], int[], int, Object...)}, which checks the Java arguments against
 * this signature (count, order, and the type of each: a scalar's Java box, a pointer's element
 * type) before anything reaches the device, so a mismatch is an exception naming the kernel and the
 * parameter instead of memory corrupted on a card. {@code KernelSignatureTest} checks every
 * signature here against the {@code .cu} sources, so the two cannot drift apart.
 */
public final class Kernel {
  /**
   * A parameter's C type, spelled as in the kernel's declaration (without {@code __restrict__}).
   */
  public enum CType {
    INT("int", null),
    LONG_LONG("long long", null),
    UNSIGNED_LONG_LONG("unsigned long long", null),
    FLOAT("float", null),
    DOUBLE("double", null),
    FLOAT_PTR("float*", DevicePointer.Element.FLOAT),
    CONST_FLOAT_PTR("const float*", DevicePointer.Element.FLOAT),
    DOUBLE_PTR("double*", DevicePointer.Element.DOUBLE),
    CONST_DOUBLE_PTR("const double*", DevicePointer.Element.DOUBLE),
    INT_PTR("int*", DevicePointer.Element.INT),
    CONST_INT_PTR("const int*", DevicePointer.Element.INT),
    CONST_UCHAR_PTR("const unsigned char*", DevicePointer.Element.UNSIGNED_CHAR);

    private final String spelling;
    private final DevicePointer.Element element;

    CType(String spelling, DevicePointer.Element element) {
      this.spelling = spelling;
      this.element = element;
    }

    /** The C spelling, e.g. {@code const float*}. */
    public String spelling() {
      return spelling;
    }

    /** Whether this is a pointer to device memory. */
    public boolean pointer() {
      return element != null;
    }
  }

  private final String name;
  private final List<CType> parameters;

  private Kernel(String name, List<CType> parameters) {
    this.name = name;
    this.parameters = parameters;
  }

  /** A kernel's signature. */
  static Kernel of(String name, CType... parameters) {
    return new Kernel(name, List.of(parameters));
  }

  /** The kernel's name in the module. */
  public String name() {
    return name;
  }

  /** The parameters' C types, in order. */
  public List<CType> parameters() {
    return parameters;
  }

  /** {@code name(int, const float*, ...)}. */
  public String signature() {
    StringBuilder s = new StringBuilder(name).append('(');
    for (int i = 0; i < parameters.size(); i++) {
      s.append(i == 0 ? "" : ", ").append(parameters.get(i).spelling());
    }
    return s.append(')').toString();
  }

  @Override
  public String toString() {
    return signature();
  }

  /**
   * The launch arguments as {@link CudaModule} packs them (scalars as their boxes, pointers as
   * 64-bit addresses), after checking them against the signature.
   *
   * <p>Accepted: {@code int} ← {@link Integer}; {@code long long} and {@code unsigned long long} ←
   * {@link Long}; {@code float} ← {@link Float}; {@code double} ← {@link Double}; {@code float*} ←
   * {@link CudaBuf}; {@code int*} ← {@link CudaIntBuf}; {@code unsigned char*} ← {@link
   * CudaByteBuf}; any pointer ← a {@link DevicePointer} of its element type, or {@code null} (a
   * null pointer).
   *
   * @throws IllegalArgumentException naming the kernel and the parameter when an argument does not
   *     fit
   */
  Object[] arguments(Object... args) {
    if (args.length != parameters.size()) {
      throw new IllegalArgumentException(
          signature()
              + " takes "
              + parameters.size()
              + " arguments, but the launch"
              + " passes "
              + args.length
              + ".");
    }
    Object[] packed = new Object[args.length];
    for (int i = 0; i < args.length; i++) {
      CType type = parameters.get(i);
      Object arg = args[i];
      if (type.pointer()) {
        DevicePointer p;
        try {
          p = DevicePointer.of(arg);
        } catch (IllegalArgumentException e) {
          throw mismatch(i, type, "a " + arg.getClass().getSimpleName());
        }
        if (p != null && p.element() != type.element) {
          throw mismatch(i, type, p.element().spelling() + " device memory");
        }
        packed[i] = p == null ? 0L : p.address();
      } else {
        boolean fits =
            switch (type) {
              case INT -> arg instanceof Integer;
              case LONG_LONG, UNSIGNED_LONG_LONG -> arg instanceof Long;
              case FLOAT -> arg instanceof Float;
              case DOUBLE -> arg instanceof Double;
              default -> false;
            };
        if (!fits) {
          throw mismatch(i, type, arg == null ? "null" : "a " + arg.getClass().getSimpleName());
        }
        packed[i] = arg;
      }
    }
    return packed;
  }

  private IllegalArgumentException mismatch(int index, CType type, String got) {
    return new IllegalArgumentException(
        "Argument "
            + index
            + " of "
            + signature()
            + " must be a "
            + type.spelling()
            + ", but the launch passes "
            + got
            + ".");
  }
}
