package org.recjpq.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * Every {@code __global__} kernel of {@code cuda/*.cu} was launched by the GPU suite on the CUDA
 * emulator under both thread and block orders. The emulator counts each kernel's successful
 * launches and writes them when its process ends; Maven's {@code gpu-emulator-forward} and {@code
 * gpu-emulator-reverse} executions write {@code target/cuda-emulator/launches-forward.tsv} and
 * {@code launches-reverse.tsv}, and this test (tag {@code coverage}, its own execution after both)
 * reads them.
 */
@Tag("coverage")
class CudaKernelCoverageTest {
  private static final Path LOGS = Path.of("target", "cuda-emulator");

  private static Map<String, Long> launches(String order) throws IOException {
    Path file = LOGS.resolve("launches-" + order + ".tsv");
    assertTrue(
        Files.isRegularFile(file),
        file
            + " is missing: the gpu-emulator-"
            + order
            + " execution did not run "
            + "or did not end normally");
    List<String> lines = Files.readAllLines(file);
    assertTrue(
        !lines.isEmpty() && lines.get(0).contains("order=" + order),
        file
            + " was not written in "
            + order
            + " order: "
            + (lines.isEmpty() ? "(empty)" : lines.get(0)));
    Map<String, Long> counts = new HashMap<>();
    for (String line : lines) {
      if (line.startsWith("#") || line.isBlank()) {
        continue;
      }
      String[] f = line.split("\t");
      if (f[0].startsWith("project/")) {
        counts.put(f[0].substring("project/".length()), Long.parseLong(f[1]));
      }
    }
    return counts;
  }

  @Test
  void everyKernelWasLaunchedUnderBothOrders() throws IOException {
    assumeTrue(
        CudaEmulator.built(),
        "the CUDA emulator was not built (no C++ compiler or CMake), so the GPU suite "
            + "did not run");
    Map<String, Long> forward = launches("forward");
    Map<String, Long> reverse = launches("reverse");
    List<String> missing = new ArrayList<>();
    StringBuilder table =
        new StringBuilder(
            String.format(Locale.ROOT, "%-42s %9s %9s%n", "kernel", "forward", "reverse"));
    for (String kernel : KernelSignatureTest.declaredKernels().keySet()) {
      long f = forward.getOrDefault(kernel, 0L);
      long r = reverse.getOrDefault(kernel, 0L);
      table.append(String.format(Locale.ROOT, "%-42s %9d %9d%n", kernel, f, r));
      if (f == 0 || r == 0) {
        missing.add(
            kernel
                + (f == 0 ? " (never in forward order)" : "")
                + (r == 0 ? " (never in reverse order)" : ""));
      }
    }
    System.out.print(table);
    if (!missing.isEmpty()) {
      fail(
          missing.size()
              + " kernels of cuda/*.cu were not launched by the GPU suite: "
              + String.join(", ", missing));
    }
  }
}
