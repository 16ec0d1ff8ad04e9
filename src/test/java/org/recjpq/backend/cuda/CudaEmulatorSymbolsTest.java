package org.recjpq.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;

/**
 * The CUDA emulator's libraries define every CUDA symbol that the native bindings import: JCuda's
 * driver library and Bytedeco's cudart, cuBLAS and cuDNN JNI libraries (read from the jars on the
 * classpath). A symbol the fakes lack would not raise an error but kill the JVM when first called,
 * so the emulator defines each one, most as stubs that report themselves ({@code
 * cuda-emulator/stubs/*.txt}); this test fails when a new JCuda or Bytedeco version imports more.
 * It reads the ELF files' dynamic symbol tables and needs no GPU.
 */
class CudaEmulatorSymbolsTest {
  private static final String[] FAKES = {
    "libcuda.so.1",
    "libcudart.so.13",
    "libcublas.so.13",
    "libcublasLt.so.13",
    "libcudnn.so.9",
    "libcudnn_graph.so.9",
    "libcudnn_ops.so.9",
    "libcudnn_cnn.so.9",
    "libcudnn_adv.so.9"
  };

  private static final String[] BINDINGS = {
    "/lib/libJCudaDriver-12.6.0-linux-x86_64.so",
    "/org/bytedeco/cuda/linux-x86_64/libjnicudart.so",
    "/org/bytedeco/cuda/linux-x86_64/libjnicublas.so",
    "/org/bytedeco/cuda/linux-x86_64/libjnicudnn.so"
  };

  /**
   * The names of an ELF64 file's dynamic symbols: the undefined ones, or the exported (defined)
   * ones.
   */
  static Set<String> dynamicSymbols(byte[] elf, boolean undefined) {
    ByteBuffer b = ByteBuffer.wrap(elf).order(ByteOrder.LITTLE_ENDIAN);
    assertTrue(elf.length > 64 && b.getInt(0) == 0x464c457f && elf[4] == 2, "not an ELF64 file");
    long shoff = b.getLong(0x28);
    int shentsize = b.getShort(0x3a) & 0xffff;
    int shnum = b.getShort(0x3c) & 0xffff;
    Set<String> names = new TreeSet<>();
    for (int i = 0; i < shnum; i++) {
      int sh = (int) (shoff + (long) i * shentsize);
      if (b.getInt(sh + 4) != 11) { // SHT_DYNSYM
        continue;
      }
      long offset = b.getLong(sh + 0x18);
      long size = b.getLong(sh + 0x20);
      int link = b.getInt(sh + 0x28);
      long entsize = b.getLong(sh + 0x38);
      int strOffset = (int) b.getLong((int) (shoff + (long) link * shentsize) + 0x18);
      for (long e = offset + entsize;
          e < offset + size;
          e += entsize) { // entry 0 is the null symbol
        int name = b.getInt((int) e);
        int info = elf[(int) e + 4] & 0xff;
        int other = elf[(int) e + 5] & 0x3;
        int section = b.getShort((int) e + 6) & 0xffff;
        int bind = info >> 4;
        int type = info & 0xf;
        boolean isUndefined = section == 0;
        boolean exported =
            !isUndefined && (bind == 1 || bind == 2) && other == 0 && (type == 2 || type == 1);
        if (undefined ? isUndefined : exported) {
          int end = strOffset + name;
          while (elf[end] != 0) {
            end++;
          }
          names.add(
              new String(elf, strOffset + name, end - strOffset - name, StandardCharsets.US_ASCII));
        }
      }
    }
    return names;
  }

  private static byte[] resource(String path) throws IOException {
    try (InputStream in = CudaEmulatorSymbolsTest.class.getResourceAsStream(path)) {
      assertTrue(in != null, path + " is not on the classpath");
      return in.readAllBytes();
    }
  }

  @Test
  void theFakesDefineEveryCudaSymbolTheBindingsImport() throws IOException {
    assumeTrue(CudaEmulator.built(), "the CUDA emulator was not built (no C++ compiler or CMake)");
    Set<String> defined = new TreeSet<>();
    for (String fake : FAKES) {
      defined.addAll(dynamicSymbols(resource(CudaEmulator.RESOURCES + fake), false));
    }
    Set<String> missing = new TreeSet<>();
    int imported = 0;
    for (String binding : BINDINGS) {
      for (String name : dynamicSymbols(resource(binding), true)) {
        if (name.matches("(cu|cuda|cublas|cublasLt|cudnn)[A-Z].*")) {
          imported++;
          if (!defined.contains(name)) {
            missing.add(name + " (" + binding.substring(binding.lastIndexOf('/') + 1) + ")");
          }
        }
      }
    }
    System.out.println(
        imported
            + " CUDA symbols imported by the bindings, "
            + defined.size()
            + " defined by the emulator's libraries");
    assertTrue(
        imported > 1000, "expected the bindings to import many CUDA symbols, found " + imported);
    assertEquals(Set.of(), missing, "symbols to add to cuda-emulator/stubs/*.txt");
  }

  @Test
  void theElfReaderSeesKnownSymbols() throws IOException {
    assumeTrue(CudaEmulator.built(), "the CUDA emulator was not built (no C++ compiler or CMake)");
    Set<String> driver = dynamicSymbols(resource(CudaEmulator.RESOURCES + "libcuda.so.1"), false);
    assertTrue(
        driver.contains("cuLaunchKernel") && driver.contains("cuMemAlloc_v2"),
        "libcuda.so.1 exports");
    assertTrue(
        dynamicSymbols(resource(BINDINGS[0]), true).contains("cuLaunchKernel"), "JCuda imports");
  }
}
