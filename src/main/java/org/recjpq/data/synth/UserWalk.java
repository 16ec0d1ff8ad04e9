package org.recjpq.data.synth;

import org.recjpq.util.SplitMix64;

/**
 * One user's walk over the hidden cluster chain, emitting items. The walk of user u depends only on
 * (seed, u): its random stream is {@code SplitMix64.key(seed, STREAM_WALKS, u)}. Reused for many
 * users by one thread.
 */
final class UserWalk {
  private final SynthWorld world;
  private final long seed;
  private final SplitMix64 rng = new SplitMix64(0);
  private int cluster;
  private int previous;

  UserWalk(SynthWorld world, long seed) {
    this.world = world;
    this.seed = seed;
  }

  /** Starts the walk of 0-based user {@code user} in a cluster drawn by mass. */
  void start(int user) {
    rng.reset(SplitMix64.key(seed, SynthWorld.STREAM_WALKS, user));
    cluster = world.drawCluster(rng.nextLong());
    previous = 0;
  }

  /** The next 1-based item: move along the chain (except for the first item), then emit. */
  int next() {
    if (previous != 0) {
      cluster = world.nextCluster(cluster, rng);
    }
    previous = world.drawItem(cluster, previous, rng);
    return previous;
  }
}
