package org.recjpq.io;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.Map;
import org.recjpq.UsageException;

/**
 * The rule every command follows before it writes: an output is never one of the command's inputs,
 * compared by file identity ({@link Files#isSameFile}: a symbolic link to the input, a hard link
 * and another spelling of its path all count), so that a slip of the keyboard cannot destroy data.
 */
public final class Outputs {
  private Outputs() {}

  /**
   * Throws a {@link UsageException} when {@code output} (given as {@code outputOption}) is the same
   * file as any of {@code inputs} (option name → path; null paths are skipped).
   */
  public static void refuseToOverwriteInputs(
      String outputOption, Path output, Map<String, Path> inputs) {
    if (output == null) {
      return;
    }
    for (Map.Entry<String, Path> e : inputs.entrySet()) {
      Path input = e.getValue();
      if (input != null && same(output, input)) {
        String link = Files.isSymbolicLink(output) ? " (through a symbolic link)" : "";
        throw new UsageException(
            outputOption
                + " "
                + output
                + " is the "
                + e.getKey()
                + " file "
                + input
                + link
                + ": writing it would destroy that input. Choose another "
                + outputOption
                + ".");
      }
    }
  }

  /**
   * Whether the two paths name one file: the same file where both exist, else the same normal path.
   */
  static boolean same(Path a, Path b) {
    if (Files.exists(a) && Files.exists(b)) {
      try {
        return Files.isSameFile(a, b);
      } catch (IOException e) {
        // fall back to comparing paths
      }
    }
    if (Files.exists(a, LinkOption.NOFOLLOW_LINKS) != Files.exists(b, LinkOption.NOFOLLOW_LINKS)) {
      return false;
    }
    return a.toAbsolutePath().normalize().equals(b.toAbsolutePath().normalize());
  }
}
