package org.recjpq.io;

import java.io.BufferedWriter;
import java.io.IOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import org.recjpq.RecjpqException;

/**
 * Writes text files atomically: into a temporary file beside the target, renamed over it only when
 * everything was written, so readers never see half a file and a failure leaves nothing behind.
 */
public final class AtomicFiles {
  private AtomicFiles() {}

  /** Something that writes to a {@link Writer} and may fail with an IOException. */
  @FunctionalInterface
  public interface Body {
    void write(Writer out) throws IOException;
  }

  /** Writes {@code path} through {@code body}, atomically. */
  public static void writeText(Path path, Body body) {
    Path target = path.toAbsolutePath();
    Path temp = null;
    try {
      Files.createDirectories(target.getParent());
      temp = Files.createTempFile(target.getParent(), "." + target.getFileName() + ".", ".tmp");
      try (BufferedWriter out = Files.newBufferedWriter(temp, StandardCharsets.UTF_8)) {
        body.write(out);
      }
      moveAtomically(temp, target);
      temp = null;
    } catch (IOException e) {
      throw new RecjpqException("Cannot write " + path + ": " + e.getMessage(), e);
    } finally {
      deleteQuietly(temp);
    }
  }

  /** Renames {@code from} over {@code to}, atomically where the file system allows. */
  public static void moveAtomically(Path from, Path to) throws IOException {
    try {
      Files.move(from, to, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    } catch (AtomicMoveNotSupportedException e) {
      Files.move(from, to, StandardCopyOption.REPLACE_EXISTING);
    }
  }

  /** Deletes {@code path} if not null, ignoring failures (used on error paths). */
  public static void deleteQuietly(Path path) {
    if (path != null) {
      try {
        Files.deleteIfExists(path);
      } catch (IOException ignored) {
        // best effort: the file has a temporary name
      }
    }
  }
}
