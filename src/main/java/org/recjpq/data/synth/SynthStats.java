package org.recjpq.data.synth;

import java.time.Duration;

/**
 * What a generator run produced.
 *
 * @param users users written (all of the configured users)
 * @param items catalogue size (ids 1..items)
 * @param interactions lines written
 * @param clusters hidden clusters
 * @param distinctItems items that occur at least once
 * @param minUserLength shortest user
 * @param maxUserLength longest user
 * @param bytes size of the output file (0 when generating in memory)
 * @param elapsed wall time, including building the hidden structure
 */
public record SynthStats(
    int users,
    int items,
    long interactions,
    int clusters,
    int distinctItems,
    long minUserLength,
    long maxUserLength,
    long bytes,
    Duration elapsed) {

  /** Interactions per second of wall time. */
  public double interactionsPerSecond() {
    double seconds = elapsed.toNanos() / 1e9;
    return seconds > 0 ? interactions / seconds : Double.POSITIVE_INFINITY;
  }
}
