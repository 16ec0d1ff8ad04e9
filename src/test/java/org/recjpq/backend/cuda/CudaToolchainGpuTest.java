package org.recjpq.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.recjpq.backend.Availability;
import org.recjpq.backend.cuda.probe.ToolchainProbe;

/**
 * The toolchain probe's GPU steps as tests. Tagged {@code gpu}: {@code gpu-check.sh} runs them on
 * the GPU machine; elsewhere they are skipped with the reason from {@link CudaAvailability}.
 */
@Tag("gpu")
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class CudaToolchainGpuTest {
  private CudaContext context;
  private CudaModule module;
  private CublasHandle cublas;

  /** Skips each test (so each shows up as skipped, with the reason) or opens the context once. */
  @BeforeEach
  void openContextOnce() {
    Availability availability = CudaAvailability.check();
    assumeTrue(availability.available(), availability.description());
    if (context == null) {
      context = CudaContext.retainPrimary(0);
    }
    context.makeCurrent();
  }

  private CudaModule module() {
    if (module == null) {
      module = context.loadKernels();
    }
    return module;
  }

  private CublasHandle cublas() {
    if (cublas == null) {
      cublas = CublasHandle.create(context);
    }
    return cublas;
  }

  @AfterAll
  void closeContext() {
    if (cublas != null) {
      cublas.close();
    }
    if (module != null) {
      module.close();
    }
    if (context != null) {
      context.close();
    }
  }

  @Test
  void primaryContextIsCurrent() {
    assertTrue(context.isCurrent());
  }

  @Test
  void saxpyKernelMatchesJavaBitForBit() {
    System.out.println(ToolchainProbe.saxpy(context, module(), 1000003));
    System.out.println(ToolchainProbe.saxpy(context, module(), 1));
  }

  @Test
  void unknownKernelNameIsReportedByName() {
    CudaException e = assertThrows(CudaException.class, () -> module().function("no_such_kernel"));
    assertTrue(e.getMessage().contains("no_such_kernel"), e.getMessage());
  }

  @Test
  void cublasSgemmMatchesOpenBlasForEveryTranspose() {
    for (int t = 0; t < 4; t++) {
      System.out.println(
          ToolchainProbe.sgemm(cublas(), 257, 129, 65, (t & 1) != 0, (t & 2) != 0, 0, 100 + t));
    }
    assertTrue(context.isCurrent(), "cuBLAS must run in the retained primary context");
  }

  @Test
  void cublasSgemmThroughByteOffsets() {
    System.out.println(ToolchainProbe.sgemm(cublas(), 257, 129, 65, false, true, 37, 7));
    System.out.println(ToolchainProbe.sgemm(cublas(), 31, 17, 9, true, true, 1, 8));
  }

  @Test
  void bridgeMatchesJcudaWithByteOffset() {
    try (DeviceBuffer buffer = DeviceBuffer.allocateFloats(64)) {
      float[] values = new float[64];
      for (int i = 0; i < values.length; i++) {
        values[i] = i;
      }
      buffer.copyFrom(values);
      float[] out = new float[4];
      // JCuda's own offset (withByteOffset) and the bridge's address agree.
      jcuda.driver.CUdeviceptr shifted = buffer.pointer().withByteOffset(40);
      assertEquals(buffer.address() + 40, AddressBridge.address(shifted));
      assertEquals(0, jcuda.driver.JCudaDriver.cuMemcpyDtoH(jcuda.Pointer.to(out), shifted, 16));
      assertEquals(10f, out[0]);
      assertEquals(13f, out[3]);
    }
  }

  @Test
  void cudnnLoadsAndCreatesAHandle() {
    System.out.println(ToolchainProbe.cudnn(context));
  }
}
