package org.recjpq.data.synth;

import org.recjpq.util.SplitMix64;

/**
 * The number of interactions of each user, in user order, without storing them: user u gets {@code
 * minLength} plus its share of the remaining interactions, proportional to a log-normal weight
 * {@code exp(sigma * N(0, 1))} drawn from the user's own random stream.
 *
 * <p>Shares are rounded cumulatively ({@code round(extra * W_u / W)} minus the same for the
 * previous user, W_u the running weight total), so lengths never go below the minimum and sum to
 * exactly the configured interactions; the last user takes whatever rounding left. The total W is
 * one pass over the users up front; everything is serial, so the lengths depend only on the
 * configuration. StrictMath keeps the arithmetic identical on every JVM.
 */
final class UserLengths {
  private final long seed;
  private final double sigma;
  private final int users;
  private final long minLength;
  private final long extra;
  private final double total;

  private int user;
  private double cumulative;
  private long allocated;
  private long peeked = -1;

  UserLengths(SynthConfig config) {
    seed = config.seed();
    sigma = config.lengthSpread();
    users = config.users();
    minLength = config.minLength();
    extra = config.interactions() - (long) users * minLength;
    double sum = 0;
    for (int u = 0; u < users; u++) {
      sum += weight(u);
    }
    total = sum;
  }

  /** The log-normal weight of user {@code u} (Box-Muller on the user's stream). */
  double weight(int u) {
    if (sigma == 0) {
      return 1.0;
    }
    SplitMix64 rng = SplitMix64.keyed(seed, SynthWorld.STREAM_LENGTHS, u);
    double u1 = ((rng.nextLong() >>> 11) + 1) * 0x1.0p-53; // (0, 1]
    double u2 = rng.nextDouble();
    double gaussian = StrictMath.sqrt(-2.0 * StrictMath.log(u1)) * StrictMath.cos(2 * Math.PI * u2);
    return StrictMath.exp(sigma * gaussian);
  }

  /** Whether users remain. */
  boolean hasNext() {
    return user < users;
  }

  /** The 0-based index of the next user. */
  int nextUser() {
    return user;
  }

  /** The length of the next user, without moving on. */
  long peek() {
    if (peeked < 0) {
      cumulative += weight(user);
      long target;
      if (user == users - 1) {
        target = extra;
      } else {
        target = Math.round(extra * (cumulative / total));
        target = Math.max(allocated, Math.min(extra, target));
      }
      peeked = minLength + (target - allocated);
      allocated = target;
    }
    return peeked;
  }

  /** The length of the next user; moves on. */
  long next() {
    long length = peek();
    peeked = -1;
    user++;
    return length;
  }
}
