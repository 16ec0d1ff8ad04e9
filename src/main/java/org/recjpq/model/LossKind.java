package org.recjpq.model;

import java.util.Locale;
import org.recjpq.UsageException;

/** Training losses (docs/method.md §5). */
public enum LossKind {
  /** Exact softmax cross-entropy over all N items (tiled, never rows × N logits). */
  CE,
  /** Binary cross-entropy with n uniform negatives (SASRec: n = 1). */
  BCE,
  /** gSASRec's gBCE: n negatives, calibration t (default 0.75, n = 256). */
  GBCE,
  /** Sampled softmax with n uniform negatives and logQ correction. */
  SAMPLED_SOFTMAX;

  public String cliName() {
    return name().toLowerCase(Locale.ROOT).replace('_', '-');
  }

  public static LossKind fromCliName(String s) {
    for (LossKind k : values()) {
      if (k.cliName().equalsIgnoreCase(s)) {
        return k;
      }
    }
    throw new UsageException(
        "Unknown loss '"
            + org.recjpq.util.Excerpt.of(s)
            + "'. Known losses: ce, bce, gbce, sampled-softmax.");
  }

  /** Whether the loss scores sampled negatives rather than the whole catalogue. */
  public boolean sampled() {
    return this != CE;
  }

  /**
   * gSASRec's β for n negatives over N items and calibration t: {@code α = n/(N-1)}, {@code β = α
   * (t (1 - 1/α) + 1/α)}; t = 0 gives β = 1 (plain BCE).
   */
  public static float gbceBeta(int negatives, int numItems, double t) {
    double alpha = negatives / (double) (numItems - 1);
    return (float) (alpha * (t * (1 - 1 / alpha) + 1 / alpha));
  }
}
