package org.recjpq.backend;

/**
 * A handle on {@code size()} contiguous float32 elements of engine memory (host memory for the CPU
 * engine, device memory for the CUDA engine). Handles are views: {@link #slice} shares memory. Only
 * the engine that made a handle can use it.
 */
public interface Buf {
  /** Number of float elements. */
  long size();

  /** A view of {@code [offset, offset + length)} of this buffer. */
  Buf slice(long offset, long length);
}
