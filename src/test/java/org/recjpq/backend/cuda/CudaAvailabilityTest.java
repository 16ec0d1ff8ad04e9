package org.recjpq.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.recjpq.backend.Availability;
import org.recjpq.backend.cuda.probe.ToolchainProbe;

/** CPU-runnable checks of {@link CudaAvailability}: it reports, never throws, on any machine. */
class CudaAvailabilityTest {

  @Test
  void checkNeverThrowsAndAlwaysExplains() {
    Availability availability = CudaAvailability.check();
    assertFalse(availability.description().isBlank());
    assertTrue(availability.description().endsWith("."), availability.description());
    System.out.println("CudaAvailability.check(): " + availability);
    assertSame(availability, CudaAvailability.check(), "the probe runs once per JVM");
  }

  @Test
  void withoutADeviceTheReasonSaysWhy() {
    CudaAvailability.Report report = CudaAvailability.report();
    if (report.hasDevice()) {
      return; // covered by the gpu-tagged tests
    }
    String reason = report.availability().description();
    assertFalse(report.availability().available());
    assertTrue(
        reason.contains("libcuda.so.1")
            || reason.contains("cuInit")
            || reason.contains("JCuda")
            || reason.contains("0 devices"),
        reason);
  }

  @Test
  void kernelsStateIsReported() {
    String description = CudaAvailability.check().description();
    if (CudaAvailability.fatbinSize() < 0) {
      assertTrue(description.contains("nvcc was missing at build time"), description);
    } else {
      assertTrue(description.contains(CudaAvailability.fatbinSize() + " bytes"), description);
      assertTrue(CudaAvailability.readFatbin().length > 0);
    }
  }

  @Test
  void loaderMessageKeepsTheDynamicLinkerLine() {
    UnsatisfiedLinkError error =
        new UnsatisfiedLinkError(
            "Error while loading native library \"JCudaDriver-12.6.0-linux-x86_64\"\n"
                + "Stack trace from the attempt to load the library as a file:\n"
                + "java.lang.UnsatisfiedLinkError: no JCudaDriver in java.library.path\n"
                + "\tat java.base/java.lang.ClassLoader.loadLibrary(ClassLoader.java:2434)\n"
                + "Stack trace from the attempt to load the library as a resource:\n"
                + "java.lang.UnsatisfiedLinkError: /tmp/libJCudaDriver.so: libcuda.so.1: cannot"
                + " open shared object file: No such file or directory\n"
                + "\tat java.base/jdk.internal.loader.NativeLibraries.load(Native Method)\n");
    String reason = CudaAvailability.libraryLoadReason(error);
    assertEquals(
        "No NVIDIA driver: libcuda.so.1 was not found, so JCuda's driver library could not load"
            + " (Error while loading native library \"JCudaDriver-12.6.0-linux-x86_64\":"
            + " /tmp/libJCudaDriver.so: libcuda.so.1: cannot open shared object file: No such file"
            + " or directory).",
        reason);
    assertTrue(
        CudaAvailability.libraryLoadReason(new UnsatisfiedLinkError("other"))
            .startsWith("JCuda's native driver library failed to load: other"));
  }

  @Test
  void versionStrings() {
    assertEquals("13.0", CudaAvailability.versionString(13000));
    assertEquals("12.6", CudaAvailability.versionString(12060));
    assertEquals("9.19.0", ToolchainProbe.cudnnVersionString(91900));
  }
}
