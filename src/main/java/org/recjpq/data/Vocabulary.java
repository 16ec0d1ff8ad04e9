package org.recjpq.data;

import java.util.Arrays;
import java.util.Comparator;

/**
 * A bijection between external ids (as found in the input) and contiguous internal ids 0..size-1.
 *
 * <p>Internal ids follow the natural order of the external ids: numeric order when every id is an
 * integer, otherwise lexicographic order. So "lower internal id" (the tie-break of every ranking)
 * means "lower external id", the order an independent script would use, and a lookup is a binary
 * search with no extra memory. Two implementations: {@link Numeric} for integer ids (a sorted
 * {@code long[]}, 8 bytes an id) and {@link Text} for anything else.
 */
public abstract sealed class Vocabulary permits Vocabulary.Numeric, Vocabulary.Text {

  /** Number of ids. */
  public abstract int size();

  /** The external id of internal id {@code index}, as text. */
  public abstract String externalId(int index);

  /** The internal id of an external id, or -1 when it is not in the vocabulary. */
  public abstract int indexOf(String externalId);

  /** Whether external ids are integers. */
  public abstract boolean isNumeric();

  /**
   * A fingerprint of the whole vocabulary (kind, size and every id in order): the first 16 bytes of
   * a SHA-256, in hex. Files derived from a dataset (codes, checkpoints) record it so that they are
   * never applied to another dataset by mistake.
   */
  public String fingerprint() {
    java.security.MessageDigest sha;
    try {
      sha = java.security.MessageDigest.getInstance("SHA-256");
    } catch (java.security.NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is missing from this Java runtime", e);
    }
    java.nio.ByteBuffer buf = java.nio.ByteBuffer.allocate(1 << 16);
    buf.put((byte) (isNumeric() ? 'N' : 'T')).putInt(size());
    for (int i = 0; i < size(); i++) {
      if (this instanceof Numeric n) {
        if (buf.remaining() < 8) {
          flush(sha, buf);
        }
        buf.putLong(n.id(i));
      } else {
        byte[] b = externalId(i).getBytes(java.nio.charset.StandardCharsets.UTF_8);
        if (buf.remaining() < 4) {
          flush(sha, buf);
        }
        buf.putInt(b.length);
        flush(sha, buf);
        sha.update(b);
      }
    }
    flush(sha, buf);
    byte[] d = sha.digest();
    StringBuilder hex = new StringBuilder();
    for (int i = 0; i < 16; i++) {
      hex.append(String.format("%02x", d[i]));
    }
    return hex.toString();
  }

  private static void flush(java.security.MessageDigest sha, java.nio.ByteBuffer buf) {
    sha.update(buf.array(), 0, buf.position());
    buf.clear();
  }

  /** Integer external ids, sorted ascending. */
  public static final class Numeric extends Vocabulary {
    private final long[] ids;

    /**
     * @param sortedIds strictly increasing ids (not copied)
     */
    public Numeric(long[] sortedIds) {
      for (int i = 1; i < sortedIds.length; i++) {
        if (sortedIds[i - 1] >= sortedIds[i]) {
          throw new IllegalArgumentException("ids must be strictly increasing at index " + i);
        }
      }
      this.ids = sortedIds;
    }

    @Override
    public int size() {
      return ids.length;
    }

    @Override
    public String externalId(int index) {
      return Long.toString(ids[index]);
    }

    /** The external id of internal id {@code index}. */
    public long id(int index) {
      return ids[index];
    }

    /** The internal id of {@code externalId}, or -1. */
    public int indexOf(long externalId) {
      int i = Arrays.binarySearch(ids, externalId);
      return i >= 0 ? i : -1;
    }

    @Override
    public int indexOf(String externalId) {
      try {
        return indexOf(Long.parseLong(externalId.trim()));
      } catch (NumberFormatException e) {
        return -1;
      }
    }

    @Override
    public boolean isNumeric() {
      return true;
    }

    /** The sorted ids (not a copy: do not modify). */
    public long[] ids() {
      return ids;
    }
  }

  /** Text external ids, sorted by {@link #ORDER}. */
  public static final class Text extends Vocabulary {
    /** Lexicographic order of the UTF-16 code units. */
    public static final Comparator<String> ORDER = Comparator.naturalOrder();

    private final String[] ids;

    /**
     * @param sortedIds strictly increasing ids by {@link #ORDER} (not copied)
     */
    public Text(String[] sortedIds) {
      for (int i = 1; i < sortedIds.length; i++) {
        if (ORDER.compare(sortedIds[i - 1], sortedIds[i]) >= 0) {
          throw new IllegalArgumentException("ids must be strictly increasing at index " + i);
        }
      }
      this.ids = sortedIds;
    }

    @Override
    public int size() {
      return ids.length;
    }

    @Override
    public String externalId(int index) {
      return ids[index];
    }

    @Override
    public int indexOf(String externalId) {
      int i = Arrays.binarySearch(ids, externalId, ORDER);
      return i >= 0 ? i : -1;
    }

    @Override
    public boolean isNumeric() {
      return false;
    }

    /** The sorted ids (not a copy: do not modify). */
    public String[] ids() {
      return ids;
    }
  }

  /**
   * Whether {@code s} is a canonical decimal integer that fits a long ("0", "42", "-7"; not "007",
   * "+1" or "1.0"), so that numeric and text order agree on what equality means.
   */
  public static boolean isCanonicalInteger(String s) {
    int n = s.length();
    if (n == 0 || n > 20) {
      return false;
    }
    int start = s.charAt(0) == '-' ? 1 : 0;
    if (start == n || (s.charAt(start) == '0' && n > start + 1) || (start == 1 && s.equals("-0"))) {
      return false;
    }
    for (int i = start; i < n; i++) {
      char c = s.charAt(i);
      if (c < '0' || c > '9') {
        return false;
      }
    }
    try {
      Long.parseLong(s);
      return true;
    } catch (NumberFormatException e) {
      return false;
    }
  }
}
