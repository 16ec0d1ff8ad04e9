package org.recjpq.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import jcuda.driver.CUdeviceptr;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.Pointer;
import org.junit.jupiter.api.Test;

/**
 * {@link AddressBridge} without a GPU: JCuda pointers with a known native address (host memory from
 * JavaCPP stands in for device memory), offsets from JCuda's {@code withByteOffset} and explicit
 * ones, and Bytedeco pointers that really address the intended floats.
 */
class AddressBridgeTest {

  /** A JCuda pointer with a chosen native address, as cuMemAlloc would leave it. */
  private static final class FakeDevicePointer extends jcuda.Pointer {
    FakeDevicePointer(long address) {
      super(address);
    }
  }

  @Test
  void addsJcudaAndExplicitOffsets() {
    long base = 0x7f12_3400_0000L;
    jcuda.Pointer pointer = new FakeDevicePointer(base);
    assertEquals(base, AddressBridge.address(pointer));
    assertEquals(base + 64, AddressBridge.address(pointer, 64));
    jcuda.Pointer shifted = pointer.withByteOffset(16);
    assertEquals(base + 16, AddressBridge.address(shifted));
    assertEquals(base + 16 + 8, AddressBridge.address(shifted, 8));
    assertEquals(base + 16 + 32 + 8, AddressBridge.address(shifted.withByteOffset(32), 8));
  }

  @Test
  void floatPointerCarriesAddressAndCount() {
    long base = 0x7f00_0000_1000L;
    FloatPointer floats = AddressBridge.floatPointer(new FakeDevicePointer(base), 12, 100);
    assertEquals(base + 12, floats.address());
    assertEquals(0, floats.position());
    assertEquals(100, floats.capacity());
    assertEquals(100, floats.limit());
    Pointer bytes = AddressBridge.pointer(new FakeDevicePointer(base), 3, 10);
    assertEquals(base + 3, bytes.address());
    assertEquals(10, bytes.capacity());
  }

  @Test
  void bridgedPointerAddressesTheRightMemory() {
    try (FloatPointer host = new FloatPointer(32)) {
      for (int i = 0; i < 32; i++) {
        host.put(i, i * 1.5f);
      }
      jcuda.Pointer asJcuda = new FakeDevicePointer(host.address()).withByteOffset(4 * 4);
      FloatPointer bridged = AddressBridge.floatPointer(asJcuda, 3 * 4, 10);
      for (int i = 0; i < 10; i++) {
        assertEquals((7 + i) * 1.5f, bridged.get(i), "float " + i + " after 7 floats of offset");
      }
      bridged.put(0, -1f);
      assertEquals(-1f, host.get(7));
      bridged.close(); // no deallocator: the memory stays owned by host
      assertEquals(-1f, host.get(7));
    }
  }

  @Test
  void rejectsPointersWithoutANativeAddress() {
    IllegalArgumentException unallocated =
        assertThrows(
            IllegalArgumentException.class, () -> AddressBridge.address(new CUdeviceptr()));
    assertTrue(unallocated.getMessage().contains("no native address"), unallocated.getMessage());
    assertThrows(
        IllegalArgumentException.class,
        () -> AddressBridge.address(jcuda.Pointer.to(new float[4])));
    assertThrows(IllegalArgumentException.class, () -> AddressBridge.address(null));
  }

  @Test
  void rejectsBadOffsetsCountsAndAlignment() {
    jcuda.Pointer pointer = new FakeDevicePointer(0x1000);
    assertThrows(IllegalArgumentException.class, () -> AddressBridge.address(pointer, -4));
    assertThrows(
        IllegalArgumentException.class,
        () -> AddressBridge.address(new FakeDevicePointer(Long.MAX_VALUE - 4), 8));
    IllegalArgumentException misaligned =
        assertThrows(
            IllegalArgumentException.class, () -> AddressBridge.floatPointer(pointer, 2, 1));
    assertTrue(misaligned.getMessage().contains("not aligned"), misaligned.getMessage());
    assertThrows(IllegalArgumentException.class, () -> AddressBridge.floatPointer(pointer, 0, -1));
    assertThrows(IllegalArgumentException.class, () -> AddressBridge.pointer(pointer, 0, -1));
  }

  @Test
  void kernelParamsRejectUnsupportedTypes() {
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> CudaModule.kernelParams(1, 2f, "three"));
    assertTrue(e.getMessage().contains("Kernel argument 2"), e.getMessage());
    CudaModule.kernelParams(
        1, 2L, 3f, 4.0, 0x1000L); // pointers arrive as addresses (see Kernel#arguments)
    assertThrows(
        IllegalArgumentException.class,
        () -> CudaModule.kernelParams(new FakeDevicePointer(0x1000)));
  }
}
