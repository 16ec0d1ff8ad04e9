package org.recjpq.cli;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.function.IntUnaryOperator;

/** Small deterministic 'user item' logs for the command tests. */
final class PairsLog {
  private PairsLog() {}

  /**
   * Writes {@code file}: users 1..{@code users}, user u with {@code length(u)} items, the k-th of
   * them {@code 1 + (u·a + k·3) mod items}.
   */
  static Path write(Path file, int users, IntUnaryOperator length, int items, int a)
      throws IOException {
    StringBuilder b = new StringBuilder();
    for (int u = 1; u <= users; u++) {
      for (int k = 0; k < length.applyAsInt(u); k++) {
        b.append(u).append(' ').append(1 + (u * a + k * 3) % items).append('\n');
      }
    }
    return Files.writeString(file, b.toString());
  }
}
