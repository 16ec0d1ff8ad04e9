package org.recjpq.data.synth;

/**
 * Formats {@code user item\n} lines into a byte array without Strings: the user prefix is formatted
 * once per user and copied, the item is written two digits at a time from a table.
 */
final class LineFormatter {
  private static final byte[] DIGIT_PAIRS = new byte[200];

  static {
    for (int i = 0; i < 100; i++) {
      DIGIT_PAIRS[2 * i] = (byte) ('0' + i / 10);
      DIGIT_PAIRS[2 * i + 1] = (byte) ('0' + i % 10);
    }
  }

  private final byte[] prefix = new byte[12];
  private int prefixLength;
  byte[] buffer;
  int position;

  LineFormatter(byte[] buffer) {
    this.buffer = buffer;
  }

  /** The longest line for these id ranges, newline included. */
  static int maxLineBytes(int users, int items) {
    return digits(users) + 1 + digits(items) + 1;
  }

  /** Sets the 1-based user of the following lines. */
  void user(int userId) {
    prefixLength = putDigits(prefix, 0, userId);
    prefix[prefixLength++] = ' ';
  }

  /** Appends one line; the caller guarantees room for {@link #maxLineBytes} more bytes. */
  void line(int itemId) {
    byte[] b = buffer;
    int p = position;
    for (int i = 0; i < prefixLength; i++) {
      b[p + i] = prefix[i];
    }
    p = putDigits(b, p + prefixLength, itemId);
    b[p] = '\n';
    position = p + 1;
  }

  private static final int[] POWERS_OF_TEN = {
    1, 10, 100, 1000, 10_000, 100_000, 1_000_000, 10_000_000, 100_000_000, 1_000_000_000
  };

  /** Decimal digits of non-negative {@code v}: log10 from the bit length, then one correction. */
  static int digits(int v) {
    int approx = ((32 - Integer.numberOfLeadingZeros(v | 1)) * 1233) >>> 12; // ~ floor(log10)
    return approx + ((v | 1) >= POWERS_OF_TEN[approx] ? 1 : 0);
  }

  /** Writes non-negative {@code v} in decimal at {@code p}; returns the position after it. */
  static int putDigits(byte[] b, int p, int v) {
    int end = p + digits(v);
    int q = end;
    while (v >= 100) {
      int r = v % 100;
      v /= 100;
      b[--q] = DIGIT_PAIRS[2 * r + 1];
      b[--q] = DIGIT_PAIRS[2 * r];
    }
    if (v >= 10) {
      b[--q] = DIGIT_PAIRS[2 * v + 1];
      b[--q] = DIGIT_PAIRS[2 * v];
    } else {
      b[--q] = (byte) ('0' + v);
    }
    return end;
  }
}
