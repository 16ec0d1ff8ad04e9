package org.recjpq.util;

import java.lang.management.ManagementFactory;
import java.lang.management.MemoryPoolMXBean;
import java.lang.management.MemoryType;

/**
 * Peak heap use over a stretch of work: {@link #start()} resets the JVM's per-pool peak counters,
 * {@link #peakBytes()} sums the heap pools' peaks since. The sum of per-pool peaks can exceed the
 * true simultaneous peak a little (pools peak at different moments), so it is an upper bound.
 */
public final class PeakHeap {
  private PeakHeap() {}

  /** Resets the peak counters of every heap pool. */
  public static void start() {
    for (MemoryPoolMXBean pool : ManagementFactory.getMemoryPoolMXBeans()) {
      if (pool.getType() == MemoryType.HEAP && pool.isValid()) {
        pool.resetPeakUsage();
      }
    }
  }

  /** Sum of the heap pools' peak use since {@link #start()} (or since the JVM started). */
  public static long peakBytes() {
    long sum = 0;
    for (MemoryPoolMXBean pool : ManagementFactory.getMemoryPoolMXBeans()) {
      if (pool.getType() == MemoryType.HEAP && pool.isValid() && pool.getPeakUsage() != null) {
        sum += pool.getPeakUsage().getUsed();
      }
    }
    return sum;
  }

  /**
   * Off-heap memory held now by direct buffers (the engine's parameters, optimizer state and
   * activation arenas live there), from the JVM's "direct" buffer pool.
   */
  public static long directBytes() {
    for (java.lang.management.BufferPoolMXBean b :
        ManagementFactory.getPlatformMXBeans(java.lang.management.BufferPoolMXBean.class)) {
      if ("direct".equals(b.getName())) {
        return b.getMemoryUsed();
      }
    }
    return -1;
  }
}
