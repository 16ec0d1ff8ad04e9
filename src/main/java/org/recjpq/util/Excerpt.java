package org.recjpq.util;

/**
 * How an error message quotes input it did not expect: at most {@value #MAX} characters (a 50 MB
 * line is not echoed whole), with control characters, line breaks and other invisible or
 * undecodable characters escaped ({@code \n}, {@code \t}, {@code \x00}, {@code \u2028}), so a
 * message stays one readable line whatever the input held.
 */
public final class Excerpt {
  /** The most characters of input an error message quotes. */
  public static final int MAX = 200;

  private Excerpt() {}

  /** {@code text}, escaped and cut to {@value #MAX} characters ("... (N characters)" when cut). */
  public static String of(String text) {
    if (text == null) {
      return "(null)";
    }
    StringBuilder b = new StringBuilder(Math.min(text.length(), MAX) + 32);
    int shown = 0;
    for (int i = 0; i < text.length() && shown < MAX; i++, shown++) {
      char c = text.charAt(i);
      switch (c) {
        case '\n' -> b.append("\\n");
        case '\r' -> b.append("\\r");
        case '\t' -> b.append("\\t");
        case '\\' -> b.append("\\\\");
        default -> {
          if (c < 0x20 || c == 0x7f) {
            b.append(String.format("\\x%02x", (int) c));
          } else if (Character.isSurrogate(c) && !(Character.isHighSurrogate(c) && i + 1 < text.length()
              && Character.isLowSurrogate(text.charAt(i + 1))) && !(Character.isLowSurrogate(c) && i > 0
              && Character.isHighSurrogate(text.charAt(i - 1)))) {
            b.append(String.format("\\u%04x", (int) c));
          } else if (Character.getType(c) == Character.FORMAT || Character.getType(c) == Character.LINE_SEPARATOR
              || Character.getType(c) == Character.PARAGRAPH_SEPARATOR || Character.getType(c) == Character.CONTROL
              || c == '\ufffd') {
            b.append(String.format("\\u%04x", (int) c));
          } else {
            b.append(c);
          }
        }
      }
    }
    if (text.length() > shown) {
      b.append("... (").append(text.length()).append(" characters)");
    }
    return b.toString();
  }
}
