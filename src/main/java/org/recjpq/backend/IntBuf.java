package org.recjpq.backend;

/** A handle on {@code size()} int32 elements of engine memory (item ids, targets, negatives). */
public interface IntBuf {
  long size();

  /** A view of {@code [offset, offset + length)}. */
  IntBuf slice(long offset, long length);
}
