package org.recjpq.codes;

import java.util.Arrays;
import java.util.Locale;
import java.util.stream.Collectors;
import org.recjpq.RecjpqException;

/** How codes are assigned (METHOD §3). */
public enum CodeStrategy {
  /** Buckets of the top-m right singular vectors of the user × item matrix (the default). */
  SVD,
  /** Buckets of the m item factors of a BPR matrix factorisation. */
  BPR,
  /** Uniform random sub-ids. */
  RANDOM;

  /** The command-line name: svd, bpr, random. */
  public String cliName() {
    return name().toLowerCase(Locale.ROOT);
  }

  public static CodeStrategy fromCliName(String name) {
    for (CodeStrategy s : values()) {
      if (s.cliName().equalsIgnoreCase(name)) {
        return s;
      }
    }
    throw new RecjpqException(
        "Unknown code strategy '" + name + "'. Known strategies: "
            + Arrays.stream(values()).map(CodeStrategy::cliName).collect(Collectors.joining(", ")) + ".");
  }
}
