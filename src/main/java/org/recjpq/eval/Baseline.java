package org.recjpq.eval;

import java.util.Arrays;
import java.util.stream.Collectors;
import org.recjpq.UsageException;
import org.recjpq.data.LeaveOneOut.Phase;
import org.recjpq.data.SequenceDataset;

/** The non-neural models, fitted in a moment from the training part of a dataset. */
public enum Baseline {
  /** Items by training popularity ({@link MostPopular}). */
  MOSTPOP("mostpop"),
  /** First-order item transitions, popularity for ties ({@link MarkovChain}). */
  MARKOV("markov");

  private final String cliName;

  Baseline(String cliName) {
    this.cliName = cliName;
  }

  public String cliName() {
    return cliName;
  }

  /** Fits the model on the histories of {@code phase} (never on its targets). */
  public Scorer fit(SequenceDataset ds, Phase phase) {
    return switch (this) {
      case MOSTPOP -> MostPopular.fit(ds, phase);
      case MARKOV -> MarkovChain.fit(ds, phase);
    };
  }

  /** Looks a baseline up by its command-line name. */
  public static Baseline fromCliName(String name) {
    for (Baseline b : values()) {
      if (b.cliName.equalsIgnoreCase(name)) {
        return b;
      }
    }
    throw new UsageException(
        "Unknown model '" + org.recjpq.util.Excerpt.of(name) + "'. Known models: " + names() + ".");
  }

  public static String names() {
    return Arrays.stream(values()).map(Baseline::cliName).collect(Collectors.joining(", "));
  }
}
