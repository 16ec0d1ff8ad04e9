package org.recjpq.data;

import java.io.BufferedReader;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import org.recjpq.RecjpqException;
import org.recjpq.util.Excerpt;
import org.recjpq.util.Progress;

/**
 * A text file read line by line with its line number, progress reported in bytes, and errors that
 * name the file and line ({@code path:line: what was expected, what was found}).
 */
final class TextInput implements AutoCloseable {
  private final Path path;
  private final BufferedReader reader;
  private final CountingStream counter;
  private final Progress progress;
  private long lineNumber;
  private long reported;

  TextInput(Path path, Progress progress) {
    this.path = path;
    this.progress = progress;
    checkReadable(path);
    try {
      counter = new CountingStream(Files.newInputStream(path));
    } catch (IOException e) {
      throw cannotRead(path, e);
    }
    reader = new BufferedReader(new Utf8Reader(counter), 1 << 16); // strict: bad bytes are an error
  }

  /** Fails with a clear message unless {@code path} is a readable, non-empty regular file. */
  static void checkReadable(Path path) {
    if (!Files.exists(path)) {
      throw new RecjpqException("Cannot read " + path + ": no such file.");
    }
    if (Files.isDirectory(path)) {
      throw new RecjpqException("Cannot read " + path + ": it is a directory, not a file.");
    }
    if (!Files.isReadable(path)) {
      throw new RecjpqException("Cannot read " + path + ": permission denied.");
    }
    try {
      if (Files.size(path) == 0) {
        throw new RecjpqException(path + " is empty: expected interactions.");
      }
    } catch (IOException e) {
      throw cannotRead(path, e);
    }
  }

  static RecjpqException cannotRead(Path path, IOException e) {
    RecjpqException bad = malformed(path, e);
    if (bad != null) {
      return bad;
    }
    if (e instanceof NoSuchFileException) {
      return new RecjpqException("Cannot read " + path + ": no such file.");
    }
    if (e instanceof AccessDeniedException) {
      return new RecjpqException("Cannot read " + path + ": permission denied.");
    }
    return new RecjpqException("Cannot read " + path + ": " + e.getMessage(), e);
  }

  /** The next line, or null at the end. */
  String next() {
    try {
      String line = reader.readLine();
      if (line != null) {
        lineNumber++;
        if ((lineNumber & 0xffff) == 0) {
          reportProgress();
        }
      } else {
        reportProgress();
      }
      return line;
    } catch (IOException e) {
      throw cannotRead(path, e);
    } catch (UncheckedIOException e) {
      throw cannotRead(path, e.getCause());
    }
  }

  /**
   * The error of a decoding failure ({@link Utf8Reader.Malformed}) found anywhere in {@code e}'s
   * causes, or null.
   */
  static RecjpqException malformed(Path path, Throwable e) {
    for (Throwable t = e; t != null; t = t.getCause() == t ? null : t.getCause()) {
      if (t instanceof Utf8Reader.Malformed m) {
        return new RecjpqException(
            path
                + ":"
                + m.line
                + ": "
                + m.getMessage()
                + "; the file must be UTF-8 text "
                + "(ids that differ only in undecodable bytes would otherwise become one).",
            e);
      }
    }
    return null;
  }

  /** The underlying reader, for parsers that read by themselves (CSV). */
  BufferedReader reader() {
    return reader;
  }

  /** Reports bytes consumed so far (for parsers that read through {@link #reader()}). */
  void reportProgress() {
    long now = counter.count;
    progress.step(now - reported);
    reported = now;
  }

  /** Number of the line last returned by {@link #next()} (1-based). */
  long lineNumber() {
    return lineNumber;
  }

  Path path() {
    return path;
  }

  /** An error at the current line: "path:line: message; found 'line'". */
  RecjpqException error(String expected, String found) {
    return error(lineNumber, expected, found);
  }

  RecjpqException error(long line, String expected, String found) {
    return new RecjpqException(
        path + ":" + line + ": expected " + expected + ", found '" + Excerpt.of(found) + "'.");
  }

  @Override
  public void close() {
    try {
      reader.close();
    } catch (IOException ignored) {
      // the data has been read; a failing close changes nothing
    }
  }

  /** Counts bytes read, for byte-based progress. */
  private static final class CountingStream extends FilterInputStream {
    long count;

    CountingStream(InputStream in) {
      super(in);
    }

    @Override
    public int read() throws IOException {
      int b = super.read();
      if (b >= 0) {
        count++;
      }
      return b;
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
      int n = super.read(b, off, len);
      if (n > 0) {
        count += n;
      }
      return n;
    }
  }
}
