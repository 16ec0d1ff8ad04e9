package org.recjpq.model;

import org.recjpq.backend.Buf;
import org.recjpq.backend.Ops;

/**
 * Activation memory: one buffer, handed out front to back ({@link #take}), sized once for a (batch,
 * length) and reused every step. {@link #reset} rewinds it; nothing is freed one by one.
 */
public final class Arena {
  private final Buf memory;
  private long used;

  public Arena(Ops ops, long floats) {
    this.memory = ops.alloc(Math.max(1, floats));
  }

  /** The next {@code n} floats (not cleared). */
  public Buf take(long n) {
    if (used + n > memory.size()) {
      throw new IllegalStateException(
          "arena of " + memory.size() + " floats exhausted asking for " + n + " more");
    }
    Buf b = memory.slice(used, n);
    used += n;
    return b;
  }

  /** Floats handed out since the last reset. */
  public long used() {
    return used;
  }

  public long capacity() {
    return memory.size();
  }

  public void reset() {
    used = 0;
  }
}
