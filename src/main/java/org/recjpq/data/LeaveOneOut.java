package org.recjpq.data;

import java.util.Arrays;
import java.util.SplittableRandom;
import org.recjpq.RecjpqException;
import org.recjpq.util.Sampling;

/**
 * The leave-one-out split (docs/method.md §7): a user's last item is the test target, the one
 * before it the validation target, the rest is training. At test time the model sees everything
 * before the test target (training + validation item); at validation time everything before the
 * validation target. Nothing is copied: a phase is a prefix length per user.
 */
public final class LeaveOneOut {
  /** Default number of validation users (the RecJPQ paper's 1,024). */
  public static final int DEFAULT_VALIDATION_USERS = 1024;

  /** Which target is held out. */
  public enum Phase {
    /** Target = second-to-last item; history = everything before it. */
    VALIDATION(2),
    /** Target = last item; history = everything before it. */
    TEST(1);

    private final int fromEnd;

    Phase(int fromEnd) {
      this.fromEnd = fromEnd;
    }

    /** Length of user {@code u}'s history in this phase (may be ≤ 0 for short users). */
    public int historyLength(SequenceDataset ds, int u) {
      return ds.length(u) - fromEnd;
    }

    /** The held-out item of user {@code u} (requires {@link #evaluable}). */
    public int target(SequenceDataset ds, int u) {
      return ds.item(u, ds.length(u) - fromEnd);
    }

    /** Whether user {@code u} has a target and at least one history item in this phase. */
    public boolean evaluable(SequenceDataset ds, int u) {
      return ds.length(u) >= fromEnd + 1;
    }
  }

  private LeaveOneOut() {}

  /** Every user that can be tested (≥ 2 interactions), ascending. */
  public static int[] testUsers(SequenceDataset ds) {
    return evaluableUsers(ds, Phase.TEST);
  }

  /** Users with a validation target (≥ 3 interactions), ascending. */
  public static int[] evaluableUsers(SequenceDataset ds, Phase phase) {
    int n = 0;
    int[] users = new int[ds.numUsers()];
    for (int u = 0; u < ds.numUsers(); u++) {
      if (phase.evaluable(ds, u)) {
        users[n++] = u;
      }
    }
    return Arrays.copyOf(users, n);
  }

  /**
   * A seeded sample of {@code count} validation users (all of them when {@code count} is -1 or at
   * least their number), ascending. The same seed always gives the same users.
   */
  public static int[] validationUsers(SequenceDataset ds, int count, long seed) {
    return sampleUsers(ds, Phase.VALIDATION, count, seed);
  }

  /**
   * A seeded sample of {@code count} users with a target in {@code phase} (all of them when {@code
   * count} is -1 or at least their number), ascending. The same seed always gives the same users.
   */
  public static int[] sampleUsers(SequenceDataset ds, Phase phase, int count, long seed) {
    String which = phase == Phase.VALIDATION ? "validation" : "test";
    if (count == 0 || count < -1) {
      throw new RecjpqException(
          "The number of " + which + " users must be positive or 'all', found " + count + ".");
    }
    int[] candidates = evaluableUsers(ds, phase);
    if (candidates.length == 0) {
      throw new RecjpqException(
          "No user has the "
              + (phase.fromEnd + 1)
              + " interactions a "
              + which
              + " target needs ("
              + ds
              + ").");
    }
    if (count == -1) {
      return candidates;
    }
    return Sampling.sortedSample(candidates, count, new SplittableRandom(seed)::nextInt);
  }
}
