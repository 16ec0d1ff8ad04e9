package org.recjpq.cli;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.TreeMap;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * Mutations of valid inputs and the checks every mutated case must pass, for {@link
 * RobustnessFuzzTest}.
 *
 * <p>A {@link Mutation} is the mutated bytes with a short description of what was done ("flip byte
 * 17 bit 3; truncate at 40"), so that a failing case can be reproduced by hand.
 */
final class FuzzSupport {
  private FuzzSupport() {}

  /** Mutated bytes and what was done to them. */
  record Mutation(byte[] bytes, String what) {}

  /** Numbers and tokens a field is replaced with. */
  static final String[] HUGE = {
    "99999999999999999999",
    "9223372036854775807",
    "9223372036854775808",
    "-9223372036854775808",
    "-9223372036854775809",
    "2147483648",
    "4294967297",
    "1e400",
    "1" + "0".repeat(400)
  };

  static final String[] NEGATIVE = {"-1", "-42", "-0", "-2147483648"};
  static final String[] NON_NUMERIC = {
    "abc",
    "NaN",
    "Infinity",
    "1e5",
    "0x10",
    "+",
    "-",
    "1.5",
    "\u0661\u0662",
    "１２",
    "12abc",
    "\"",
    "'",
    "null",
    "true",
    "\u00e9",
    "\ud83d\ude00",
    "a b",
    "\u2028",
    "\u00a0",
    "\\",
    "%s%n"
  };

  /**
   * The value of {@code bytes} as ISO-8859-1 (one char per byte): line and field surgery keeps
   * bytes as they are.
   */
  static String latin1(byte[] bytes) {
    return new String(bytes, StandardCharsets.ISO_8859_1);
  }

  static byte[] latin1(String s) {
    return s.getBytes(StandardCharsets.ISO_8859_1);
  }

  /** A token as the bytes of its UTF-8 encoding, as one ISO-8859-1 char per byte. */
  static String utf8Token(String s) {
    return latin1(s.getBytes(StandardCharsets.UTF_8));
  }

  static String pick(SplittableRandom rnd, String[] options) {
    return options[rnd.nextInt(options.length)];
  }

  // ---------------------------------------------------------------------------------------------
  // Byte-level mutations (any file)

  static Mutation flipBit(SplittableRandom rnd, byte[] in, int from, int to) {
    byte[] b = in.clone();
    int pos = from + rnd.nextInt(Math.max(1, to - from));
    int bit = rnd.nextInt(8);
    b[pos] ^= (byte) (1 << bit);
    return new Mutation(b, "flip byte " + pos + " bit " + bit);
  }

  static Mutation setByte(SplittableRandom rnd, byte[] in, int from, int to) {
    byte[] b = in.clone();
    int pos = from + rnd.nextInt(Math.max(1, to - from));
    int[] interesting = {0x00, 0xff, 0x7f, 0x80, 0x01, 0x0a, 0x22, 0x2c};
    byte v = (byte) interesting[rnd.nextInt(interesting.length)];
    if (b[pos] == v) {
      v ^= 0x01;
    }
    b[pos] = v;
    return new Mutation(b, String.format("set byte %d to 0x%02x", pos, v & 0xff));
  }

  /**
   * Overwrites 4 or 8 bytes with a boundary integer (big- or little-endian): the lengths and counts
   * of binary files.
   */
  static Mutation interestingInteger(SplittableRandom rnd, byte[] in, int from, int to) {
    byte[] b = in.clone();
    boolean wide = rnd.nextBoolean();
    int width = wide ? 8 : 4;
    int pos = from + rnd.nextInt(Math.max(1, to - from));
    pos = Math.max(0, Math.min(pos, b.length - width));
    long[] values =
        wide
            ? new long[] {
              Long.MAX_VALUE,
              Long.MIN_VALUE,
              -1L,
              0L,
              1L,
              Integer.MAX_VALUE,
              0x7fffffffffffff00L,
              in.length
            }
            : new long[] {
              Integer.MAX_VALUE, Integer.MIN_VALUE, -1L, 0L, 1L, 0xffffL, 0x8000L, in.length
            };
    long v = values[rnd.nextInt(values.length)];
    boolean little = rnd.nextBoolean();
    for (int i = 0; i < width && pos + i < b.length; i++) {
      int shift = little ? 8 * i : 8 * (width - 1 - i);
      b[pos + i] = (byte) (v >>> shift);
    }
    if (Arrays.equals(b, in)) {
      b[pos] ^= 0x40;
    }
    return new Mutation(
        b, "write " + width + "-byte " + (little ? "LE " : "BE ") + v + " at " + pos);
  }

  static Mutation insertBytes(SplittableRandom rnd, byte[] in) {
    int pos = rnd.nextInt(in.length + 1);
    int n = 1 + rnd.nextInt(rnd.nextBoolean() ? 1 : 16);
    byte[] ins = new byte[n];
    for (int i = 0; i < n; i++) {
      ins[i] = (byte) rnd.nextInt(256);
    }
    return new Mutation(splice(in, pos, 0, ins), "insert " + n + " random bytes at " + pos);
  }

  static Mutation deleteBytes(SplittableRandom rnd, byte[] in) {
    int pos = rnd.nextInt(in.length);
    int n = Math.min(in.length - pos, 1 + rnd.nextInt(rnd.nextBoolean() ? 1 : 32));
    return new Mutation(splice(in, pos, n, new byte[0]), "delete " + n + " bytes at " + pos);
  }

  static Mutation truncate(SplittableRandom rnd, byte[] in) {
    int at = rnd.nextInt(in.length);
    return new Mutation(Arrays.copyOf(in, at), "truncate at " + at);
  }

  static Mutation appendGarbage(SplittableRandom rnd, byte[] in) {
    int n = 1 + rnd.nextInt(64);
    byte[] g = new byte[n];
    String kind;
    switch (rnd.nextInt(3)) {
      case 0 -> kind = "zero";
      case 1 -> {
        Arrays.fill(g, (byte) 0xff);
        kind = "0xff";
      }
      default -> {
        for (int i = 0; i < n; i++) {
          g[i] = (byte) rnd.nextInt(256);
        }
        kind = "random";
      }
    }
    return new Mutation(splice(in, in.length, 0, g), "append " + n + " " + kind + " bytes");
  }

  /** Copies a chunk of the file over another place (a sector written to the wrong place). */
  static Mutation duplicateChunk(SplittableRandom rnd, byte[] in) {
    int n = 1 + rnd.nextInt(Math.min(64, in.length));
    int src = rnd.nextInt(in.length - n + 1);
    int dst = rnd.nextInt(in.length - n + 1);
    byte[] b = in.clone();
    System.arraycopy(in, src, b, dst, n);
    if (Arrays.equals(b, in)) {
      b[dst] ^= 0x01;
    }
    return new Mutation(b, "copy " + n + " bytes from " + src + " to " + dst);
  }

  /**
   * Bytes that are never UTF-8: a lone continuation, a truncated sequence, an overlong form, a
   * surrogate, 0xff.
   */
  static final byte[][] BAD_UTF8 = {
    {(byte) 0x80},
    {(byte) 0xc3, 0x28},
    {(byte) 0xe2, (byte) 0x82},
    {(byte) 0xc0, (byte) 0xaf},
    {(byte) 0xed, (byte) 0xa0, (byte) 0x80},
    {(byte) 0xff},
    {(byte) 0xf4, (byte) 0x90, (byte) 0x80, (byte) 0x80}
  };

  static Mutation invalidUtf8(SplittableRandom rnd, byte[] in) {
    byte[] bad = BAD_UTF8[rnd.nextInt(BAD_UTF8.length)];
    int pos = rnd.nextInt(in.length + 1);
    StringBuilder hex = new StringBuilder();
    for (byte x : bad) {
      hex.append(String.format("%02x", x & 0xff));
    }
    return new Mutation(splice(in, pos, 0, bad), "insert invalid UTF-8 " + hex + " at " + pos);
  }

  static Mutation nulBytes(SplittableRandom rnd, byte[] in) {
    int pos = rnd.nextInt(in.length + 1);
    int n = 1 + rnd.nextInt(3);
    return new Mutation(splice(in, pos, 0, new byte[n]), "insert " + n + " NUL bytes at " + pos);
  }

  static byte[] splice(byte[] in, int pos, int remove, byte[] insert) {
    byte[] b = new byte[in.length - remove + insert.length];
    System.arraycopy(in, 0, b, 0, pos);
    System.arraycopy(insert, 0, b, pos, insert.length);
    System.arraycopy(in, pos + remove, b, pos + insert.length, in.length - pos - remove);
    return b;
  }

  // ---------------------------------------------------------------------------------------------
  // Checks

  /** A Java exception or error class name, a package-qualified class, or a stack frame. */
  private static final Pattern JAVA_NAMES =
      Pattern.compile(
          "[A-Z][a-z]+[A-Za-z]*(Exception|Error)\\b|\\bjava\\.(lang|io|util|nio)\\.|\\bcom\\.fasterxml\\.|"
              + "\\borg\\.apache\\.|\\tat |\\bat [a-z]+\\.[a-z]+\\.[A-Za-z.$]+\\(");

  /**
   * The problems with a failed command's standard error, or an empty list: exactly one line, short,
   * no stack trace or Java class name, only printable characters.
   */
  static List<String> stderrProblems(String err) {
    List<String> p = new ArrayList<>();
    if (err.isEmpty()) {
      p.add("empty stderr");
      return p;
    }
    String body = err.endsWith("\n") ? err.substring(0, err.length() - 1) : err;
    if (body.indexOf('\n') >= 0 || body.indexOf('\r') >= 0) {
      p.add("stderr has " + (body.split("\r\n|\r|\n", -1).length) + " lines");
    }
    if (body.length() >= 600) {
      p.add("stderr is " + body.length() + " characters long");
    }
    if (JAVA_NAMES.matcher(body).find()) {
      p.add("stderr names Java classes or has a stack trace");
    }
    for (int i = 0; i < body.length(); i++) {
      char c = body.charAt(i);
      if (c == '\n') {
        continue;
      }
      int type = Character.getType(c);
      boolean pairedSurrogate =
          Character.isHighSurrogate(c)
                  && i + 1 < body.length()
                  && Character.isLowSurrogate(body.charAt(i + 1))
              || Character.isLowSurrogate(c)
                  && i > 0
                  && Character.isHighSurrogate(body.charAt(i - 1));
      if (c < 0x20
          || c == 0x7f
          || type == Character.CONTROL
          || type == Character.FORMAT
          || type == Character.LINE_SEPARATOR
          || type == Character.PARAGRAPH_SEPARATOR
          || c == '\ufffd'
          || (Character.isSurrogate(c) && !pairedSurrogate)) {
        p.add(String.format("stderr holds the unprintable character U+%04X at %d", (int) c, i));
        break;
      }
    }
    return p;
  }

  /**
   * Every file under {@code dir} (relative name → content), to compare before and after a command.
   */
  static Map<String, byte[]> snapshot(Path dir) {
    Map<String, byte[]> files = new TreeMap<>();
    try (Stream<Path> s = Files.walk(dir)) {
      s.filter(p -> !p.equals(dir))
          .forEach(
              p -> {
                try {
                  files.put(
                      dir.relativize(p).toString() + (Files.isDirectory(p) ? "/" : ""),
                      Files.isDirectory(p) ? new byte[0] : Files.readAllBytes(p));
                } catch (IOException e) {
                  throw new UncheckedIOException(e);
                }
              });
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return files;
  }

  /** How two snapshots differ ("" when they do not). */
  static String diff(Map<String, byte[]> before, Map<String, byte[]> after) {
    List<String> d = new ArrayList<>();
    for (String k : after.keySet()) {
      if (!before.containsKey(k)) {
        d.add("new " + k);
      } else if (!Arrays.equals(before.get(k), after.get(k))) {
        d.add("changed " + k);
      }
    }
    for (String k : before.keySet()) {
      if (!after.containsKey(k)) {
        d.add("removed " + k);
      }
    }
    return String.join(", ", d);
  }

  /** Deletes everything under {@code dir}, keeping the directory. */
  static void clear(Path dir) {
    try (Stream<Path> s = Files.walk(dir)) {
      s.sorted((a, b) -> b.getNameCount() - a.getNameCount())
          .filter(p -> !p.equals(dir))
          .forEach(
              p -> {
                try {
                  Files.delete(p);
                } catch (IOException e) {
                  throw new UncheckedIOException(e);
                }
              });
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Tallies

  /** Case counts of one reader: how many cases, how each ended, how long they took. */
  static final class Tally {
    final String reader;
    final long started = System.nanoTime();
    int cases;
    final Map<String, Integer> outcomes = new LinkedHashMap<>();
    final List<String> notes = new ArrayList<>();

    Tally(String reader) {
      this.reader = reader;
    }

    void count(String outcome) {
      cases++;
      outcomes.merge(outcome, 1, Integer::sum);
    }

    /**
     * Something worth reporting that is not a failure (e.g. a change of a file that was accepted
     * harmlessly).
     */
    void note(String what) {
      if (notes.size() < 5 && !notes.contains(what)) {
        notes.add(what);
      }
    }

    @Override
    public String toString() {
      StringBuilder b =
          new StringBuilder("fuzz: ").append(reader).append(' ').append(cases).append(" cases");
      outcomes.forEach((k, v) -> b.append(", ").append(v).append(' ').append(k));
      b.append(String.format(" (%.1f s)", (System.nanoTime() - started) / 1e9));
      if (!notes.isEmpty()) {
        b.append("; e.g. ").append(String.join("; ", notes));
      }
      return b.toString();
    }
  }
}
