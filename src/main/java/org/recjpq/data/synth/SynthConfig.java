package org.recjpq.data.synth;

import org.recjpq.RecjpqException;

/**
 * Everything that determines a synthetic data set: the output depends on these values and on
 * nothing else (not on the thread count, the machine or the JVM).
 *
 * <p>The hidden process (see {@link SyntheticGenerator} for the full story):
 *
 * <ul>
 *   <li>Item {@code r}-th in a seeded random popularity order has Zipf weight {@code (r + 1)^-s}.
 *   <li>Items form {@code max(1, items / clusterSize)} clusters of equal size (within one). Each
 *       cluster receives one item from every popularity band of {@code clusters} consecutive ranks,
 *       so every cluster has a head item and a long tail. A cluster's mass is the sum of its items'
 *       weights.
 *   <li>Each cluster has {@code fanOut} distinct successor clusters, the k-th chosen with
 *       probability proportional to {@code successorDecay^k}: uniformly random clusters, or, with a
 *       {@code successorRadius} R &gt; 0, clusters within R steps on a ring of the cluster indices
 *       (a hidden one-dimensional geometry, as places have, which low-rank codes can capture).
 *   <li>A user starts in a cluster drawn by mass; before each later interaction the user stays
 *       (probability {@code stayProbability}), jumps to a cluster drawn by mass ({@code
 *       jumpProbability}) or moves to a successor (the rest). The item is then drawn from the
 *       cluster by weight, never the user's previous item.
 *   <li>User lengths are {@code minLength} plus a share of the remaining interactions proportional
 *       to a log-normal weight {@code exp(lengthSpread * N(0, 1))}; they sum to exactly {@code
 *       interactions}.
 * </ul>
 *
 * @param users number of users, ids 1..users, each with at least {@code minLength} interactions
 * @param items catalogue size, ids 1..items (rare items need not appear), 2..500,000,000
 * @param interactions exact number of {@code user item} lines
 * @param seed any value; equal configurations give byte-identical output
 * @param clusterSize average items per cluster (default 50), at least 2
 * @param fanOut successor clusters per cluster (default 4), 1..64
 * @param successorDecay ratio of successive successor probabilities (default 0.5), in (0, 1]
 * @param stayProbability chance of staying in the current cluster (default 0.6), in [0, 1)
 * @param jumpProbability chance of a random jump by cluster mass (default 0.02)
 * @param zipfExponent exponent s of the Zipf weights (default 1.0), in [0, 10]
 * @param minLength minimum interactions per user (default 5), at least 1
 * @param lengthSpread sigma of the log-normal user-length weights (default 1.0), in [0, 4]
 * @param successorRadius 0 (default): successors anywhere; R &gt; 0: successors among the 2R
 *     clusters within R ring steps (needs {@code 2R >= fanOut})
 */
public record SynthConfig(
    int users,
    int items,
    long interactions,
    long seed,
    int clusterSize,
    int fanOut,
    double successorDecay,
    double stayProbability,
    double jumpProbability,
    double zipfExponent,
    int minLength,
    double lengthSpread,
    int successorRadius) {

  public static final int DEFAULT_CLUSTER_SIZE = 50;
  public static final int DEFAULT_FAN_OUT = 4;
  public static final double DEFAULT_SUCCESSOR_DECAY = 0.5;
  public static final double DEFAULT_STAY_PROBABILITY = 0.6;
  public static final double DEFAULT_JUMP_PROBABILITY = 0.02;
  public static final double DEFAULT_ZIPF_EXPONENT = 1.0;
  public static final int DEFAULT_MIN_LENGTH = 5;
  public static final double DEFAULT_LENGTH_SPREAD = 1.0;
  static final int MAX_FAN_OUT = 64;

  /** The hidden structure keeps about 12 bytes per item in one Java array. */
  public static final int MAX_ITEMS = 500_000_000;

  /** A configuration with successors anywhere (radius 0). */
  public SynthConfig(
      int users,
      int items,
      long interactions,
      long seed,
      int clusterSize,
      int fanOut,
      double successorDecay,
      double stayProbability,
      double jumpProbability,
      double zipfExponent,
      int minLength,
      double lengthSpread) {
    this(
        users,
        items,
        interactions,
        seed,
        clusterSize,
        fanOut,
        successorDecay,
        stayProbability,
        jumpProbability,
        zipfExponent,
        minLength,
        lengthSpread,
        0);
  }

  /** Validates every field; messages say what was expected and what was found. */
  public SynthConfig {
    if (users < 1) {
      throw new RecjpqException("The number of users must be at least 1, but it is " + users + ".");
    }
    if (items < 2) {
      throw new RecjpqException(
          "The number of items must be at least 2 (a user never gets the same item twice in a"
              + " row), but it is "
              + items
              + ".");
    }
    if (items > MAX_ITEMS) {
      throw new RecjpqException(
          "The number of items must be at most " + MAX_ITEMS + ", but it is " + items + ".");
    }
    if (minLength < 1) {
      throw new RecjpqException(
          "The minimum user length must be at least 1 interaction, but it is " + minLength + ".");
    }
    long needed = (long) users * minLength;
    if (interactions < needed) {
      throw new RecjpqException(
          "The number of interactions ("
              + interactions
              + ") is too small: "
              + users
              + " users with at least "
              + minLength
              + " interactions each need at least "
              + needed
              + ". Raise the interactions or lower the users.");
    }
    if (clusterSize < 2) {
      throw new RecjpqException(
          "The cluster size must be at least 2 items, but it is " + clusterSize + ".");
    }
    if (fanOut < 1 || fanOut > MAX_FAN_OUT) {
      throw new RecjpqException(
          "The fan-out (successor clusters per cluster) must be between 1 and "
              + MAX_FAN_OUT
              + ", but it is "
              + fanOut
              + ".");
    }
    if (!(successorDecay > 0 && successorDecay <= 1)) {
      throw new RecjpqException(
          "The successor decay must be in (0, 1], but it is " + successorDecay + ".");
    }
    if (!(stayProbability >= 0 && stayProbability < 1)) {
      throw new RecjpqException(
          "The stay probability must be in [0, 1), but it is " + stayProbability + ".");
    }
    if (!(jumpProbability >= 0 && jumpProbability <= 1)) {
      throw new RecjpqException(
          "The jump probability must be in [0, 1], but it is " + jumpProbability + ".");
    }
    if (stayProbability + jumpProbability > 1) {
      throw new RecjpqException(
          "The stay and jump probabilities must sum to at most 1, but they sum to "
              + (stayProbability + jumpProbability)
              + ".");
    }
    if (!(zipfExponent >= 0 && zipfExponent <= 10)) {
      throw new RecjpqException(
          "The Zipf exponent must be in [0, 10], but it is " + zipfExponent + ".");
    }
    if (successorRadius < 0) {
      throw new RecjpqException(
          "The locality radius must be 0 (successors anywhere) or positive, but it is "
              + successorRadius
              + ".");
    }
    if (successorRadius > 0
        && 2L * successorRadius < Math.min(fanOut, Math.max(1, items / clusterSize) - 1)) {
      throw new RecjpqException(
          "The locality radius "
              + successorRadius
              + " offers "
              + 2L * successorRadius
              + " successor clusters, fewer than the fan-out "
              + fanOut
              + ": raise the radius to at least "
              + (fanOut + 1) / 2
              + ".");
    }
    if (!(lengthSpread >= 0 && lengthSpread <= 4)) {
      throw new RecjpqException(
          "The user-length spread (log-normal sigma) must be in [0, 4], but it is "
              + lengthSpread
              + ".");
    }
  }

  /** The documented defaults for every tunable. */
  public static SynthConfig defaults(int users, int items, long interactions, long seed) {
    return new SynthConfig(
        users,
        items,
        interactions,
        seed,
        DEFAULT_CLUSTER_SIZE,
        DEFAULT_FAN_OUT,
        DEFAULT_SUCCESSOR_DECAY,
        DEFAULT_STAY_PROBABILITY,
        DEFAULT_JUMP_PROBABILITY,
        DEFAULT_ZIPF_EXPONENT,
        DEFAULT_MIN_LENGTH,
        DEFAULT_LENGTH_SPREAD);
  }

  /** The number of clusters: {@code max(1, items / clusterSize)}. */
  public int clusters() {
    return Math.max(1, items / clusterSize);
  }

  /** This configuration with another locality radius (0: successors anywhere). */
  public SynthConfig withRadius(int radius) {
    return new SynthConfig(
        users,
        items,
        interactions,
        seed,
        clusterSize,
        fanOut,
        successorDecay,
        stayProbability,
        jumpProbability,
        zipfExponent,
        minLength,
        lengthSpread,
        radius);
  }

  /** This configuration with another seed. */
  public SynthConfig withSeed(long newSeed) {
    return new SynthConfig(
        users,
        items,
        interactions,
        newSeed,
        clusterSize,
        fanOut,
        successorDecay,
        stayProbability,
        jumpProbability,
        zipfExponent,
        minLength,
        lengthSpread,
        successorRadius);
  }
}
