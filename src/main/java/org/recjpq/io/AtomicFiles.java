package org.recjpq.io;

import java.io.BufferedWriter;
import java.io.IOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.DirectoryStream;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.concurrent.ThreadLocalRandom;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.recjpq.RecjpqException;

/**
 * Writes files atomically: into a temporary file beside the target, renamed over it only when
 * everything was written, so readers never see half a file and a failure leaves nothing behind.
 *
 * <p>A temporary file is named {@code .<target>.<pid>-<random>.tmp} and created with the
 * directory's default permissions (not the owner-only ones of {@code Files.createTempFile}, which
 * the rename would carry over to the output). Before each write, the temporary files that a killed
 * run left beside the same target (their process is gone) are removed, and that is reported.
 */
public final class AtomicFiles {
  private AtomicFiles() {}

  private static final Pattern TEMP = Pattern.compile("\\.(.+)\\.(\\d+)-[0-9a-f]+\\.tmp");

  /**
   * A new, empty temporary file beside {@code target} (whose directory is created), after removing
   * the temporaries a killed process left for the same target.
   */
  public static Path newTemp(Path target) throws IOException {
    Path absolute = target.toAbsolutePath().normalize();
    Path dir = absolute.getParent();
    Files.createDirectories(dir);
    removeStale(absolute);
    String prefix = "." + absolute.getFileName() + "." + ProcessHandle.current().pid() + "-";
    for (int attempt = 0; ; attempt++) {
      Path temp =
          dir.resolve(
              prefix + Long.toHexString(ThreadLocalRandom.current().nextLong() >>> 1) + ".tmp");
      try {
        return Files.createFile(temp);
      } catch (FileAlreadyExistsException e) {
        if (attempt == 100) {
          throw e;
        }
      }
    }
  }

  /**
   * Removes the temporary files beside {@code target} whose writing process no longer runs; returns
   * how many.
   */
  public static int removeStale(Path target) {
    Path absolute = target.toAbsolutePath().normalize();
    Path dir = absolute.getParent();
    String name = absolute.getFileName().toString();
    int removed = 0;
    if (dir == null || !Files.isDirectory(dir)) {
      return 0;
    }
    try (DirectoryStream<Path> files = Files.newDirectoryStream(dir, "." + glob(name) + ".*.tmp")) {
      for (Path f : files) {
        Matcher m = TEMP.matcher(f.getFileName().toString());
        if (!m.matches() || !m.group(1).equals(name)) {
          continue;
        }
        long pid = Long.parseLong(m.group(2));
        if (pid == ProcessHandle.current().pid()
            || ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false)) {
          continue; // a write in progress, here or in another live process
        }
        try {
          Files.deleteIfExists(f);
          removed++;
        } catch (IOException e) {
          // left for the next write
        }
      }
    } catch (IOException | RuntimeException e) {
      return removed; // cleaning up is best effort; the write itself goes on
    }
    if (removed > 0) {
      System.err.println(
          "recjpq: removed "
              + removed
              + " temporary file"
              + (removed == 1 ? "" : "s")
              + " that an interrupted run left beside "
              + absolute
              + ".");
    }
    return removed;
  }

  private static String glob(String name) {
    return name.replaceAll("([*?\\[\\]{}\\\\])", "\\\\$1");
  }

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
      temp = newTemp(target);
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
