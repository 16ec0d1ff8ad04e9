package org.recjpq.backend;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/** The repository's golden folder is a faithful copy of {@code ../shared/golden}. */
class GoldenCopyTest {
  @Test
  void theRepositoryHoldsTheGoldenCases() throws IOException {
    try (Stream<Path> s = Files.list(Golden.IN_REPOSITORY)) {
      List<Path> cases = s.filter(p -> p.toString().endsWith(".json")).toList();
      assertTrue(cases.size() >= 16, "the golden folder holds " + cases.size() + " cases");
    }
  }

  @Test
  void theCopyHoldsEveryCaseOfTheSharedFolderByteForByte() throws IOException {
    Path copy = Golden.IN_REPOSITORY;
    Path shared = Path.of("..", "shared", "golden");
    assumeTrue(Files.isDirectory(shared), "no " + shared.toAbsolutePath() + " to compare with");
    try (Stream<Path> s = Files.list(shared)) {
      for (Path p : s.filter(f -> f.toString().endsWith(".json")).toList()) {
        Path mine = copy.resolve(p.getFileName());
        assertTrue(Files.isRegularFile(mine), mine + " is missing from the copy");
        assertArrayEquals(Files.readAllBytes(p), Files.readAllBytes(mine), mine + " differs");
      }
    }
  }
}
