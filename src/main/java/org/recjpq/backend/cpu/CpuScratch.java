package org.recjpq.backend.cpu;

/**
 * Per-thread off-heap scratch that grows on demand and is kept, so that ops called every step do
 * not allocate direct memory each time (allocation and release of direct buffers is slow and leaves
 * it to the garbage collector). One instance per use site; a view is valid until the same thread
 * asks that site again.
 */
final class CpuScratch {
  private final ThreadLocal<CpuBuf[]> local = ThreadLocal.withInitial(() -> new CpuBuf[1]);

  /** The calling thread's buffer of at least {@code floats}, as a view of exactly that length. */
  CpuBuf get(long floats) {
    CpuBuf[] h = local.get();
    if (h[0] == null || h[0].size < floats) {
      h[0] = null; // let the old buffer go before allocating the new one
      h[0] = CpuBuf.allocate(Math.max(floats, 1024));
    }
    return h[0].slice(0, floats);
  }
}
