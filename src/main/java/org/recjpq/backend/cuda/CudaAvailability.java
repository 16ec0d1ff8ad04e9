package org.recjpq.backend.cuda;

import static jcuda.driver.JCudaDriver.cuDeviceGet;
import static jcuda.driver.JCudaDriver.cuDeviceGetAttribute;
import static jcuda.driver.JCudaDriver.cuDeviceGetCount;
import static jcuda.driver.JCudaDriver.cuDeviceGetName;
import static jcuda.driver.JCudaDriver.cuDeviceTotalMem;
import static jcuda.driver.JCudaDriver.cuDriverGetVersion;
import static jcuda.driver.JCudaDriver.cuInit;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import jcuda.driver.CUdevice;
import jcuda.driver.CUdevice_attribute;
import jcuda.driver.CUresult;
import org.recjpq.backend.Availability;

/**
 * Whether the CUDA engine can run here: JCuda's driver library, the NVIDIA driver, a GPU, and the
 * kernels' fatbin. {@link #check()} never throws and never hangs; the CLI's {@code info} command
 * prints its description.
 *
 * <p>When available, the description lists the driver version and each device (name, compute
 * capability, memory, multiprocessors) and the fatbin's size. When not, it gives the exact reason:
 * JCuda's native library failed to load (with the loader's message), {@code libcuda.so.1} not found
 * (no NVIDIA driver), {@code cuInit} failed (e.g. {@code CUDA_ERROR_NO_DEVICE}), zero devices, or
 * the kernels were not built because nvcc was missing at build time.
 *
 * <p>The probe runs once per JVM, on a daemon thread, and is abandoned after {@value
 * #DEFAULT_TIMEOUT_SECONDS} seconds (system property {@code recjpq.cuda.probeTimeoutSeconds}).
 */
public final class CudaAvailability {
  /** The classpath resource that holds every kernel (see CMakeLists.txt). */
  public static final String FATBIN_RESOURCE = "/org/recjpq/backend/cuda/recjpq.fatbin";

  static final int DEFAULT_TIMEOUT_SECONDS = 60;

  private CudaAvailability() {}

  /** One CUDA device as the driver describes it. */
  public record Device(
      int ordinal,
      String name,
      int ccMajor,
      int ccMinor,
      long totalMemoryBytes,
      int multiprocessors) {
    /** Whether this is the CUDA emulator (on the CPU), not a GPU. */
    public boolean emulated() {
      return name.startsWith(CudaEmulator.LABEL);
    }

    /**
     * "#0 NVIDIA H100 80GB HBM3 (compute capability 9.0, 79.2 GiB, 132 SMs)", or for the emulator
     * "#0 CUDA emulator (CPU), not a GPU (it enforces compute capability 9.0 limits)".
     */
    public String describe() {
      if (emulated()) {
        return String.format(
            Locale.ROOT,
            "#%d %s, not a GPU (it enforces compute capability %d.%d limits)",
            ordinal,
            name,
            ccMajor,
            ccMinor);
      }
      return String.format(
          Locale.ROOT,
          "#%d %s (compute capability %d.%d, %.1f GiB, %d SMs)",
          ordinal,
          name,
          ccMajor,
          ccMinor,
          totalMemoryBytes / (double) (1L << 30),
          multiprocessors);
    }
  }

  /**
   * Everything the probe found.
   *
   * @param availability the summary: available only with a device and the kernels
   * @param driverVersion the driver's CUDA version as an integer (13000 for 13.0), 0 if unknown
   * @param devices the devices found, empty when none
   * @param fatbinBytes the fatbin resource's size, or -1 when it is absent
   */
  public record Report(
      Availability availability, int driverVersion, List<Device> devices, long fatbinBytes) {
    /**
     * Whether at least one device answered (a GPU, or the emulator), whatever the kernels' state.
     */
    public boolean hasDevice() {
      return !devices.isEmpty();
    }

    /**
     * Whether the device is the CUDA emulator (selected with {@code recjpq.cuda=emulator}), not a
     * GPU.
     */
    public boolean emulated() {
      return !devices.isEmpty() && devices.get(0).emulated();
    }
  }

  private static final class Holder {
    static final Report REPORT = probeWithTimeout();
  }

  /** Whether the CUDA engine can run, and what was found or exactly why not. Never throws. */
  public static Availability check() {
    return report().availability();
  }

  /** The full probe result (computed once per JVM). Never throws. */
  public static Report report() {
    return Holder.REPORT;
  }

  /**
   * The kernels' fatbin from the classpath. Under the CUDA emulator without a fatbin (nvcc was
   * missing at build time), the emulator's image of the same kernels, which it compiled itself.
   *
   * @throws IllegalStateException when the kernels were not built or cannot be read
   */
  public static byte[] readFatbin() {
    try (InputStream in = CudaAvailability.class.getResourceAsStream(FATBIN_RESOURCE)) {
      if (in == null && CudaEmulator.selected()) {
        return CudaEmulator.image("project");
      }
      if (in == null) {
        throw new IllegalStateException(kernelsMissingReason());
      }
      return in.readAllBytes();
    } catch (IOException e) {
      throw new IllegalStateException(
          "The CUDA kernels' fatbin " + FATBIN_RESOURCE + " could not be read: " + e.getMessage(),
          e);
    }
  }

  /** The fatbin resource's size in bytes, or -1 when it is absent or unreadable. */
  public static long fatbinSize() {
    try (InputStream in = CudaAvailability.class.getResourceAsStream(FATBIN_RESOURCE)) {
      return in == null ? -1 : in.readAllBytes().length;
    } catch (IOException e) {
      return -1;
    }
  }

  static String kernelsMissingReason() {
    return "The CUDA kernels were not built: nvcc was missing at build time (the classpath has no "
        + FATBIN_RESOURCE.substring(1)
        + "); rebuild with nvcc on the PATH to enable the CUDA "
        + "engine.";
  }

  /** "13.0" for 13000. */
  public static String versionString(int cudaVersion) {
    return (cudaVersion / 1000) + "." + (cudaVersion % 1000) / 10;
  }

  private static Report probeWithTimeout() {
    int timeout = DEFAULT_TIMEOUT_SECONDS;
    try {
      timeout =
          Integer.parseInt(
              System.getProperty(
                      "recjpq.cuda.probeTimeoutSeconds", String.valueOf(DEFAULT_TIMEOUT_SECONDS))
                  .trim());
    } catch (NumberFormatException e) {
      timeout = DEFAULT_TIMEOUT_SECONDS;
    }
    long fatbin = fatbinSize();
    CompletableFuture<Report> future = new CompletableFuture<>();
    Thread thread =
        new Thread(
            () -> {
              try {
                future.complete(probe(fatbin));
              } catch (Throwable t) { // the probe must never take the JVM down with it
                future.completeExceptionally(t);
              }
            },
            "recjpq-cuda-probe");
    thread.setDaemon(true);
    try {
      thread.start();
      return future.get(Math.max(1, timeout), TimeUnit.SECONDS);
    } catch (TimeoutException e) {
      return unavailable(
          "The CUDA driver did not answer within "
              + timeout
              + " seconds (cuInit "
              + "or a device query hung), so the CUDA engine is not used.",
          fatbin);
    } catch (ExecutionException e) {
      return unavailable(
          "Checking for CUDA failed unexpectedly: "
              + describe(e.getCause() == null ? e : e.getCause()),
          fatbin);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return unavailable("Checking for CUDA was interrupted.", fatbin);
    } catch (RuntimeException | Error e) {
      return unavailable("Checking for CUDA failed unexpectedly: " + describe(e), fatbin);
    }
  }

  private static Report probe(long fatbinBytes) {
    // 0. The CUDA emulator, when selected, is loaded before JCuda so that JCuda links against it.
    if (CudaEmulator.selected()) {
      try {
        CudaEmulator.install();
      } catch (RuntimeException e) {
        return unavailable(e.getMessage(), fatbinBytes);
      }
    }
    // 1. JCuda's JNI library (libJCudaDriver), which links libcuda.so.1 (the NVIDIA driver).
    try {
      int result = cuInit(0);
      if (result != CUresult.CUDA_SUCCESS) {
        String text = CudaException.driverErrorText(result);
        String reason =
            result == CUresult.CUDA_ERROR_NO_DEVICE
                ? "No CUDA GPU: cuInit(0) returned " + text + "."
                : "The CUDA driver could not be initialised: cuInit(0) returned " + text + ".";
        return unavailable(reason, fatbinBytes);
      }
    } catch (LinkageError e) {
      return unavailable(libraryLoadReason(e), fatbinBytes);
    }
    // 2. Driver version and devices.
    int[] value = new int[1];
    int driverVersion = cuDriverGetVersion(value) == CUresult.CUDA_SUCCESS ? value[0] : 0;
    int result = cuDeviceGetCount(value);
    if (result != CUresult.CUDA_SUCCESS) {
      return unavailable(
          "The CUDA driver (version "
              + versionString(driverVersion)
              + ") could not count devices: cuDeviceGetCount returned "
              + CudaException.driverErrorText(result)
              + ".",
          fatbinBytes);
    }
    int count = value[0];
    if (count == 0) {
      return unavailable(
          "No CUDA GPU: the CUDA driver (version "
              + versionString(driverVersion)
              + ") reports 0 devices.",
          fatbinBytes);
    }
    List<Device> devices = new ArrayList<>();
    for (int ordinal = 0; ordinal < count; ordinal++) {
      devices.add(describeDevice(ordinal));
    }
    // 3. cuBLAS (Bytedeco's binding and the machine's libcublas), which every model needs: a
    // missing
    // or mismatched library is a LinkageError at the first call, so it is loaded here, where it can
    // still be reported as "not available" instead of failing a run.
    String cublas = cublasProblem();
    if (cublas != null) {
      return new Report(Availability.no(cublas), driverVersion, List.copyOf(devices), fatbinBytes);
    }
    StringBuilder text = new StringBuilder();
    if (devices.get(0).emulated()) {
      text.append(CudaEmulator.LABEL)
          .append(
              ": the kernels of cuda/*.cu and the cuBLAS calls run on this machine's CPU to check their logic "
                  + "(thread and block order: ")
          .append(CudaEmulator.order())
          .append("); not a GPU, and its speed means nothing. JCuda ")
          .append(jcudaVersion())
          .append('.');
      return new Report(
          Availability.yes(text.toString()), driverVersion, List.copyOf(devices), fatbinBytes);
    }
    text.append("CUDA driver ")
        .append(versionString(driverVersion))
        .append(", ")
        .append(count)
        .append(count == 1 ? " device: " : " devices: ");
    for (int i = 0; i < devices.size(); i++) {
      text.append(i == 0 ? "" : "; ").append(devices.get(i).describe());
    }
    text.append(". JCuda ").append(jcudaVersion()).append('.');
    if (fatbinBytes < 0) {
      text.append(' ').append(kernelsMissingReason());
      return new Report(
          Availability.no(text.toString()), driverVersion, List.copyOf(devices), fatbinBytes);
    }
    text.append(" Kernels: ")
        .append(FATBIN_RESOURCE.substring(FATBIN_RESOURCE.lastIndexOf('/') + 1))
        .append(" (")
        .append(fatbinBytes)
        .append(" bytes).");
    return new Report(
        Availability.yes(text.toString()), driverVersion, List.copyOf(devices), fatbinBytes);
  }

  /** Null when Bytedeco's cuBLAS binding and the libraries it links load; otherwise why not. */
  static String cublasProblem() {
    try {
      Class.forName(
          "org.bytedeco.cuda.global.cublas", true, CudaAvailability.class.getClassLoader());
      return null;
    } catch (ClassNotFoundException | LinkageError | RuntimeException e) {
      Throwable cause =
          e instanceof ExceptionInInitializerError && e.getCause() != null ? e.getCause() : e;
      return "cuBLAS could not be loaded ("
          + loaderMessage(cause)
          + "), so the CUDA engine cannot run: install the "
          + "CUDA 13 cuBLAS libraries (libcublas.so.13, libcublasLt.so.13) where the loader finds them.";
    }
  }

  private static Device describeDevice(int ordinal) {
    CUdevice device = new CUdevice();
    CudaException.check(cuDeviceGet(device, ordinal), "cuDeviceGet(" + ordinal + ")");
    byte[] name = new byte[256];
    CudaException.check(
        cuDeviceGetName(name, name.length, device), "cuDeviceGetName(" + ordinal + ")");
    int end = 0;
    while (end < name.length && name[end] != 0) {
      end++;
    }
    long[] memory = new long[1];
    CudaException.check(cuDeviceTotalMem(memory, device), "cuDeviceTotalMem(" + ordinal + ")");
    return new Device(
        ordinal,
        new String(name, 0, end, StandardCharsets.UTF_8).strip(),
        attribute(device, CUdevice_attribute.CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR),
        attribute(device, CUdevice_attribute.CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR),
        memory[0],
        attribute(device, CUdevice_attribute.CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT));
  }

  private static int attribute(CUdevice device, int attribute) {
    int[] value = new int[1];
    CudaException.check(
        cuDeviceGetAttribute(value, attribute, device),
        "cuDeviceGetAttribute(" + CUdevice_attribute.stringFor(attribute) + ")");
    return value[0];
  }

  static String libraryLoadReason(Throwable error) {
    String message = loaderMessage(error);
    if (message.contains("libcuda.so")) {
      return "No NVIDIA driver: libcuda.so.1 was not found, so JCuda's driver library could not "
          + "load ("
          + message
          + ").";
    }
    return "JCuda's native driver library failed to load: " + message;
  }

  /**
   * The useful part of JCuda's loader error. JCuda's message embeds the stack traces of its two
   * attempts (java.library.path, then the library extracted from the jar); the last nested
   * "UnsatisfiedLinkError:" line holds the dynamic linker's own message, such as "libcuda.so.1:
   * cannot open shared object file".
   */
  static String loaderMessage(Throwable error) {
    String message = error.getMessage();
    if (message == null) {
      return describe(error);
    }
    String marker = "java.lang.UnsatisfiedLinkError: ";
    String last = null;
    for (String line : message.split("\\R")) {
      String trimmed = line.strip();
      if (trimmed.startsWith(marker)) {
        last = trimmed.substring(marker.length());
      }
    }
    String first = message.strip().split("\\R", 2)[0].strip();
    return last == null ? first : first + ": " + last;
  }

  static String jcudaVersion() {
    String version = jcuda.driver.JCudaDriver.class.getPackage().getImplementationVersion();
    if (version != null) {
      return version;
    }
    try {
      return jcuda.JCudaVersion.get();
    } catch (RuntimeException | LinkageError e) {
      return "(version unknown)";
    }
  }

  private static Report unavailable(String reason, long fatbinBytes) {
    String kernels =
        fatbinBytes < 0
            ? " " + kernelsMissingReason()
            : " The kernels were built (" + fatbinBytes + " bytes of fatbin).";
    return new Report(Availability.no(reason + kernels), 0, List.of(), fatbinBytes);
  }

  /** The error's class and message, and its causes', ending with a full stop. */
  public static String describe(Throwable error) {
    StringBuilder text = new StringBuilder();
    for (Throwable t = error; t != null; t = t.getCause() == t ? null : t.getCause()) {
      if (text.length() > 0) {
        text.append(" Caused by: ");
      }
      String message = t.getMessage();
      text.append(t.getClass().getSimpleName())
          .append(": ")
          .append(message == null ? "(no message)" : message.strip().replace('\n', ' '));
    }
    if (text.charAt(text.length() - 1) != '.') {
      text.append('.');
    }
    return text.toString();
  }
}
