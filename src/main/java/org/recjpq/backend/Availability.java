package org.recjpq.backend;

import java.util.Objects;

/**
 * Whether an optional native engine (OpenBLAS, CUDA) can be used in this process, and why.
 *
 * <p>Engines report themselves through this record instead of throwing: a missing native library is
 * a normal condition (the library falls back to plain Java loops), and the description tells the
 * user exactly what was found or what is missing.
 *
 * @param available whether the engine loaded and can be used
 * @param description what was found when available (versions, devices), or the exact reason it is
 *     not (the underlying error message), as one or more full sentences
 */
public record Availability(boolean available, String description) {

  /** Validates the description. */
  public Availability {
    Objects.requireNonNull(description, "description");
    if (description.isBlank()) {
      throw new IllegalArgumentException("An availability report needs a non-empty description.");
    }
  }

  /** An available engine with what was found. */
  public static Availability yes(String description) {
    return new Availability(true, description);
  }

  /** An unavailable engine with the exact reason. */
  public static Availability no(String reason) {
    return new Availability(false, reason);
  }
}
