package org.recjpq.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;
import static org.recjpq.backend.cuda.Kernel.CType.CONST_FLOAT_PTR;
import static org.recjpq.backend.cuda.Kernel.CType.FLOAT_PTR;
import static org.recjpq.backend.cuda.Kernel.CType.INT;
import static org.recjpq.backend.cuda.Kernel.CType.INT_PTR;

import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import jcuda.Pointer;
import jcuda.driver.CUfunction_attribute;
import jcuda.driver.CUresult;
import jcuda.driver.JCudaDriver;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.recjpq.backend.Availability;
import org.recjpq.backend.cuda.probe.ToolchainProbe;

/**
 * The CUDA emulator bites: the deliberately wrong kernels of {@code cuda-emulator/test-kernels}
 * (loaded as the emulator's kernel set "test") and wrong calls each give a clear error naming the
 * kernel or the call, a racy kernel gives different results in the two thread orders, and the
 * emulated features (shuffles, barriers, dynamic shared memory with opt-in, poisoned memory) do
 * what a GPU does. Tagged {@code emulator}: it runs only where the emulator is selected.
 */
@Tag("emulator")
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class CudaEmulatorTest {
  /**
   * cuCtxSetLimit's emulator-only limit that sets the thread and block order (0 forward, 1 reverse,
   * 2 shuffle).
   */
  private static final int ORDER_LIMIT = 0x52450001;

  private static final Kernel RACY = Kernel.of("emu_test_racy_kernel", INT_PTR);
  private static final Kernel ATOMIC = Kernel.of("emu_test_atomic_kernel", INT_PTR);
  private static final Kernel WRITE_PAST =
      Kernel.of("emu_test_write_past_kernel", INT, INT, FLOAT_PTR);
  private static final Kernel DIVERGENT_BARRIER =
      Kernel.of("emu_test_divergent_barrier_kernel", INT, INT_PTR);
  private static final Kernel DYNAMIC_SHARED =
      Kernel.of("emu_test_dynamic_shared_kernel", INT, FLOAT_PTR);
  private static final Kernel UNINITIALISED_SHARED =
      Kernel.of("emu_test_uninitialised_shared_kernel", INT, FLOAT_PTR);
  private static final Kernel WARP_SUM = Kernel.of("emu_test_warp_sum_kernel", FLOAT_PTR);
  private static final Kernel BLOCK_SUM =
      Kernel.of("emu_test_block_sum_kernel", INT, CONST_FLOAT_PTR, FLOAT_PTR);
  private static final Kernel EMPTY = Kernel.of("emu_test_empty_kernel", INT);

  private CudaContext context;
  private CudaModule tests;

  @BeforeAll
  void open() {
    assumeTrue(
        CudaEmulator.selected(), "the CUDA emulator is not selected (-Drecjpq.cuda=emulator)");
    Availability a = CudaAvailability.check();
    assumeTrue(a.available(), a.description());
    assertTrue(
        CudaAvailability.report().emulated(),
        "a real GPU answered where the emulator was selected");
    context = CudaContext.retainPrimary(0);
    tests = CudaModule.load(CudaEmulator.image("test"), "the emulator's test kernels");
  }

  @AfterAll
  void close() {
    if (tests != null) {
      tests.close();
    }
    if (context != null) {
      context.close();
    }
  }

  private static void setOrder(int order) {
    assertEquals(CUresult.CUDA_SUCCESS, JCudaDriver.cuCtxSetLimit(ORDER_LIMIT, order));
  }

  private static int[] ints(DeviceBuffer b, int n) {
    int[] out = new int[n];
    assertEquals(
        CUresult.CUDA_SUCCESS, JCudaDriver.cuMemcpyDtoH(Pointer.to(out), b.pointer(), 4L * n));
    return out;
  }

  private static DevicePointer intsOf(DeviceBuffer b) {
    return new DevicePointer(b.address(), DevicePointer.Element.INT);
  }

  /** Runs the racy and the atomic kernel in one order; returns {racy[0], racy[1], atomic}. */
  private int[] raceResults(int order) {
    setOrder(order);
    try (DeviceBuffer racy = DeviceBuffer.allocate(8);
        DeviceBuffer atomic = DeviceBuffer.allocate(4)) {
      racy.fill32(0);
      atomic.fill32(0);
      tests.launch(RACY, 3, 64, 0, intsOf(racy));
      tests.launch(ATOMIC, 3, 64, 0, intsOf(atomic));
      int[] r = ints(racy, 2);
      return new int[] {r[0], r[1], ints(atomic, 1)[0]};
    } finally {
      setOrder(
          CudaEmulator.order().equals("reverse")
              ? 1
              : CudaEmulator.order().equals("shuffle") ? 2 : 0);
    }
  }

  @Test
  void aRacyKernelGivesDifferentResultsInTheTwoOrders() {
    int[] forward = raceResults(0);
    int[] reverse = raceResults(1);
    int[] shuffled = raceResults(2);
    System.out.printf(
        "racy fold / last block / atomic sum: forward %d %d %d, reverse %d %d %d, shuffle %d %d %d%n",
        forward[0],
        forward[1],
        forward[2],
        reverse[0],
        reverse[1],
        reverse[2],
        shuffled[0],
        shuffled[1],
        shuffled[2]);
    assertNotEquals(
        forward[0], reverse[0], "the threads' unsynchronised fold must depend on their order");
    assertEquals(2, forward[1], "forward: block 2 writes last");
    assertEquals(0, reverse[1], "reverse: block 0 writes last");
    assertEquals(3 * 64 * 65 / 2, forward[2], "the atomic sum");
    assertEquals(forward[2], reverse[2], "the atomic version is order-independent");
    assertEquals(forward[2], shuffled[2], "the atomic version is order-independent");
  }

  @Test
  void anOutOfBoundsWriteIsReportedWithTheKernelAndTheAllocation() {
    // 1024 floats end at a guard page: the first write past the end faults
    try (DeviceBuffer x = DeviceBuffer.allocateFloats(1024)) {
      CudaException e =
          assertThrows(
              CudaException.class,
              () -> tests.launch(WRITE_PAST, 5, 256, 0, 1024, 1, DevicePointer.floats(x)));
      assertEquals(CUresult.CUDA_ERROR_ILLEGAL_ADDRESS, e.status());
      assertTrue(e.getMessage().contains("emu_test_write_past_kernel"), e.getMessage());
      assertTrue(e.getMessage().contains("0 bytes past the end of allocation"), e.getMessage());
      assertTrue(e.getMessage().contains("wrote"), e.getMessage());
    }
    // 1000 floats: the write lands in the allocation's alignment slack, whose canary catches it
    try (DeviceBuffer x = DeviceBuffer.allocateFloats(1000)) {
      CudaException e =
          assertThrows(
              CudaException.class,
              () -> tests.launch(WRITE_PAST, 4, 256, 0, 1000, 1, DevicePointer.floats(x)));
      assertEquals(CUresult.CUDA_ERROR_ILLEGAL_ADDRESS, e.status());
      assertTrue(
          e.getMessage().contains("emu_test_write_past_kernel")
              && e.getMessage().contains("0 bytes past its end"),
          e.getMessage());
      // in bounds, the same kernel is fine
      tests.launch(WRITE_PAST, 4, 256, 0, 1000, 0, DevicePointer.floats(x));
    }
  }

  @Test
  void aBlockOf2048ThreadsIsRefused() {
    CudaException e = assertThrows(CudaException.class, () -> tests.launch(EMPTY, 1, 2048, 0, 0));
    assertEquals(CUresult.CUDA_ERROR_INVALID_VALUE, e.status());
    assertTrue(
        e.getMessage().contains("emu_test_empty_kernel") && e.getMessage().contains("2048 threads"),
        e.getMessage());
    CudaException grid =
        assertThrows(
            CudaException.class,
            () -> tests.launch(EMPTY, new int[] {1, 65536, 1}, new int[] {32, 1, 1}, 0, 0));
    assertTrue(grid.getMessage().contains("grid exceeds"), grid.getMessage());
  }

  @Test
  void dynamicSharedMemoryAbove48KiBNeedsTheOptIn() {
    int bytes = 64 * 1024;
    try (DeviceBuffer out = DeviceBuffer.allocateFloats(2 * 128)) {
      CudaException e =
          assertThrows(
              CudaException.class,
              () ->
                  tests.launch(
                      DYNAMIC_SHARED, 2, 128, bytes, bytes / 4, DevicePointer.floats(out)));
      assertEquals(CUresult.CUDA_ERROR_INVALID_VALUE, e.status());
      assertTrue(
          e.getMessage().contains("emu_test_dynamic_shared_kernel")
              && e.getMessage().contains("opt in"),
          e.getMessage());
      assertEquals(
          CUresult.CUDA_SUCCESS,
          JCudaDriver.cuFuncSetAttribute(
              tests.function(DYNAMIC_SHARED.name()),
              CUfunction_attribute.CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES,
              bytes));
      tests.launch(DYNAMIC_SHARED, 2, 128, bytes, bytes / 4, DevicePointer.floats(out));
      float[] got = new float[256];
      out.copyTo(got);
      for (int i = 0; i < 256; i++) {
        assertEquals(
            (float) ((i % 128 + 1) % 128), got[i], "thread " + i + " reads its neighbour's slot");
      }
      // beyond the device's 227 KiB, no opt-in helps
      assertEquals(
          CUresult.CUDA_ERROR_INVALID_VALUE,
          JCudaDriver.cuFuncSetAttribute(
              tests.function(DYNAMIC_SHARED.name()),
              CUfunction_attribute.CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES,
              228 * 1024));
    }
  }

  @Test
  void aDivergentBarrierIsAnErrorNotAHang() {
    try (DeviceBuffer out = DeviceBuffer.allocate(4 * 64)) {
      CudaException e =
          assertThrows(
              CudaException.class,
              () -> tests.launch(DIVERGENT_BARRIER, 1, 64, 0, 16, intsOf(out)));
      assertEquals(CUresult.CUDA_ERROR_LAUNCH_FAILED, e.status());
      assertTrue(
          e.getMessage().contains("emu_test_divergent_barrier_kernel")
              && e.getMessage().contains("divergent __syncthreads()"),
          e.getMessage());
      tests.launch(
          DIVERGENT_BARRIER, 1, 64, 0, 64, intsOf(out)); // every thread at the barrier: fine
    }
  }

  @Test
  void aCallFromAThreadWithoutACurrentContextFailsNamingTheCall() throws Exception {
    ExecutorService other = Executors.newSingleThreadExecutor();
    try {
      Future<CudaException> f =
          other.submit(() -> assertThrows(CudaException.class, () -> DeviceBuffer.allocate(64)));
      CudaException e = f.get();
      assertEquals(CUresult.CUDA_ERROR_INVALID_CONTEXT, e.status());
      assertTrue(
          e.getMessage().contains("cuMemAlloc") && e.getMessage().contains("no current context"),
          e.getMessage());
      // made current there, the same call works
      other
          .submit(
              () -> {
                context.makeCurrent();
                DeviceBuffer.allocate(64).close();
              })
          .get();
    } finally {
      other.shutdown();
    }
  }

  @Test
  void sharedMemoryNobodyWroteReadsAsPoison() {
    try (DeviceBuffer out = DeviceBuffer.allocateFloats(64)) {
      tests.launch(UNINITIALISED_SHARED, 1, 64, 0, 0, DevicePointer.floats(out));
      float[] got = new float[64];
      out.copyTo(got);
      assertTrue(
          Float.isNaN(got[0]) && Float.isNaN(got[63]), "unwritten shared memory reads as NaN");
      tests.launch(UNINITIALISED_SHARED, 1, 64, 0, 1, DevicePointer.floats(out));
      out.copyTo(got);
      assertEquals(1f, got[0]);
    }
    try (DeviceBuffer fresh = DeviceBuffer.allocateFloats(4)) {
      float[] got = new float[4];
      fresh.copyTo(got);
      assertTrue(Float.isNaN(got[2]), "fresh device memory reads as NaN");
    }
  }

  @Test
  void warpShufflesAndBarriersComputeWhatAGpuComputes() {
    try (DeviceBuffer out = DeviceBuffer.allocateFloats(256);
        DeviceBuffer in = DeviceBuffer.allocateFloats(1000)) {
      tests.launch(WARP_SUM, 1, 96, 0, DevicePointer.floats(out));
      float[] got = new float[96];
      out.copyTo(0, got, 0, 96);
      for (int i = 0; i < 96; i++) {
        assertEquals(496f, got[i], "lane " + i + ": 0 + 1 + ... + 31");
      }
      float[] values = new float[1000];
      double sum = 0;
      for (int i = 0; i < values.length; i++) {
        values[i] = i % 17;
        sum += values[i];
      }
      in.copyFrom(values);
      tests.launch(BLOCK_SUM, 2, 256, 0, 1000, DevicePointer.floats(in), DevicePointer.floats(out));
      out.copyTo(0, got, 0, 2);
      assertArrayEquals(new float[] {(float) sum, (float) sum}, new float[] {got[0], got[1]});
    }
  }

  @Test
  void aWarpCollectiveNamingMissingLanesIsAnError() {
    try (DeviceBuffer out = DeviceBuffer.allocateFloats(48)) {
      CudaException e =
          assertThrows(
              CudaException.class,
              () -> tests.launch(WARP_SUM, 1, 48, 0, DevicePointer.floats(out)));
      assertTrue(
          e.getMessage().contains("emu_test_warp_sum_kernel")
              && e.getMessage().contains("does not exist"),
          e.getMessage());
    }
  }

  @Test
  void aPointerParameterOutsideDeviceMemoryIsRefused() {
    DeviceBuffer freed = DeviceBuffer.allocateFloats(16);
    long address = freed.address();
    freed.close();
    CudaException e =
        assertThrows(
            CudaException.class,
            () ->
                tests.launch(
                    WARP_SUM, 1, 32, 0, new DevicePointer(address, DevicePointer.Element.FLOAT)));
    assertTrue(
        e.getMessage().contains("parameter 0 (float*)")
            && e.getMessage().contains("not in or next to any live"),
        e.getMessage());
  }

  @Test
  void launchesFromAnUnloadedModuleFail() {
    CudaModule module = CudaModule.load(CudaEmulator.image("test"), "a second copy");
    jcuda.driver.CUfunction f = module.function(EMPTY.name());
    module.close();
    int status =
        JCudaDriver.cuLaunchKernel(
            f, 1, 1, 1, 1, 1, 1, 0, null, Pointer.to(Pointer.to(new int[] {0})), null);
    assertEquals(CUresult.CUDA_ERROR_INVALID_HANDLE, status);
    String[] text = new String[1];
    JCudaDriver.cuGetErrorString(status, text);
    assertTrue(text[0].contains("emu_test_empty_kernel") && text[0].contains("unloaded"), text[0]);
  }

  /**
   * Every CUDA library in this process is one of the emulator's (the fakes are found before any
   * real CUDA runtime on the machine, such as the one that comes with nvcc).
   */
  @Test
  void theOnlyCudaLibrariesLoadedAreTheEmulators() throws Exception {
    try (CublasHandle blas = CublasHandle.create(context)) {
      assertEquals(130201, blas.version());
    }
    System.out.println(ToolchainProbe.cudnn(context));
    java.nio.file.Path dir = CudaEmulator.install();
    java.util.regex.Pattern cudaLibrary =
        java.util.regex.Pattern.compile(
            "/lib(cuda|cudart|cublas|cublasLt|cudnn[a-z_]*)\\.so[.0-9]*$");
    java.util.Set<String> seen = new java.util.TreeSet<>();
    for (String line : java.nio.file.Files.readAllLines(java.nio.file.Path.of("/proc/self/maps"))) {
      int slash = line.indexOf('/');
      if (slash < 0) {
        continue;
      }
      String path = line.substring(slash);
      if (cudaLibrary.matcher(path).find()) {
        seen.add(path);
        assertTrue(
            path.startsWith(dir.toString()),
            "a CUDA library from outside the emulator is loaded: " + path);
      }
    }
    System.out.println("CUDA libraries mapped: " + seen);
    assertTrue(
        !CudaEmulator.sharedCache(org.bytedeco.javacpp.Loader.getCacheDir().toPath()),
        "Bytedeco's native cache is the shared one: " + org.bytedeco.javacpp.Loader.getCacheDir());
    java.nio.file.Path shared =
        java.nio.file.Path.of(System.getProperty("user.home"), ".javacpp", "cache");
    if (java.nio.file.Files.isDirectory(shared)) {
      try (java.util.stream.Stream<java.nio.file.Path> files = java.nio.file.Files.walk(shared)) {
        for (java.nio.file.Path link : files.filter(java.nio.file.Files::isSymbolicLink).toList()) {
          String target = java.nio.file.Files.readSymbolicLink(link).toString();
          assertTrue(
              !target.contains("recjpq-cuda-emulator-"),
              "the shared cache links to a fake: " + link + " -> " + target);
        }
      }
    }
    for (String name :
        new String[] {
          "libcuda.so.1", "libcudart.so.13", "libcublas.so.13", "libcudnn_graph.so.9"
        }) {
      assertTrue(
          seen.contains(dir.resolve(name).toString()),
          name + " is mapped from the emulator: " + seen);
    }
  }

  /**
   * A machine whose cuBLAS is missing (the emulator leaves it out of a child process): the
   * availability probe, which loads cuBLAS, says why CUDA cannot run, and {@code --device cuda}
   * fails with that reason in one line instead of an UnsatisfiedLinkError later.
   */
  @Test
  void aMissingCublasMakesCudaUnavailableWithTheReason() throws Exception {
    for (String dir :
        new String[] {
          "/usr/lib/x86_64-linux-gnu",
          "/usr/lib64",
          "/usr/local/cuda/lib64",
          "/usr/local/cuda-13.0/lib",
          "/usr/local/cuda-13.1/targets/x86_64-linux/lib",
          System.getenv("LD_LIBRARY_PATH")
        }) {
      for (String d : dir == null ? new String[0] : dir.split(":")) {
        assumeTrue(
            !d.isEmpty() && !java.nio.file.Files.exists(java.nio.file.Path.of(d, "libcublas.so.13"))
                || d.isEmpty(),
            "this machine has a real libcublas.so.13 in " + d + ", so it cannot go missing");
      }
    }
    java.nio.file.Path pairs = java.nio.file.Files.createTempFile("recjpq-pairs", ".txt");
    try {
      StringBuilder b = new StringBuilder();
      for (int u = 1; u <= 30; u++) {
        for (int k = 0; k < 6; k++) {
          b.append(u).append(' ').append(1 + (u * 7 + k * 3) % 40).append('\n');
        }
      }
      java.nio.file.Files.writeString(pairs, b.toString());
      String[] info = child("info");
      assertTrue(
          info[1].contains("cuBLAS could not be loaded") && info[1].contains("libcublas.so.13"),
          "exit " + info[0] + ": " + info[1]);
      String[] train =
          child(
              "train",
              "--input",
              pairs.toString(),
              "--format",
              "sasrec-pairs",
              "--device",
              "cuda",
              "--epochs",
              "1",
              "--output",
              pairs + ".ckpt");
      assertEquals("1", train[0], train[1]);
      assertTrue(
          train[1].contains("recjpq train: error: --device cuda: cuBLAS could not be loaded"),
          train[1]);
      assertTrue(!train[1].contains("\tat "), "no stack trace: " + train[1]);
    } finally {
      java.nio.file.Files.deleteIfExists(pairs);
    }
  }

  /** Runs the CLI in a child JVM on the emulator without cuBLAS; returns {exit code, output}. */
  private static String[] child(String... args) throws Exception {
    java.util.List<String> command =
        org.recjpq.ChildJvm.command(
            "org.recjpq.cli.Main",
            java.util.Map.of(
                "recjpq.cuda",
                "emulator",
                "recjpq.cuda.emulator.omit",
                "libcublas.so.13,libcublasLt.so.13",
                "recjpq.cuda.emulator.launchLog",
                "",
                "org.bytedeco.javacpp.cachedir",
                ""),
            args);
    Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
    String out =
        new String(p.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
    assertTrue(
        p.waitFor(120, java.util.concurrent.TimeUnit.SECONDS), "the child did not end: " + out);
    return new String[] {String.valueOf(p.exitValue()), out};
  }

  /**
   * A destroyed context (the primary context's last reference released) refuses launches, copies
   * and being made current again; run in a child JVM, where no other test holds the primary
   * context.
   */
  @Test
  void aDestroyedContextRefusesWork() throws Exception {
    java.util.List<String> command =
        org.recjpq.ChildJvm.command(
            DestroyedContext.class.getName(),
            java.util.Map.of(
                "recjpq.cuda",
                "emulator",
                "recjpq.cuda.emulator.launchLog",
                "",
                "org.bytedeco.javacpp.cachedir",
                ""));
    Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
    String out =
        new String(p.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
    assertTrue(p.waitFor(120, java.util.concurrent.TimeUnit.SECONDS), out);
    assertEquals(0, p.exitValue(), out);
    assertTrue(
        out.contains("launch: 709 CUDA_ERROR_CONTEXT_IS_DESTROYED")
            && out.contains("copy: 709")
            && out.contains("set current: 709"),
        out);
  }

  /** The child of {@link #aDestroyedContextRefusesWork}: prints each call's status. */
  public static final class DestroyedContext {
    public static void main(String[] args) {
      assertTrue(CudaAvailability.check().available(), CudaAvailability.check().description());
      CudaContext context = CudaContext.retainPrimary(0);
      CudaModule module = CudaModule.load(CudaEmulator.image("test"), "test kernels");
      jcuda.driver.CUfunction f = module.function(EMPTY.name());
      DeviceBuffer b = DeviceBuffer.allocate(64);
      jcuda.driver.CUdeviceptr stale = b.pointer();
      context.close(); // the last reference: the primary context is destroyed with its memory and
      // modules
      int launch =
          JCudaDriver.cuLaunchKernel(
              f, 1, 1, 1, 1, 1, 1, 0, null, Pointer.to(Pointer.to(new int[] {0})), null);
      System.out.println("launch: " + launch + " " + CUresult.stringFor(launch));
      System.out.println("copy: " + JCudaDriver.cuMemcpyHtoD(stale, Pointer.to(new int[4]), 16));
      System.out.println("set current: " + JCudaDriver.cuCtxSetCurrent(context.handleUnchecked()));
      System.exit(0);
    }
  }

  @Test
  void theDeviceIsNeverCalledAGpu() {
    CudaAvailability.Report r = CudaAvailability.report();
    assertTrue(r.emulated());
    assertTrue(
        r.availability().description().startsWith(CudaEmulator.LABEL),
        r.availability().description());
    assertTrue(r.devices().get(0).describe().contains("not a GPU"), r.devices().get(0).describe());
    IllegalStateException e =
        assertThrows(IllegalStateException.class, () -> CudaEmulator.refuseToTime("bench"));
    assertTrue(e.getMessage().contains("does not time the " + CudaEmulator.LABEL), e.getMessage());
  }
}
