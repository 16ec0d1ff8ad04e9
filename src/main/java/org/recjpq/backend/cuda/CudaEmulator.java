package org.recjpq.backend.cuda;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The CUDA emulator ({@code cuda-emulator/}): a fake CUDA driver, cuBLAS, runtime and cuDNN that
 * run this project's unchanged kernels and cuBLAS calls on the CPU, so that the whole CUDA engine
 * and its tests execute on machines without a GPU. It proves API use, kernel logic and indexing,
 * launch limits, shared-memory budgets, barrier misuse, order-dependent races and the context
 * rules; it proves nothing about speed, and it is never a GPU: it names itself {@value #LABEL}
 * wherever an engine or device is reported, and the benchmark commands refuse to time it.
 *
 * <p>It is used only when selected explicitly: system property {@code recjpq.cuda=emulator} (or the
 * environment variable {@code RECJPQ_CUDA=emulator}). Then, before JCuda or the Bytedeco CUDA
 * presets load, {@link #install()} copies the emulator's libraries from the classpath (built by
 * {@code native-build/build-emulator.sh}) to a temporary folder and loads them, so that JCuda's
 * driver binding and Bytedeco's cuBLAS/cuDNN bindings link against them (a library already loaded
 * under a name satisfies every later library that needs that name, before any search of the disk,
 * so a CUDA toolkit's real libraries on the machine are never used).
 *
 * <p>Settings, as system properties: {@code recjpq.cuda.emulator.order} = {@code forward}
 * (default), {@code reverse} or {@code shuffle} (the order the threads of a block and the blocks of
 * a grid run in; a kernel whose result depends on it has a race), {@code recjpq.cuda.emulator.seed}
 * (for shuffle), {@code recjpq.cuda.emulator.launchLog} (a file that receives the number of
 * launches of each kernel when the process ends), {@code recjpq.cuda.emulator.quiet=true} (no error
 * details on standard error), {@code recjpq.cuda.emulator.omit} (a comma-separated list of library
 * file names, e.g. {@code libcublas.so.13}, left out: a machine that lacks that CUDA library, for
 * tests of the error paths).
 */
public final class CudaEmulator {
  /** How the emulator is named wherever an engine or device is reported. */
  public static final String LABEL = "CUDA emulator (CPU)";

  /** The classpath folder that holds the emulator's libraries. */
  static final String RESOURCES = "/org/recjpq/backend/cuda/emulator/";

  /** The module image that asks the emulator for a kernel set by name (no fatbin needed). */
  static final String IMAGE_MARKER = "RECJPQ-EMULATOR-KERNELS:";

  /** Load order: the driver first (the other libraries link against it). */
  private static final String[] LOAD_ORDER = {
    "libcuda.so.1",
    "libcudart.so.13",
    "libcublasLt.so.13",
    "libcublas.so.13",
    "libcudnn_graph.so.9",
    "libcudnn_ops.so.9",
    "libcudnn_cnn.so.9",
    "libcudnn_adv.so.9",
    "libcudnn.so.9"
  };

  private static Path folder;
  private static Path installed;
  private static RuntimeException failure;

  private CudaEmulator() {}

  /** Whether the emulator was selected (system property, else environment variable). */
  public static boolean selected() {
    String p = System.getProperty("recjpq.cuda");
    if (p != null && !p.isBlank()) {
      return p.trim().toLowerCase(Locale.ROOT).equals("emulator");
    }
    String e = System.getenv("RECJPQ_CUDA");
    return e != null && e.trim().toLowerCase(Locale.ROOT).equals("emulator");
  }

  /** Whether the emulator's libraries are on the classpath (it was built). */
  public static boolean built() {
    return CudaEmulator.class.getResource(RESOURCES + "MANIFEST") != null;
  }

  /** The thread and block order the emulator runs in: forward, reverse or shuffle. */
  public static String order() {
    return System.getProperty("recjpq.cuda.emulator.order", "forward")
        .trim()
        .toLowerCase(Locale.ROOT);
  }

  /**
   * Prepares a process that selected the emulator, before anything loads Bytedeco's natives: makes
   * the emulator's temporary folder and points Bytedeco's native cache there (system property
   * {@code org.bytedeco.javacpp.cachedir}, unless already set), so that the links its loader makes
   * to the libraries it finds (the fakes among them) stay in this process's own folder and never
   * reach the shared {@code ~/.javacpp/cache}, where another process, even one on a real GPU, could
   * pick up a fake. The command line calls this first thing; {@link #install()} calls it too.
   */
  public static synchronized void prepare() {
    if (!selected() || folder != null) {
      return;
    }
    try {
      folder = Files.createTempDirectory("recjpq-cuda-emulator-");
    } catch (IOException e) {
      throw new UncheckedIOException(
          "The CUDA emulator's temporary folder could not be made: " + e.getMessage(), e);
    }
    deleteOnExit(folder);
    if (System.getProperty("org.bytedeco.javacpp.cachedir") == null
        && System.getProperty("org.bytedeco.javacpp.cacheDir") == null) {
      System.setProperty(
          "org.bytedeco.javacpp.cachedir", folder.resolve("javacpp-cache").toString());
    }
  }

  /**
   * Copies the emulator's libraries to its temporary folder and loads them (once per JVM; later
   * calls return the same folder).
   *
   * @return the folder
   * @throws IllegalStateException with the reason when the emulator was not built or does not load
   */
  public static synchronized Path install() {
    if (installed != null) {
      return installed;
    }
    if (failure != null) {
      throw failure;
    }
    try {
      prepare();
      installed = copyAndLoad(folder);
      return installed;
    } catch (IllegalStateException e) {
      failure = e;
      throw e;
    } catch (IOException | UncheckedIOException | LinkageError | SecurityException e) {
      failure =
          new IllegalStateException("The CUDA emulator could not be loaded: " + e.getMessage(), e);
      throw failure;
    }
  }

  private static Path copyAndLoad(Path dir) throws IOException {
    String order = order();
    if (!List.of("forward", "reverse", "shuffle").contains(order)) {
      throw new IllegalStateException(
          "recjpq.cuda.emulator.order must be forward, reverse or shuffle, not '" + order + "'.");
    }
    List<String> files = new ArrayList<>(manifest());
    for (String omitted : System.getProperty("recjpq.cuda.emulator.omit", "").split(",")) {
      files.remove(omitted.strip());
    }
    for (String name : files) {
      Path target = dir.resolve(name);
      try (InputStream in = CudaEmulator.class.getResourceAsStream(RESOURCES + name)) {
        if (in == null) {
          throw new IllegalStateException(
              "The CUDA emulator's "
                  + name
                  + " is listed in its MANIFEST but missing "
                  + "from the classpath; rebuild with native-build/build-emulator.sh.");
        }
        Files.copy(in, target, StandardCopyOption.REPLACE_EXISTING);
      }
    }
    StringBuilder conf = new StringBuilder("# written by org.recjpq.backend.cuda.CudaEmulator\n");
    conf.append("order=").append(order).append('\n');
    conf.append("seed=").append(Long.getLong("recjpq.cuda.emulator.seed", 1L)).append('\n');
    String log = System.getProperty("recjpq.cuda.emulator.launchLog", "");
    if (!log.isBlank()) {
      Path logPath = Path.of(log).toAbsolutePath();
      Files.createDirectories(logPath.getParent());
      conf.append("launch_log=").append(logPath).append('\n');
    }
    if (Boolean.getBoolean("recjpq.cuda.emulator.quiet")) {
      conf.append("quiet=1\n");
    }
    Files.writeString(dir.resolve("emulator.conf"), conf.toString(), StandardCharsets.UTF_8);
    for (String name : LOAD_ORDER) {
      if (files.contains(name)) {
        System.load(dir.resolve(name).toString());
      }
    }
    // Bytedeco's loader looks for the libraries its bindings link against (libcudart.so.13, ...) on
    // its own paths first, which include a CUDA toolkit's (/usr/local/cuda/lib64): pointed at the
    // fakes, it finds them there and loads no real CUDA library. It links what it finds into its
    // cache, so this is done only while that cache is not the shared one (see prepare()).
    if (!sharedCache(org.bytedeco.javacpp.Loader.getCacheDir().toPath())) {
      System.setProperty("org.bytedeco.javacpp.platform.preloadpath", dir.toString());
      System.setProperty("org.bytedeco.javacpp.platform.linkpath", dir.toString());
    }
    return dir;
  }

  /**
   * Whether {@code cache} is Bytedeco's default native cache, shared by every process of the user.
   */
  static boolean sharedCache(Path cache) {
    Path c = cache.toAbsolutePath().normalize();
    return c.startsWith(
            Path.of(System.getProperty("user.home"), ".javacpp").toAbsolutePath().normalize())
        || c.getFileName() != null && c.toString().contains("/.javacpp-");
  }

  /** Deletes {@code dir} and everything in it when the JVM exits. */
  private static void deleteOnExit(Path dir) {
    Runtime.getRuntime()
        .addShutdownHook(
            new Thread(
                () -> {
                  try (java.util.stream.Stream<Path> s = Files.walk(dir)) {
                    s.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
                  } catch (IOException | UncheckedIOException e) {
                    // a temporary folder left behind is harmless
                  }
                },
                "recjpq-cuda-emulator-cleanup"));
  }

  private static List<String> manifest() throws IOException {
    try (InputStream in = CudaEmulator.class.getResourceAsStream(RESOURCES + "MANIFEST")) {
      if (in == null) {
        throw new IllegalStateException(
            "The CUDA emulator was selected (recjpq.cuda=emulator) but not built: the "
                + "classpath has no "
                + RESOURCES.substring(1)
                + "MANIFEST. Build it with a C++ compiler and CMake "
                + "(mvn package runs native-build/build-emulator.sh).");
      }
      List<String> names = new ArrayList<>();
      for (String line : new String(in.readAllBytes(), StandardCharsets.UTF_8).split("\n")) {
        String name = line.strip();
        if (!name.isEmpty() && !name.startsWith("#")) {
          if (name.contains("/") || name.contains("..")) {
            throw new IllegalStateException(
                "The CUDA emulator's MANIFEST names a path, not a file: " + name);
          }
          names.add(name);
        }
      }
      return names;
    }
  }

  /** The module image of a kernel set the emulator holds ("project": cuda/*.cu; "test"). */
  static byte[] image(String set) {
    return (IMAGE_MARKER + set + "\0").getBytes(StandardCharsets.US_ASCII);
  }

  /**
   * Refuses to time the emulator: benchmark commands call this before measuring a CUDA engine.
   *
   * @throws IllegalStateException when the emulator is selected
   */
  public static void refuseToTime(String what) {
    if (selected()) {
      throw new IllegalStateException(
          what
              + " does not time the "
              + LABEL
              + ": it runs the kernels one thread "
              + "at a time on the CPU to check their logic, so its speed says nothing about a GPU. Run it without "
              + "-Drecjpq.cuda=emulator (RECJPQ_CUDA) on a machine with a GPU.");
    }
  }
}
