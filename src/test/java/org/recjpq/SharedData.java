package org.recjpq;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The real datasets of {@code ../shared/data} (never copied into the repository). A test that needs
 * one calls {@link #require}, which skips the test with the reason when the file is absent. The
 * folder can be moved with the environment variable {@code RECJPQ_SHARED_DATA}.
 */
public final class SharedData {
  private SharedData() {}

  /** The data folder: {@code $RECJPQ_SHARED_DATA} or {@code ../shared/data}. */
  public static Path root() {
    String env = System.getenv("RECJPQ_SHARED_DATA");
    return env != null && !env.isBlank() ? Path.of(env) : Path.of("..", "shared", "data");
  }

  /** The file at {@code relative} under {@link #root()}, or a skipped test when it is absent. */
  public static Path require(String relative) {
    Path p = root().resolve(relative);
    assumeTrue(Files.isRegularFile(p), "shared data file " + p.toAbsolutePath() + " is absent");
    return p;
  }
}
