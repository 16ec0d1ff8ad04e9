package org.recjpq.serve;

import java.util.Arrays;
import org.recjpq.codes.ItemCodes;

/**
 * Exact top-K with safe pruning, in the spirit of RecJPQPrune (docs/method.md §9). Built once: per
 * split, the items grouped by their sub-id (posting lists, 4·m·N bytes). Per query: the sub-id
 * score table; per split, its non-empty sub-ids sorted by score, best first. Then repeatedly visit
 * the next posting list of one split, scoring each item not yet scored (canonically, m look-ups).
 * An item not yet scored has, in every split, a sub-id not yet visited there, so its score is at
 * most {@code σ = Σ_k t[k][next unvisited sub-id of split k]}, combined exactly as a score is
 * ({@link JpqHead#combine}), so the bound also holds in float arithmetic. Stop as soon as σ is
 * below the K-th best score: no unscored item can enter the top-K. The split advanced next is the
 * one whose bound term drops most (the quickest fall of σ). A trained model's scores are peaked, so
 * few lists are visited; random weights visit most of the catalogue.
 *
 * <p>With m = 8 and while they fit a memory budget (8·m·N bytes; {@link #DEFAULT_INLINE_BUDGET}),
 * each posting list also holds its items' packed codes, so a visit streams through memory instead
 * of touching two item-indexed arrays at random (a cache miss each at a million items). An item
 * already scored is then recognised by its codes, not by a per-item stamp: it has a sub-id whose
 * list was finished before, and those sub-ids are set to {@code -inf} in a working copy of the
 * query's table, so its score there is {@code -inf} while every item not yet scored gets its exact
 * canonical score. That needs every table value finite and far from overflow, which is checked per
 * query (otherwise the stamp path runs). On this path each list is also ordered by the items'
 * sub-ids in the next split, in groups with their start offsets (another 4·m·65,536 bytes), so a
 * list is read forward group by group, passing over every group whose bound (σ with two known
 * terms) is below the K-th best: a second, finer pruning rule inside the list (its effect on a
 * trained model: benchmarks/serving.md). An item's id is read only when its score can enter the
 * top-K. Over large catalogues the working table is also widened into split-pair sums ({@link
 * JpqHead#pairTables}: 4 look-ups an item, the same scores bit for bit), and finishing a list sets
 * the 256 pair sums that contain its sub-id to {@code -inf}.
 *
 * <p>With item offsets (a model trained with item biases) a score is the combined terms plus the
 * item's offset, and the offsets are one more list: the items by offset, largest first, visited a
 * block of {@link #BIAS_BLOCK} at a time. An item not scored yet is not in a visited block, so its
 * offset is at most the next block's first (the frontier), and every bound above adds the frontier.
 * The offset list competes with the splits for the next visit by the same rule (its drop: the
 * frontier's fall over one block). An item scored from the offset list and met again in a posting
 * list is recognised by its place in the list before it is offered (the benchmarks' count of items
 * scored includes such second meetings).
 */
public final class PrunedScorer implements TopKScorer {
  private static final int B = ItemCodes.SUB_IDS;
  private final JpqHead head;
  private final int[][] starts; // [k][B + 1]
  private final int[][] postings; // [k][N], items by sub-id
  private final long[][]
      postingCodes; // [k][N], their packed codes (m = 8 within budget), else null
  private final int[][]
      groupStarts; // [k][256·256 + 1]: with postingCodes, list j of split k in groups by split k+1
  private final boolean pairs; // streaming path with split-pair tables
  private final int[]
      biasOrder; // with item offsets: the items by offset, largest first (ties: lower id)
  private final int[] biasRank; // an item's place in biasOrder

  /** Items the offset list scores in one visit. */
  static final int BIAS_BLOCK = 64;

  private final ThreadLocal<Scratch> scratch;

  /** Packed codes inline in the posting lists while they take at most this many bytes (512 MiB). */
  public static final long DEFAULT_INLINE_BUDGET = 512L << 20;

  public PrunedScorer(JpqHead head) {
    this(head, DEFAULT_INLINE_BUDGET);
  }

  /** As {@link #PrunedScorer(JpqHead)} with a byte budget for codes inline in the posting lists. */
  public PrunedScorer(JpqHead head, long inlineBudgetBytes) {
    this(head, inlineBudgetBytes, PqTopKScorer.PAIR_MIN_ITEMS);
  }

  /**
   * As {@link #PrunedScorer(JpqHead, long)}, with pair tables on the streaming path from {@code
   * pairMinItems} items on (tests).
   */
  PrunedScorer(JpqHead head, long inlineBudgetBytes, int pairMinItems) {
    this.head = head;
    int m = head.m;
    int n = head.n;
    starts = new int[m][B + 1];
    postings = new int[m][n];
    for (int k = 0; k < m; k++) {
      int[] st = starts[k];
      for (int i = 0; i < n; i++) {
        st[(head.codes[i * m + k] & 0xff) + 1]++;
      }
      for (int j = 0; j < B; j++) {
        st[j + 1] += st[j];
      }
      int[] fill = Arrays.copyOf(st, B);
      int[] post = postings[k];
      for (int i = 0; i < n; i++) {
        post[fill[head.codes[i * m + k] & 0xff]++] = i;
      }
    }
    if (head.packed != null && 8L * m * n <= inlineBudgetBytes) {
      // streaming path: each list ordered by the next split's sub-id, in groups (see topK)
      postingCodes = new long[m][n];
      groupStarts = new int[m][];
      for (int k = 0; k < m; k++) {
        int k2 = (k + 1) % m;
        int[] gs = new int[B * B + 1];
        for (int i = 0; i < n; i++) {
          gs[groupKey(head.codes, i, m, k, k2) + 1]++;
        }
        for (int g = 0; g < B * B; g++) {
          gs[g + 1] += gs[g];
        }
        int[] fill = Arrays.copyOf(gs, B * B);
        int[] post = postings[k];
        long[] pc = postingCodes[k];
        for (int i = 0; i < n; i++) {
          int q = fill[groupKey(head.codes, i, m, k, k2)]++;
          post[q] = i;
          pc[q] = head.packed[i];
        }
        groupStarts[k] = gs;
      }
    } else {
      postingCodes = null;
      groupStarts = null;
    }
    pairs = postingCodes != null && n >= pairMinItems;
    if (head.bias != null) {
      float[] b = head.bias;
      biasOrder =
          java.util.stream.IntStream.range(0, n)
              .boxed()
              .sorted((x, y) -> b[x] != b[y] ? Float.compare(b[y], b[x]) : Integer.compare(x, y))
              .mapToInt(Integer::intValue)
              .toArray();
      biasRank = new int[n];
      for (int r = 0; r < n; r++) {
        biasRank[biasOrder[r]] = r;
      }
    } else {
      biasOrder = null;
      biasRank = null;
    }
    scratch = ThreadLocal.withInitial(() -> new Scratch(head));
  }

  private static int groupKey(byte[] codes, int item, int m, int k, int k2) {
    return (codes[item * m + k] & 0xff) * B + (codes[item * m + k2] & 0xff);
  }

  @Override
  public String name() {
    return "pruned";
  }

  /** Whether the posting lists carry their items' codes (the streaming path). */
  public boolean inlineCodes() {
    return postingCodes != null;
  }

  /** Per-thread work arrays. */
  private static final class Scratch {
    final float[] t;
    final float[] work; // t with the sub-ids of finished lists at -inf (streaming path)
    float[] pairs; // the pair sums of work (streaming path over large catalogues), on first use
    int[] stamp; // per item, allocated on first use (stamp path)
    int gen;
    final int[][] order; // per split, its sub-ids best first: the first filled[k] of them
    final int[] filled;
    final long[][] heap; // per split, a min-heap of the sort keys of the sub-ids not yet in order
    final int[] heapSize;
    final int[] len;
    final int[] ptr;
    final float[] parts;
    long visited; // items scored by the last query (for the benchmarks)
    int biasPtr; // with item offsets: items of the offset list visited (all of them scored)
    float
        frontier; // the offset of the offset list's next item: no item not scored yet has a larger

    // one

    /**
     * Split k's i-th best sub-id (i < len[k]). A query visits a few lists per split, so the sub-ids
     * are ordered lazily, popped from a heap built in linear time, instead of sorted in full.
     */
    int orderAt(int k, int i) {
      int[] o = order[k];
      while (filled[k] <= i) {
        long[] hp = heap[k];
        long top = hp[0];
        int size = --heapSize[k];
        siftDown(hp, 0, hp[size], size);
        o[filled[k]++] = (int) (top & 0xff);
      }
      return o[i];
    }

    /** Puts key v at slot {@code at} of a min-heap of {@code size} keys and sifts it down. */
    private static void siftDown(long[] hp, int at, long v, int size) {
      while (true) {
        int child = 2 * at + 1;
        if (child >= size) {
          break;
        }
        if (child + 1 < size && hp[child + 1] < hp[child]) {
          child++;
        }
        if (hp[child] >= v) {
          break;
        }
        hp[at] = hp[child];
        at = child;
      }
      hp[at] = v;
    }

    /**
     * Fills split k's heap with the keys of its non-empty sub-ids: score descending, then sub-id.
     */
    void orderSplit(int k, float[] t, int[] st) {
      long[] hp = heap[k];
      int c = 0;
      for (int j = 0; j < B; j++) {
        if (st[j + 1] > st[j]) {
          int bits = Float.floatToIntBits(t[k * B + j]);
          int sortable = bits ^ ((bits >> 31) & 0x7fffffff);
          hp[c++] = ((long) ~sortable << 32) | j;
        }
      }
      for (int i = c / 2 - 1; i >= 0; i--) { // heapify
        siftDown(hp, i, hp[i], c);
      }
      heapSize[k] = c;
      len[k] = c;
      filled[k] = 0;
      ptr[k] = 0;
    }

    Scratch(JpqHead head) {
      t = new float[head.queryFloats()];
      work = new float[head.queryFloats()];
      order = new int[head.m][B];
      filled = new int[head.m];
      heap = new long[head.m][B];
      heapSize = new int[head.m];
      len = new int[head.m];
      ptr = new int[head.m];
      parts = new float[head.m];
    }
  }

  /** Items scored by the calling thread's last query. */
  public long lastVisited() {
    return scratch.get().visited;
  }

  @Override
  public void topK(float[] h, ItemFilter filter, TopK out) {
    Scratch s = scratch.get();
    float[] t = s.t;
    head.prepare(h, t);
    int m = head.m;
    boolean streaming = postingCodes != null && tableIsSafe(t);
    if (streaming) {
      System.arraycopy(t, 0, s.work, 0, t.length);
      if (pairs) {
        if (s.pairs == null) {
          s.pairs = new float[JpqHead.PAIR_FLOATS];
        }
        JpqHead.pairTables(t, s.pairs);
      }
    } else {
      if (s.stamp == null) {
        s.stamp = new int[head.n];
      }
      if (++s.gen == Integer.MAX_VALUE) {
        Arrays.fill(s.stamp, 0);
        s.gen = 1;
      }
    }
    int gen = s.gen;
    float[] work = s.work;
    for (int k = 0; k < m; k++) {
      s.orderSplit(k, t, starts[k]);
    }
    long visited = 0;
    s.biasPtr = 0;
    s.frontier = biasOrder != null ? head.bias[biasOrder[0]] : 0f;
    while (true) {
      for (int k = 0; k < m; k++) {
        s.parts[k] = t[k * B + s.orderAt(k, s.ptr[k])];
      }
      float sigma = bound(head.combine(s.parts), s);
      if (out.full() && sigma < out.threshold()) {
        break;
      }
      int best = 0;
      float bestDrop = -1f;
      for (int k = 0; k < m; k++) {
        int p = s.ptr[k];
        float cur = s.parts[k];
        float drop =
            p + 1 < s.len[k] ? cur - t[k * B + s.orderAt(k, p + 1)] : Float.POSITIVE_INFINITY;
        if (drop > bestDrop) {
          bestDrop = drop;
          best = k;
        }
      }
      if (biasOrder != null) {
        int next = s.biasPtr + BIAS_BLOCK;
        float drop =
            next < head.n ? s.frontier - head.bias[biasOrder[next]] : Float.POSITIVE_INFINITY;
        if (drop > bestDrop) { // the offset list falls fastest: score its next block of items
          visited += visitBiasBlock(s, t, streaming, filter, out);
          if (s.biasPtr >= head.n) {
            break; // every item is in the offset list: all scored
          }
          continue;
        }
      }
      int j = s.orderAt(best, s.ptr[best]);
      int[] post = postings[best];
      if (streaming) {
        // The list's items come in groups by their sub-id c2 in split k2. An item of group c2 not
        // yet scored scores at most σ with split k2's term lowered to t[k2][c2]; a group whose
        // bound is below the K-th best is passed over: its items cannot enter the top-K, now or
        // later (the threshold only rises), and finishing the list marks them all. Groups are read
        // in memory order, so the list streams forward; an item's id is read only when its score
        // can enter the top-K.
        long[] pc = postingCodes[best];
        int[] gs = groupStarts[best];
        int k2 = (best + 1) % m;
        float[] parts = s.parts;
        float top2 = parts[k2];
        float[] pr = s.pairs;
        for (int c2 = 0, g = j * B; c2 < B; c2++, g++) {
          int q = gs[g];
          int end = gs[g + 1];
          if (q == end || work[k2 * B + c2] == Float.NEGATIVE_INFINITY) {
            continue; // empty, or every item in it already scored
          }
          float thr = out.threshold();
          if (out.full()) {
            parts[k2] = t[k2 * B + c2];
            if (bound(head.combine(parts), s) < thr) {
              continue;
            }
          }
          for (; q < end; q++) {
            float sc = pairs ? JpqHead.scorePairs(pr, pc[q]) : JpqHead.score8(work, pc[q]);
            if (sc != Float.NEGATIVE_INFINITY) { // not in a finished list: first visit, exact score
              visited++;
              if (bound(sc, s) >= thr) {
                int item = post[q];
                if (biasRank != null && biasRank[item] < s.biasPtr) {
                  continue; // scored already, from the offset list
                }
                sc = head.biased(sc, item);
                if (sc >= thr && out.accepts(item, sc) && !filter.excluded(item)) {
                  out.offer(item, sc);
                  thr = out.threshold();
                }
              }
            }
          }
        }
        parts[k2] = top2;
        work[best * B + j] = Float.NEGATIVE_INFINITY;
        if (pairs) { // every pair sum with sub-id j in split best
          int base = (best >> 1) << 16;
          if ((best & 1) == 0) {
            for (int c = 0; c < B; c++) {
              pr[base + (c << 8) + j] = Float.NEGATIVE_INFINITY;
            }
          } else {
            Arrays.fill(pr, base + (j << 8), base + (j << 8) + B, Float.NEGATIVE_INFINITY);
          }
        }
      } else {
        for (int q = starts[best][j], end = starts[best][j + 1]; q < end; q++) {
          int item = post[q];
          if (s.stamp[item] != gen) {
            s.stamp[item] = gen;
            visited++;
            float sc = head.score(t, item);
            if (out.accepts(item, sc) && !filter.excluded(item)) {
              out.offer(item, sc);
            }
          }
        }
      }
      if (++s.ptr[best] == s.len[best]) {
        break; // every item is in one list of each split: all scored
      }
    }
    s.visited = visited;
  }

  /**
   * The largest canonical score of an item not scored yet whose combined sub-id terms are at most
   * {@code s}: s plus the offset frontier (float addition is monotone), or s itself without
   * offsets.
   */
  private float bound(float s, Scratch w) {
    return biasOrder == null ? s : s + w.frontier;
  }

  /**
   * Scores the next {@link #BIAS_BLOCK} items of the offset list that are not scored yet (on the
   * streaming path: whose score in the working table is finite, i.e. no list of theirs is finished;
   * else by stamp), then moves the frontier to the next item's offset; returns the items scored.
   */
  private long visitBiasBlock(
      Scratch s, float[] t, boolean streaming, ItemFilter filter, TopK out) {
    int n = head.n;
    int end = Math.min(n, s.biasPtr + BIAS_BLOCK);
    long scored = 0;
    for (int r = s.biasPtr; r < end; r++) {
      int item = biasOrder[r];
      if (streaming) {
        if (JpqHead.score8(s.work, head.packed[item]) == Float.NEGATIVE_INFINITY) {
          continue; // in a finished list: scored already
        }
      } else {
        if (s.stamp[item] == s.gen) {
          continue;
        }
        s.stamp[item] = s.gen;
      }
      scored++;
      float sc = head.score(t, item);
      if (out.accepts(item, sc) && !filter.excluded(item)) {
        out.offer(item, sc);
      }
    }
    s.biasPtr = end;
    s.frontier = end < n ? head.bias[biasOrder[end]] : Float.NEGATIVE_INFINITY;
    return scored;
  }

  /**
   * Whether every table value is finite and small enough that no sum of m of them overflows, so
   * that {@code -inf} in a score can only come from a finished list.
   */
  private static boolean tableIsSafe(float[] t) {
    for (float v : t) {
      if (!(Math.abs(v) < 1e30f)) {
        return false;
      }
    }
    return true;
  }
}
