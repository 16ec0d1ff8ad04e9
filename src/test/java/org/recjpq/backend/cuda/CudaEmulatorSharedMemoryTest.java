package org.recjpq.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * The CUDA emulator's table of each kernel's static shared memory (from its source scan, {@code
 * kernels-project.tsv}; it decides whether a launch fits the 48 KiB a block may use without opting
 * in) against what ptxas reports for sm_90 ({@code target/cuda-build/ptxas-sm_90.txt}, written by
 * {@code native-build/build-kernels.sh} where nvcc is installed): never less, and at most the 15
 * bytes of the table's rounding to 16 more. Needs no GPU.
 */
class CudaEmulatorSharedMemoryTest {
  private static final Path PTXAS = Path.of("target", "cuda-build", "ptxas-sm_90.txt");

  /** kernel → static shared bytes, as ptxas reports them for sm_90 (0 where it reports none). */
  static Map<String, Integer> ptxas(String report) {
    Map<String, Integer> out = new LinkedHashMap<>();
    Pattern entry = Pattern.compile("Compiling entry function '(\\w+)' for 'sm_90'");
    Pattern smem = Pattern.compile("Used \\d+ registers.*?(?:, (\\d+) bytes smem)?$");
    String kernel = null;
    for (String line : report.split("\n")) {
      Matcher e = entry.matcher(line);
      if (e.find()) {
        kernel = e.group(1);
        out.put(kernel, 0);
        continue;
      }
      Matcher s = smem.matcher(line.strip());
      if (kernel != null && s.find()) {
        out.put(kernel, s.group(1) == null ? 0 : Integer.parseInt(s.group(1)));
        kernel = null;
      }
    }
    return out;
  }

  @Test
  void theTablesStaticSharedMemoryCoversWhatPtxasReports() throws IOException {
    assumeTrue(CudaEmulator.built(), "the CUDA emulator was not built (no C++ compiler or CMake)");
    assumeTrue(
        Files.isRegularFile(PTXAS),
        PTXAS + " is absent: nvcc was not there to report what ptxas allocates");
    Map<String, Integer> reference = ptxas(Files.readString(PTXAS));
    Map<String, Integer> table = new LinkedHashMap<>();
    try (InputStream in =
        getClass().getResourceAsStream(CudaEmulator.RESOURCES + "kernels-project.tsv")) {
      for (String line : new String(in.readAllBytes(), StandardCharsets.UTF_8).split("\n")) {
        if (!line.startsWith("#") && !line.isBlank()) {
          String[] f = line.split("\t");
          table.put(f[0], Integer.parseInt(f[1]));
        }
      }
    }
    assertEquals(table.keySet(), reference.keySet(), "the same kernels");
    int withShared = 0;
    for (Map.Entry<String, Integer> e : table.entrySet()) {
      int ptx = reference.get(e.getKey());
      int ours = e.getValue();
      assertTrue(
          ours >= ptx && ours - ptx < 16,
          e.getKey()
              + ": the emulator's table says "
              + ours
              + " bytes of static shared memory, ptxas "
              + ptx);
      withShared += ptx > 0 ? 1 : 0;
    }
    assertTrue(
        withShared >= 4, "ptxas reports static shared memory for " + withShared + " kernels");
    System.out.println(
        table.size()
            + " kernels: the emulator's static shared memory covers ptxas's ("
            + withShared
            + " use some)");
  }
}
