package org.recjpq.data.synth;

import java.util.Arrays;
import org.recjpq.util.SplitMix64;

/**
 * The hidden structure of a synthetic data set, built once from the configuration and then only
 * read (safe to share between threads): item popularity, clusters with their item tables, and the
 * sparse Markov chain over clusters.
 *
 * <p>Slot 0 of a cluster holds its head (its most popular item, from the first popularity band),
 * slots 1.. its tail. Drawing an item from a cluster is two-level: the head with its share of the
 * cluster's mass, otherwise a tail item from a Vose alias table over the tail. This is the same
 * distribution as one alias table over the whole cluster, and it makes "never the previous item"
 * exact and cheap: heads are often dominant, and after the head the draw goes straight to the tail
 * instead of rejecting the head again and again.
 *
 * <p>The layout is chosen for generation speed, which with millions of items is set by random
 * memory accesses (and, in virtual machines, by the page walks behind them). All of a cluster lives
 * in one fixed-size block of {@link #table}: header (tail size, head threshold, head item,
 * successors) then the tail slots (threshold, own item, alias item: 12 bytes). A step reads the
 * header and at most one slot of the same block, usually on the same memory page.
 *
 * <p>Memory: about 12 bytes per item plus {@code 4 * (3 + fanOut) + 8} bytes per cluster. Two int
 * arrays of N (popularity rank and item of each slot) live only while building.
 */
final class SynthWorld {
  // Stream numbers of SplitMix64.key: each part of the structure has its own random stream.
  static final long STREAM_BANDS = 1;
  static final long STREAM_ITEMS = 2;
  static final long STREAM_CHAIN = 3;
  static final long STREAM_LENGTHS = 4;
  static final long STREAM_WALKS = 5;

  /** A threshold that keeps the column for every 31-bit draw (probability one). */
  private static final int ALWAYS = Integer.MAX_VALUE;

  /** Draws before giving up on avoiding the previous item by rejection (see drawItem). */
  private static final int MAX_REDRAWS = 32;

  // Header fields of a cluster block; the successors follow, then the tail slots.
  private static final int TAIL_SIZE = 0;
  private static final int HEAD_THRESHOLD = 1;
  private static final int HEAD_ITEM = 2;
  private static final int SUCCESSORS = 3;

  final int clusters;
  private final int fanOut; // successors per cluster actually used: min(config fan-out, C - 1)
  private final int tailOffset; // SUCCESSORS + fanOut: first tail slot in a block
  private final int blockSize; // ints per cluster block, fits the largest cluster
  private final int baseTail; // tail size of clusters extraClusters.., one less than below
  private final int extraClusters; // clusters 0..extraClusters-1 have one more item
  // (C, blockSize) header, successors, then (tail, 3) per tail slot: keep-own-item threshold
  // on 31 random bits, own item, alias item (items 1-based)
  private final int[] table;
  private final int[] clusterThreshold; // (C) alias table over clusters by mass
  private final int[] clusterAlias; // (C)
  private final long stayBound; // on 53 random bits: below = stay
  private final long jumpBound; // below = jump (after stay)
  private final long[] successorBound; // (fanOut) below bound k = successor k

  SynthWorld(SynthConfig config) {
    int n = config.items();
    clusters = config.clusters();
    int base = n / clusters;
    int extra = n % clusters;
    fanOut = Math.min(config.fanOut(), clusters - 1);
    tailOffset = SUCCESSORS + fanOut;
    baseTail = base - 1;
    extraClusters = extra;
    blockSize = tailOffset + 3 * (base + (extra > 0 ? 1 : 0) - 1);
    table = new int[Math.multiplyExact(clusters, blockSize)];
    int[] slotRank = stratifiedRanks(config.seed(), n, clusters, base, extra);
    int[] slotItem = new int[n];
    for (int s = 0; s < n; s++) {
      slotItem[s] = s + 1;
    }
    SplitMix64.keyed(config.seed(), STREAM_ITEMS, 0).shuffle(slotItem, 0, n);

    double[] clusterMass = new double[clusters];
    double[] weights = new double[base + 1];
    int[] threshold = new int[base + 1];
    int[] alias = new int[base + 1];
    int[] small = new int[Math.max(base + 1, clusters)];
    int[] large = new int[Math.max(base + 1, clusters)];
    double s = config.zipfExponent();
    for (int c = 0; c < clusters; c++) {
      int head = clusterStart(c, base, extra);
      int tailSize = base + (c < extra ? 1 : 0) - 1;
      double tailMass = 0;
      for (int k = 0; k < tailSize; k++) {
        weights[k] = zipfWeight(slotRank[head + 1 + k], s);
        tailMass += weights[k];
      }
      double headWeight = zipfWeight(slotRank[head], s);
      clusterMass[c] = headWeight + tailMass;
      buildAlias(weights, tailSize, tailMass, threshold, alias, 0, small, large);
      int block = c * blockSize;
      table[block + TAIL_SIZE] = tailSize;
      table[block + HEAD_THRESHOLD] = toThreshold(headWeight / clusterMass[c]);
      table[block + HEAD_ITEM] = slotItem[head];
      for (int k = 0; k < tailSize; k++) {
        int at = block + tailOffset + 3 * k;
        table[at] = threshold[k];
        table[at + 1] = slotItem[head + 1 + k];
        table[at + 2] = slotItem[head + 1 + alias[k]];
      }
    }
    clusterThreshold = new int[clusters];
    clusterAlias = new int[clusters];
    double total = 0;
    for (double m : clusterMass) {
      total += m;
    }
    buildAlias(clusterMass, clusters, total, clusterThreshold, clusterAlias, 0, small, large);

    pickSuccessors(config.seed(), config.successorRadius());
    stayBound = toBound(config.stayProbability());
    jumpBound = toBound(config.stayProbability() + config.jumpProbability());
    successorBound = successorBounds(config.successorDecay(), fanOut, jumpBound);
  }

  /** The first slot of cluster c: clusters 0..extra-1 have base + 1 slots, the rest base. */
  private static int clusterStart(int c, int base, int extra) {
    return c * base + Math.min(c, extra);
  }

  /** The Zipf weight of the item at popularity rank {@code rank} (0 = most popular). */
  static double zipfWeight(int rank, double exponent) {
    if (exponent == 1.0) {
      return 1.0 / (rank + 1.0);
    }
    return StrictMath.pow(rank + 1.0, -exponent);
  }

  /**
   * The popularity rank of each slot. Ranks come in bands of C consecutive ranks; band k gives one
   * rank to every cluster (a seeded random matching), stored at the cluster's k-th slot. The last,
   * partial band goes to clusters 0..extra-1, which have one slot more.
   */
  private static int[] stratifiedRanks(long seed, int n, int c, int base, int extra) {
    int[] slotRank = new int[n];
    int[] perm = new int[c];
    for (int j = 0; j < c; j++) {
      perm[j] = j;
    }
    SplitMix64 rng = SplitMix64.keyed(seed, STREAM_BANDS, 0);
    for (int band = 0; band <= base; band++) {
      int width = band < base ? c : extra;
      if (width == 0) {
        break;
      }
      if (band == base) {
        for (int j = 0; j < width; j++) {
          perm[j] = j;
        }
      }
      rng.shuffle(perm, 0, width);
      for (int j = 0; j < width; j++) {
        int cluster = perm[j];
        int start = clusterStart(cluster, base, extra);
        slotRank[start + band] = band * c + j;
      }
    }
    return slotRank;
  }

  /**
   * Gives each cluster {@code fanOut} distinct other clusters: uniformly at random, or with a
   * radius R &gt; 0 uniformly among the clusters within R steps on the ring of cluster indices.
   */
  private void pickSuccessors(long seed, int radius) {
    SplitMix64 rng = SplitMix64.keyed(seed, STREAM_CHAIN, 0);
    for (int c = 0; c < clusters; c++) {
      int at = c * blockSize + SUCCESSORS;
      for (int k = 0; k < fanOut; k++) {
        int candidate;
        boolean fresh;
        do {
          if (radius > 0) { // an offset in [-R, -1] or [1, R], around the ring
            int off = 1 + rng.nextInt(2 * radius);
            candidate =
                (int)
                    Math.floorMod((long) c + (off <= radius ? off : radius - off), (long) clusters);
          } else {
            candidate = rng.nextInt(clusters);
          }
          fresh = candidate != c;
          for (int q = 0; q < k && fresh; q++) {
            fresh = table[at + q] != candidate;
          }
        } while (!fresh);
        table[at + k] = candidate;
      }
    }
  }

  /** Cumulative bounds for the successors, geometric in k, ending at 2^53. */
  private static long[] successorBounds(double decay, int fanOut, long from) {
    long[] bounds = new long[fanOut];
    double sum = 0;
    for (int k = 0; k < fanOut; k++) {
      sum += StrictMath.pow(decay, k);
    }
    double cumulative = 0;
    for (int k = 0; k < fanOut; k++) {
      cumulative += StrictMath.pow(decay, k) / sum;
      long span = (1L << 53) - from;
      bounds[k] = k == fanOut - 1 ? 1L << 53 : from + (long) (cumulative * span);
    }
    return bounds;
  }

  /** Keep-threshold on 31 random bits for probability p in [0, 1]: keep iff bits <= threshold. */
  private static int toThreshold(double p) {
    return p >= 1 ? ALWAYS : (int) (p * 0x1.0p31) - 1;
  }

  private static long toBound(double probability) {
    return probability >= 1 ? 1L << 53 : (long) (probability * 0x1.0p53);
  }

  /**
   * Vose's alias method over {@code weights[0, n)} (overwritten), into {@code threshold} and {@code
   * alias} at offset {@code offset}; aliases are stored as absolute indices.
   */
  static void buildAlias(
      double[] weights,
      int n,
      double total,
      int[] threshold,
      int[] alias,
      int offset,
      int[] small,
      int[] large) {
    int smallCount = 0;
    int largeCount = 0;
    for (int i = 0; i < n; i++) {
      weights[i] = total > 0 ? weights[i] * n / total : 1.0;
      if (weights[i] < 1.0) {
        small[smallCount++] = i;
      } else {
        large[largeCount++] = i;
      }
    }
    while (smallCount > 0 && largeCount > 0) {
      int s = small[--smallCount];
      int l = large[--largeCount];
      threshold[offset + s] = toThreshold(weights[s]);
      alias[offset + s] = offset + l;
      weights[l] = (weights[l] + weights[s]) - 1.0;
      if (weights[l] < 1.0) {
        small[smallCount++] = l;
      } else {
        large[largeCount++] = l;
      }
    }
    // Left-overs are 1 up to rounding: keep them always.
    while (largeCount > 0) {
      int l = large[--largeCount];
      threshold[offset + l] = ALWAYS;
      alias[offset + l] = offset + l;
    }
    while (smallCount > 0) {
      int s = small[--smallCount];
      threshold[offset + s] = ALWAYS;
      alias[offset + s] = offset + s;
    }
  }

  /** A cluster drawn by mass (start of a walk, random jumps). */
  int drawCluster(long r) {
    int column = (int) (((r >>> 32) * clusters) >>> 32);
    return ((int) r & ALWAYS) <= clusterThreshold[column] ? column : clusterAlias[column];
  }

  /** The cluster after {@code cluster}: stay, jump by mass, or a successor. */
  int nextCluster(int cluster, SplitMix64 rng) {
    long u = rng.nextLong() >>> 11;
    if (u < stayBound) {
      return cluster;
    }
    if (u < jumpBound) {
      return drawCluster(rng.nextLong());
    }
    int at = cluster * blockSize + SUCCESSORS;
    for (int k = 0; k < fanOut; k++) {
      if (u < successorBound[k]) {
        return table[at + k];
      }
    }
    return cluster; // a single cluster has no successors
  }

  /**
   * An item of {@code cluster} drawn by weight, different from {@code previous}: exactly the
   * cluster's distribution conditioned on not being {@code previous} (after the head, the tail
   * table; after a tail item, rejection, which is rare because tail items are light).
   */
  int drawItem(int cluster, int previous, SplitMix64 rng) {
    int block = cluster * blockSize;
    // The tail size is computed, not loaded, so the slot's address does not wait for the header.
    int tailSize = baseTail + (cluster < extraClusters ? 1 : 0);
    int head = table[block + HEAD_ITEM];
    int sameAsHead = ((previous ^ head) - 1) >> 31; // -1 when previous is the head (ids > 0)
    int headThreshold = table[block + HEAD_THRESHOLD] | sameAsHead; // -1: never the head
    int tail = block + tailOffset;
    for (int attempt = 0; attempt < MAX_REDRAWS; attempt++) {
      // Branch-free on purpose: the block is usually a cache miss, and a branch on what it holds
      // (head or tail? own or alias?) mispredicts often and makes each draw wait for its miss.
      long pick = rng.nextLong();
      long r = rng.nextLong();
      int at = tail + 3 * (int) (((r >>> 32) * tailSize) >>> 32);
      int own = table[at + 1];
      int useAlias = (table[at] - ((int) r & ALWAYS)) >> 31; // -1 when the draw is above
      int item = own ^ ((own ^ table[at + 2]) & useAlias);
      int useHead = ~((headThreshold - ((int) pick & ALWAYS)) >> 31); // -1 when head is drawn
      item ^= (item ^ head) & useHead;
      if (item != previous) {
        return item;
      }
    }
    return head; // only reachable when previous is a tail item, so the head differs
  }

  /** The successor clusters of {@code cluster}, most likely first (tests and diagnostics). */
  int[] successors(int cluster) {
    int at = cluster * blockSize + SUCCESSORS;
    return Arrays.copyOfRange(table, at, at + fanOut);
  }

  /** The 1-based items of {@code cluster}, head first (tests and diagnostics). */
  int[] clusterItems(int cluster) {
    int block = cluster * blockSize;
    int[] items = new int[1 + table[block + TAIL_SIZE]];
    items[0] = table[block + HEAD_ITEM];
    for (int k = 1; k < items.length; k++) {
      items[k] = table[block + tailOffset + 3 * (k - 1) + 1];
    }
    return items;
  }
}
