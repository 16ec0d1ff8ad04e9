package org.recjpq.util;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Data-parallel loops over index ranges on a shared pool of daemon threads.
 *
 * <p>The range is cut into fixed chunks that threads claim one after another. Which thread runs a
 * chunk varies; the chunks do not. Code whose every output element is written by one chunk, with a
 * fixed order of operations inside it, gives the same bits whatever the number of threads.
 */
public final class Parallel {
  private static final ExecutorService POOL =
      Executors.newCachedThreadPool(
          r -> {
            Thread t = new Thread(r, "recjpq-worker");
            t.setDaemon(true);
            return t;
          });

  private Parallel() {}

  /** The body of a loop over {@code [from, to)}. */
  @FunctionalInterface
  public interface RangeBody {
    void run(int from, int to);
  }

  /**
   * Runs {@code body} over {@code [0, n)} in chunks of {@code grain} indices on up to {@code
   * threads} threads (the calling thread is one of them). Exceptions propagate.
   */
  public static void forRange(int n, int threads, int grain, RangeBody body) {
    if (n <= 0) {
      return;
    }
    int chunk = Math.max(1, grain);
    int chunks = (int) ((n + (long) chunk - 1) / chunk);
    int workers = Math.max(1, Math.min(threads, chunks));
    AtomicInteger next = new AtomicInteger();
    Runnable worker =
        () -> {
          for (int c = next.getAndIncrement(); c < chunks; c = next.getAndIncrement()) {
            int from = c * chunk;
            body.run(from, (int) Math.min(n, (long) from + chunk));
          }
        };
    if (workers == 1) {
      worker.run();
      return;
    }
    List<Future<?>> futures = new ArrayList<>();
    for (int w = 1; w < workers; w++) {
      futures.add(POOL.submit(worker));
    }
    Throwable failure = null;
    try {
      worker.run();
    } catch (RuntimeException | Error e) {
      failure = e;
      next.set(chunks); // stop the others early
    }
    for (Future<?> f : futures) {
      try {
        f.get();
      } catch (ExecutionException e) {
        if (failure == null) {
          failure = e.getCause();
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        if (failure == null) {
          failure = e;
        }
      }
    }
    if (failure instanceof RuntimeException re) {
      throw re;
    }
    if (failure instanceof Error err) {
      throw err;
    }
    if (failure != null) {
      throw new IllegalStateException("parallel loop failed", failure);
    }
  }

  /** {@link #forRange} with about four chunks a thread. */
  public static void forRange(int n, int threads, RangeBody body) {
    forRange(n, threads, Math.max(1, n / Math.max(1, 4 * threads)), body);
  }
}
