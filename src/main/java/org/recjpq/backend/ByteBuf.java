package org.recjpq.backend;

/** A handle on {@code size()} unsigned bytes of engine memory (RecJPQ codes). */
public interface ByteBuf {
  long size();
}
