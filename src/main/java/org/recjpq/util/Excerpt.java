package org.recjpq.util;

/**
 * How an error message quotes input it did not expect: at most {@value #MAX} characters of quote (a
 * 50 MB line is not echoed whole), with control characters, line breaks and other invisible or
 * undecodable characters escaped ({@code \n}, {@code \t}, {@code \x00}, {@code \u2028}), so a
 * message stays one short readable line whatever the input held. The bound is on the quote as
 * printed, escapes included: 200 NUL bytes are not quoted as 800 characters.
 */
public final class Excerpt {
  /** The most characters an error message quotes of its input (escapes counted as printed). */
  public static final int MAX = 200;

  private Excerpt() {}

  /**
   * {@code text}, escaped and cut to {@value #MAX} printed characters ("... (N characters)" when
   * cut).
   */
  public static String of(String text) {
    return of(text, MAX);
  }

  /**
   * {@code text}, escaped and cut to {@code max} printed characters, for a message that says more
   * besides.
   */
  public static String of(String text, int max) {
    if (text == null) {
      return "(null)";
    }
    StringBuilder b = new StringBuilder(Math.min(text.length(), max) + 40);
    int i = 0;
    while (i < text.length() && b.length() < max) {
      char c = text.charAt(i);
      if (Character.isHighSurrogate(c)
          && i + 1 < text.length()
          && Character.isLowSurrogate(text.charAt(i + 1))) {
        b.append(c).append(text.charAt(i + 1)); // a pair stays whole: never cut between its halves
        i += 2;
        continue;
      }
      switch (c) {
        case '\n' -> b.append("\\n");
        case '\r' -> b.append("\\r");
        case '\t' -> b.append("\\t");
        case '\\' -> b.append("\\\\");
        default -> {
          if (c < 0x20 || c == 0x7f) {
            b.append(String.format("\\x%02x", (int) c));
          } else if (Character.isSurrogate(c)
              || Character.getType(c) == Character.FORMAT
              || Character.getType(c) == Character.LINE_SEPARATOR
              || Character.getType(c) == Character.PARAGRAPH_SEPARATOR
              || Character.getType(c) == Character.CONTROL
              || c == '\ufffd') {
            b.append(
                String.format(
                    "\\u%04x", (int) c)); // a lone surrogate, an invisible or undecodable character
          } else {
            b.append(c);
          }
        }
      }
      i++;
    }
    if (i < text.length()) {
      b.append("... (").append(text.length()).append(" characters)");
    }
    return b.toString();
  }
}
