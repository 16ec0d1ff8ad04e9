package org.recjpq.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The Java signatures of the kernels ({@link Kernels}) against the {@code extern "C" __global__}
 * declarations in {@code cuda/*.cu}: the same kernels, and for each the same parameter count, order
 * and C types. Runs on any machine (it reads the sources), so a mismatch fails the build before a
 * launch could corrupt memory on a card.
 */
class KernelSignatureTest {
  private static final Pattern KERNEL =
      Pattern.compile("extern \"C\" __global__ void (\\w+)\\(([^)]*)\\)\\s*\\{", Pattern.DOTALL);
  private static final Pattern PARAMETER = Pattern.compile("(.*?)\\s*\\b(\\w+)$");

  /** Every kernel of cuda/*.cu (name → its parameters' C types), in file and declaration order. */
  static Map<String, List<String>> declaredKernels() throws IOException {
    Map<String, List<String>> kernels = new LinkedHashMap<>();
    List<Path> files;
    try (Stream<Path> s = Files.list(Path.of("cuda"))) {
      files = s.filter(p -> p.toString().endsWith(".cu")).sorted().toList();
    }
    assertTrue(!files.isEmpty(), "no cuda/*.cu found from " + Path.of("").toAbsolutePath());
    for (Path file : files) {
      Matcher m = KERNEL.matcher(Files.readString(file));
      while (m.find()) {
        List<String> types = new ArrayList<>();
        for (String parameter : m.group(2).split(",")) {
          String p = parameter.replace("__restrict__", " ").replaceAll("\\s+", " ").strip();
          Matcher pm = PARAMETER.matcher(p);
          assertTrue(
              pm.matches(), file + ": cannot read the parameter '" + p + "' of " + m.group(1));
          types.add(pm.group(1).replaceAll("\\s*\\*", "*").strip());
        }
        List<String> previous = kernels.put(m.group(1), types);
        assertEquals(null, previous, "two kernels named " + m.group(1));
      }
    }
    return kernels;
  }

  @Test
  void everyKernelOfTheSourcesHasItsExactJavaSignature() throws IOException {
    Map<String, List<String>> declared = declaredKernels();
    Map<String, List<String>> java = new LinkedHashMap<>();
    for (Kernel k : Kernels.ALL) {
      java.put(k.name(), k.parameters().stream().map(Kernel.CType::spelling).toList());
    }
    for (Map.Entry<String, List<String>> e : declared.entrySet()) {
      assertTrue(
          java.containsKey(e.getKey()),
          "cuda/*.cu declares " + e.getKey() + " but Kernels has no signature for" + " it");
      assertEquals(e.getValue(), java.get(e.getKey()), "the parameters of " + e.getKey());
    }
    for (String name : java.keySet()) {
      assertTrue(
          declared.containsKey(name), "Kernels has " + name + ", which no cuda/*.cu declares");
    }
    assertEquals(
        List.copyOf(declared.keySet()),
        List.copyOf(java.keySet()),
        "Kernels.ALL lists them in source order");
    System.out.println(declared.size() + " kernels: every Java signature matches its declaration");
  }

  @Test
  void launchArgumentsAreCheckedAgainstTheSignature() {
    Kernel k = Kernels.SCALE; // (long long n, float alpha, float* x)
    IllegalArgumentException count =
        assertThrows(IllegalArgumentException.class, () -> k.arguments(1L, 2f));
    assertTrue(
        count.getMessage().contains("scale_kernel(long long, float, float*) takes 3 arguments"),
        count.getMessage());
    IllegalArgumentException scalar =
        assertThrows(IllegalArgumentException.class, () -> k.arguments(1, 2f, null));
    assertTrue(
        scalar
            .getMessage()
            .contains("Argument 0 of scale_kernel(long long, float, float*) must be a long long"),
        scalar.getMessage());
    IllegalArgumentException raw =
        assertThrows(IllegalArgumentException.class, () -> k.arguments(1L, 2f, 4096L));
    assertTrue(
        raw.getMessage().contains("Argument 2") && raw.getMessage().contains("float*"),
        raw.getMessage());
    IllegalArgumentException element =
        assertThrows(
            IllegalArgumentException.class,
            () -> k.arguments(1L, 2f, new DevicePointer(4096, DevicePointer.Element.INT)));
    assertTrue(element.getMessage().contains("int device memory"), element.getMessage());
    Object[] packed = k.arguments(1L, 2f, new DevicePointer(4096, DevicePointer.Element.FLOAT));
    assertEquals(4096L, packed[2]);
    assertEquals(0L, k.arguments(1L, 2f, null)[2], "null is the null pointer");
  }
}
