package org.recjpq.backend;

/** Point-wise activations of the feed-forward layers. */
public enum Activation {
  /** max(u, 0); derivative 1 where u > 0, else 0. */
  RELU,
  /** Exact GELU, 0.5 u (1 + erf(u / sqrt 2)); derivative Phi(u) + u phi(u) (not the tanh form). */
  GELU
}
