package org.recjpq.data.synth;

/** Receives generated interactions in output order (users ascending, each in time order). */
@FunctionalInterface
public interface PairSink {
  /** One interaction of 1-based {@code user} with 1-based {@code item}. */
  void accept(int user, int item);
}
