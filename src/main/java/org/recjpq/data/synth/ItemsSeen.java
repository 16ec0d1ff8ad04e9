package org.recjpq.data.synth;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/**
 * A bit per item: which items occur at least once. Workers mark concurrently with an atomic OR,
 * done only the first time a bit is seen clear, so popular items cost a plain read.
 */
final class ItemsSeen {
  private static final VarHandle WORDS = MethodHandles.arrayElementVarHandle(long[].class);
  private final long[] words;

  ItemsSeen(int items) {
    words = new long[(items >>> 6) + 1];
  }

  /** Marks an item from a single thread. */
  void mark(int item) {
    words[item >>> 6] |= 1L << item;
  }

  /** Marks an item; safe while other threads mark too. */
  void markConcurrently(int item) {
    long bit = 1L << item;
    int word = item >>> 6;
    if ((words[word] & bit) == 0) {
      WORDS.getAndBitwiseOr(words, word, bit);
    }
  }

  /** Items marked so far (call after all markers are done). */
  int count() {
    int count = 0;
    for (long w : words) {
      count += Long.bitCount(w);
    }
    return count;
  }
}
