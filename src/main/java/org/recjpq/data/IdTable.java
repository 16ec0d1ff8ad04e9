package org.recjpq.data;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Interns external ids as they are read: each distinct id gets a code 0, 1, 2, ... in order of
 * first appearance. {@link Numeric} keeps integer ids in a primitive open-addressing table (no
 * boxing, no strings: 10M ids cost ~200 MB at most); {@link Text} keeps anything else. {@link
 * #toVocabulary()} sorts the ids into a {@link Vocabulary} and gives the code-to-index map.
 */
abstract class IdTable {

  /** The code of {@code id}, assigning the next code when it is new. */
  abstract int code(long id);

  /** The code of {@code id}, assigning the next code when it is new. */
  abstract int code(String id);

  /** Number of distinct ids seen. */
  abstract int size();

  /**
   * The vocabulary of the ids whose code is marked in {@code keep} (all when null), sorted, and
   * {@code remap[code]} = internal index (-1 for dropped codes).
   */
  abstract Sorted toVocabulary(boolean[] keep);

  record Sorted(Vocabulary vocabulary, int[] remap) {}

  /**
   * Sorts the kept ids of codes {@code 0..n-1} numerically; {@code remap[c]} is the sorted index of
   * code {@code c}, or -1 where it was dropped.
   */
  private static Sorted numericVocabulary(long[] ids, int n, boolean[] keep) {
    int kept = 0;
    for (int c = 0; c < n; c++) {
      if (keep == null || keep[c]) {
        kept++;
      }
    }
    long[] sorted = new long[kept];
    kept = 0;
    for (int c = 0; c < n; c++) {
      if (keep == null || keep[c]) {
        sorted[kept++] = ids[c];
      }
    }
    Arrays.parallelSort(sorted);
    int[] remap = new int[n];
    for (int c = 0; c < n; c++) {
      remap[c] = keep == null || keep[c] ? Arrays.binarySearch(sorted, ids[c]) : -1;
    }
    return new Sorted(new Vocabulary.Numeric(sorted), remap);
  }

  /** Integer ids. */
  static final class Numeric extends IdTable {
    private long[] keys = new long[1 << 10]; // code -> id
    private long[] slots = new long[1 << 11]; // open addressing: id
    private int[] slotCodes = new int[1 << 11]; // code + 1 (0 = empty)
    private int size;

    @Override
    int code(long id) {
      int mask = slots.length - 1;
      int h = mix(id) & mask;
      while (slotCodes[h] != 0) {
        if (slots[h] == id) {
          return slotCodes[h] - 1;
        }
        h = (h + 1) & mask;
      }
      int code = size++;
      if (code == keys.length) {
        keys = Arrays.copyOf(keys, keys.length * 2);
      }
      keys[code] = id;
      slots[h] = id;
      slotCodes[h] = code + 1;
      if (size * 2 > slots.length) {
        rehash();
      }
      return code;
    }

    @Override
    int code(String id) {
      return code(Long.parseLong(id));
    }

    @Override
    int size() {
      return size;
    }

    private void rehash() {
      long[] newSlots = new long[slots.length * 2];
      int[] newCodes = new int[slotCodes.length * 2];
      int mask = newSlots.length - 1;
      for (int c = 0; c < size; c++) {
        int h = mix(keys[c]) & mask;
        while (newCodes[h] != 0) {
          h = (h + 1) & mask;
        }
        newSlots[h] = keys[c];
        newCodes[h] = c + 1;
      }
      slots = newSlots;
      slotCodes = newCodes;
    }

    private static int mix(long x) {
      x *= 0x9E3779B97F4A7C15L;
      return (int) (x ^ (x >>> 29) ^ (x >>> 43));
    }

    @Override
    Sorted toVocabulary(boolean[] keep) {
      return numericVocabulary(keys, size, keep);
    }
  }

  /** Text ids; sorted numerically at the end if every id turns out to be a canonical integer. */
  static final class Text extends IdTable {
    private final Map<String, Integer> codes = new HashMap<>();
    private final List<String> keys = new ArrayList<>();

    @Override
    int code(long id) {
      return code(Long.toString(id));
    }

    @Override
    int code(String id) {
      Integer c = codes.get(id);
      if (c == null) {
        c = keys.size();
        codes.put(id, c);
        keys.add(id);
      }
      return c;
    }

    @Override
    int size() {
      return keys.size();
    }

    @Override
    Sorted toVocabulary(boolean[] keep) {
      boolean allIntegers = true;
      for (int c = 0; c < keys.size() && allIntegers; c++) {
        allIntegers = (keep != null && !keep[c]) || Vocabulary.isCanonicalInteger(keys.get(c));
      }
      if (allIntegers) { // every kept id is a canonical integer (dropped ones may be anything)
        long[] ids = new long[keys.size()];
        for (int c = 0; c < ids.length; c++) {
          if (keep == null || keep[c]) {
            ids[c] = Long.parseLong(keys.get(c));
          }
        }
        return numericVocabulary(ids, ids.length, keep);
      }
      List<String> kept = new ArrayList<>();
      for (int c = 0; c < keys.size(); c++) {
        if (keep == null || keep[c]) {
          kept.add(keys.get(c));
        }
      }
      String[] sorted = kept.toArray(new String[0]);
      Arrays.parallelSort(sorted, Vocabulary.Text.ORDER);
      int[] remap = new int[keys.size()];
      for (int c = 0; c < keys.size(); c++) {
        remap[c] =
            keep == null || keep[c]
                ? Arrays.binarySearch(sorted, keys.get(c), Vocabulary.Text.ORDER)
                : -1;
      }
      return new Sorted(new Vocabulary.Text(sorted), remap);
    }
  }
}
