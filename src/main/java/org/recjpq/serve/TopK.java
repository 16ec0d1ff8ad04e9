package org.recjpq.serve;

import java.util.Arrays;

/**
 * The K best (item, score) pairs seen so far: higher score first, and on equal scores the lower
 * item id first (the evaluation's tie rule). A binary heap whose root is the worst kept pair, so a
 * candidate is rejected with one comparison once K are kept. Reusable ({@link #reset}); not
 * thread-safe.
 */
public final class TopK {
  private int k;
  private int size;
  private int[] ids = new int[0];
  private float[] scores = new float[0];

  public TopK(int k) {
    reset(k);
  }

  /** Empties the collector and sets its capacity. */
  public void reset(int capacity) {
    if (capacity < 0) {
      throw new IllegalArgumentException("k must not be negative, got " + capacity);
    }
    k = capacity;
    size = 0;
    if (ids.length < capacity) {
      ids = new int[capacity];
      scores = new float[capacity];
    }
  }

  public int capacity() {
    return k;
  }

  public int size() {
    return size;
  }

  public boolean full() {
    return size == k;
  }

  /** The worst kept score ({@code -inf} while not full). */
  public float threshold() {
    return size < k || k == 0 ? Float.NEGATIVE_INFINITY : scores[0];
  }

  /** Whether (id, score) would be kept: better than the worst kept pair, or room is left. */
  public boolean accepts(int id, float score) {
    if (size < k) {
      return k > 0;
    }
    return k > 0 && better(id, score, ids[0], scores[0]);
  }

  /** Offers a pair; an id must be offered at most once per round. */
  public void offer(int id, float score) {
    if (size < k) {
      int i = size++;
      ids[i] = id;
      scores[i] = score;
      siftUp(i);
    } else if (k > 0 && better(id, score, ids[0], scores[0])) {
      ids[0] = id;
      scores[0] = score;
      siftDown(0);
    }
  }

  /** a ranks before b. */
  static boolean better(int idA, float a, int idB, float b) {
    return a > b || (a == b && idA < idB);
  }

  private void siftUp(int i) {
    while (i > 0) {
      int parent = (i - 1) >>> 1;
      if (!better(ids[parent], scores[parent], ids[i], scores[i])) {
        break;
      }
      swap(i, parent);
      i = parent;
    }
  }

  private void siftDown(int i) {
    while (true) {
      int l = 2 * i + 1;
      if (l >= size) {
        return;
      }
      int worst = l;
      int r = l + 1;
      if (r < size && better(ids[worst], scores[worst], ids[r], scores[r])) {
        worst = r;
      }
      if (!better(ids[i], scores[i], ids[worst], scores[worst])) {
        return;
      }
      swap(i, worst);
      i = worst;
    }
  }

  private void swap(int a, int b) {
    int ti = ids[a];
    ids[a] = ids[b];
    ids[b] = ti;
    float ts = scores[a];
    scores[a] = scores[b];
    scores[b] = ts;
  }

  /**
   * The kept ids, best first (a new array of {@link #size} ids); {@code outScores} gets their
   * scores.
   */
  public int[] sorted(float[] outScores) {
    Integer[] order = new Integer[size];
    for (int i = 0; i < size; i++) {
      order[i] = i;
    }
    Arrays.sort(
        order,
        (x, y) ->
            better(ids[x], scores[x], ids[y], scores[y])
                ? -1
                : better(ids[y], scores[y], ids[x], scores[x]) ? 1 : 0);
    int[] out = new int[size];
    for (int i = 0; i < size; i++) {
      out[i] = ids[order[i]];
      if (outScores != null) {
        outScores[i] = scores[order[i]];
      }
    }
    return out;
  }
}
