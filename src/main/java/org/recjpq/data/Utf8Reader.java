package org.recjpq.data;

import java.io.IOException;
import java.io.InputStream;
import java.io.Reader;

/**
 * Strict UTF-8 decoding with the position of every error: a malformed or truncated sequence, an
 * overlong form, a surrogate or a code point past U+10FFFF is a {@link Malformed} exception naming
 * the line (1-based) and the byte offset in the file, never a replacement character (two distinct
 * ids must never become one). A byte-order mark at the start of the file is skipped.
 */
public final class Utf8Reader extends Reader {
  /** A decoding error: where it is and what the bytes were. */
  public static final class Malformed extends IOException {
    private static final long serialVersionUID = 1L;

    final long line;
    final long byteOffset;

    Malformed(long line, long byteOffset, String what) {
      super("invalid UTF-8 at byte offset " + byteOffset + " (" + what + ")");
      this.line = line;
      this.byteOffset = byteOffset;
    }

    /** The line (1-based) the bad bytes are on. */
    public long line() {
      return line;
    }

    /** The offset of the bad bytes in the file. */
    public long byteOffset() {
      return byteOffset;
    }
  }

  private final InputStream in;
  private final byte[] buf = new byte[1 << 16];
  private int pos;
  private int limit;
  private long consumed; // bytes before buf[0]
  private long line = 1;
  private boolean started;
  private int pendingLow = -1; // the low surrogate of a supplementary code point not yet returned

  /** Decodes {@code in}, which is read from its start (a byte-order mark there is skipped). */
  public Utf8Reader(InputStream in) {
    this.in = in;
  }

  private boolean fill() throws IOException {
    if (pos < limit) {
      return true;
    }
    consumed += limit;
    pos = 0;
    limit = 0;
    int n;
    while ((n = in.read(buf, 0, buf.length)) == 0) {
      // keep reading
    }
    if (n < 0) {
      return false;
    }
    limit = n;
    return true;
  }

  /** The next byte, or -1 at the end. */
  private int nextByte() throws IOException {
    if (!fill()) {
      return -1;
    }
    return buf[pos++] & 0xff;
  }

  private long offset() {
    return consumed + pos;
  }

  private Malformed error(long at, String what) {
    return new Malformed(line, at, what);
  }

  @Override
  public int read(char[] cbuf, int off, int len) throws IOException {
    if (len == 0) {
      return 0;
    }
    if (!started) {
      started = true;
      skipByteOrderMark();
    }
    int n = 0;
    if (pendingLow >= 0) {
      cbuf[off + n++] = (char) pendingLow;
      pendingLow = -1;
    }
    while (n < len) {
      if (pos >= limit && !fill()) {
        break;
      }
      int b = buf[pos] & 0xff;
      if (b < 0x80) { // ASCII: the fast path
        pos++;
        cbuf[off + n++] = (char) b;
        if (b == '\n') {
          line++;
        }
        continue;
      }
      long at = offset();
      pos++;
      int cp;
      int need;
      int min;
      if (b >= 0xc2 && b <= 0xdf) {
        cp = b & 0x1f;
        need = 1;
        min = 0x80;
      } else if (b >= 0xe0 && b <= 0xef) {
        cp = b & 0x0f;
        need = 2;
        min = 0x800;
      } else if (b >= 0xf0 && b <= 0xf4) {
        cp = b & 0x07;
        need = 3;
        min = 0x10000;
      } else {
        throw error(at, String.format("byte 0x%02x cannot start a character", b));
      }
      for (int i = 0; i < need; i++) {
        int c = nextByte();
        if (c < 0) {
          throw error(at, "the file ends inside a character");
        }
        if ((c & 0xc0) != 0x80) {
          throw error(
              at, String.format("byte 0x%02x after 0x%02x is not a continuation byte", c, b));
        }
        cp = (cp << 6) | (c & 0x3f);
      }
      if (cp < min) {
        throw error(at, String.format("an overlong encoding of U+%04X", cp));
      }
      if (cp >= 0xd800 && cp <= 0xdfff) {
        throw error(at, String.format("the surrogate U+%04X", cp));
      }
      if (cp > 0x10ffff) {
        throw error(at, String.format("U+%X is past U+10FFFF", cp));
      }
      if (cp < 0x10000) {
        cbuf[off + n++] = (char) cp;
      } else {
        cbuf[off + n++] = Character.highSurrogate(cp);
        char low = Character.lowSurrogate(cp);
        if (n < len) {
          cbuf[off + n++] = low;
        } else {
          pendingLow = low;
        }
      }
    }
    return n == 0 ? -1 : n;
  }

  private void skipByteOrderMark() throws IOException {
    if (!fill()) {
      return;
    }
    // the mark can straddle the first read only for files shorter than 3 bytes; those are not UTF-8
    // marks
    if (limit - pos >= 3
        && (buf[pos] & 0xff) == 0xef
        && (buf[pos + 1] & 0xff) == 0xbb
        && (buf[pos + 2] & 0xff) == 0xbf) {
      pos += 3;
    }
  }

  @Override
  public void close() throws IOException {
    in.close();
  }
}
