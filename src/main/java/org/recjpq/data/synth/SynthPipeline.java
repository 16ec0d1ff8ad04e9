package org.recjpq.data.synth;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedByInterruptException;
import java.nio.channels.FileChannel;
import java.util.ArrayDeque;
import java.util.Arrays;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.recjpq.util.Progress;

/**
 * Turns the configuration into interactions, in output order, for one run: to a file (one thread or
 * many) or to a {@link PairSink}. All paths walk the same users with the same {@link UserWalk}, so
 * they produce the same interactions.
 *
 * <p>Users are taken in order in batches of at most {@code chunkInteractions}; a batch is walked
 * into an int array first and formatted after. Keeping the two apart is worth about 1.5x: the walk
 * waits on random memory reads, and interleaving it with the many byte stores of formatting leaves
 * the processor less room to overlap those reads. A user longer than a batch is walked and emitted
 * piece by piece on the calling thread, so memory stays bounded whatever the lengths.
 *
 * <p>Not thread-safe itself: its methods run on the calling thread, which alone touches the
 * lengths, the statistics and the output; worker threads only fill and format their own batch.
 */
final class SynthPipeline {
  private final SynthConfig config;
  private final SynthWorld world;
  private final int chunkInteractions;
  private final int maxLine;
  private final UserLengths lengths;
  final ItemsSeen seen;
  long minLength = Long.MAX_VALUE;
  long maxLength;
  long written;
  long bytes;
  private long reported;

  SynthPipeline(SynthConfig config, SynthWorld world, int chunkInteractions) {
    this.config = config;
    this.world = world;
    this.chunkInteractions = Math.max(1, chunkInteractions);
    this.maxLine = LineFormatter.maxLineBytes(config.users(), config.items());
    this.lengths = new UserLengths(config);
    this.seen = new ItemsSeen(config.items());
  }

  /** Consecutive 0-based users {@code first..first + count - 1} and their lengths. */
  private record Batch(int first, int count, int[] lengths, int interactions) {}

  /** Formatted text of one batch. */
  private record Text(byte[] buffer, int size, int interactions) {}

  /** Reusable arrays of one batch in flight. */
  private static final class Buffers {
    final int[] items;
    final byte[] text;

    Buffers(int interactions, int maxLine) {
      items = new int[interactions];
      text = new byte[Math.multiplyExact(interactions, maxLine)];
    }
  }

  /** The next batch, or null when the next user is longer than a batch (or none is left). */
  private Batch nextBatch() {
    if (!lengths.hasNext() || lengths.peek() > chunkInteractions) {
      return null;
    }
    int first = lengths.nextUser();
    int[] batchLengths = new int[16];
    int count = 0;
    long total = 0;
    while (lengths.hasNext() && total + lengths.peek() <= chunkInteractions) {
      long length = lengths.next();
      if (count == batchLengths.length) {
        batchLengths = Arrays.copyOf(batchLengths, 2 * count);
      }
      batchLengths[count++] = (int) length;
      total += length;
      recordLength(length);
    }
    return new Batch(first, count, batchLengths, (int) total);
  }

  private void recordLength(long length) {
    minLength = Math.min(minLength, length);
    maxLength = Math.max(maxLength, length);
  }

  /** Walks every user of the batch into {@code items}, user after user. */
  private void walk(Batch batch, UserWalk walk, int[] items) {
    int p = 0;
    for (int i = 0; i < batch.count(); i++) {
      walk.start(batch.first() + i);
      for (int end = p + batch.lengths()[i]; p < end; p++) {
        items[p] = walk.next();
      }
    }
  }

  /** Walks and formats a batch (any thread); marks the items seen. */
  private Text format(Batch batch, Buffers buffers, boolean concurrent) {
    int[] items = buffers.items;
    walk(batch, new UserWalk(world, config.seed()), items);
    LineFormatter out = new LineFormatter(buffers.text);
    int p = 0;
    for (int i = 0; i < batch.count(); i++) {
      out.user(batch.first() + i + 1);
      for (int end = p + batch.lengths()[i]; p < end; p++) {
        int item = items[p];
        if (concurrent) {
          seen.markConcurrently(item);
        } else {
          seen.mark(item);
        }
        out.line(item);
      }
    }
    return new Text(buffers.text, out.position, batch.interactions());
  }

  /** Calls the sink for every interaction (calling thread only). */
  void toSink(PairSink sink) {
    int[] items = new int[chunkInteractions];
    UserWalk walk = new UserWalk(world, config.seed());
    while (lengths.hasNext()) {
      Batch batch = nextBatch();
      if (batch == null) {
        int user = lengths.nextUser();
        long length = lengths.next();
        recordLength(length);
        walk.start(user);
        for (long done = 0; done < length; ) {
          int piece = (int) Math.min(items.length, length - done);
          for (int t = 0; t < piece; t++) {
            items[t] = walk.next();
          }
          emit(user, items, 0, piece, sink);
          done += piece;
        }
        continue;
      }
      walk(batch, walk, items);
      int p = 0;
      for (int i = 0; i < batch.count(); i++) {
        int length = batch.lengths()[i];
        emit(batch.first() + i, items, p, length, sink);
        p += length;
      }
    }
  }

  private void emit(int user, int[] items, int from, int count, PairSink sink) {
    for (int t = from; t < from + count; t++) {
      seen.mark(items[t]);
      sink.accept(user + 1, items[t]);
    }
    written += count;
  }

  /**
   * Writes every interaction to {@code channel}. With more than one thread, workers walk and format
   * batches while this thread writes them in user order, with at most {@code 2 * threads} batches
   * in flight.
   */
  void toChannel(FileChannel channel, Progress progress, int threads) throws IOException {
    int window = threads == 1 ? 1 : 2 * threads;
    Buffers[] buffers = new Buffers[window];
    ArrayDeque<Future<Text>> pending = new ArrayDeque<>();
    ExecutorService pool =
        threads == 1 ? null : Executors.newFixedThreadPool(threads, SynthPipeline::daemon);
    try {
      long submitted = 0;
      while (true) {
        Batch batch;
        while (pending.size() < window && (batch = nextBatch()) != null) {
          int slot = (int) (submitted++ % window);
          if (buffers[slot] == null) {
            buffers[slot] = new Buffers(chunkInteractions, maxLine);
          }
          Buffers mine = buffers[slot];
          Batch task = batch;
          if (pool == null) {
            write(channel, progress, format(task, mine, false));
          } else {
            pending.add(pool.submit(() -> format(task, mine, true)));
          }
        }
        if (!pending.isEmpty()) {
          write(channel, progress, await(pending.poll()));
        } else if (lengths.hasNext()) {
          streamLongUser(channel, progress);
        } else {
          break;
        }
      }
    } finally {
      if (pool != null) {
        pool.shutdownNow();
      }
    }
  }

  /** Walks, formats and writes the next user piece by piece (it is longer than a batch). */
  private void streamLongUser(FileChannel channel, Progress progress) throws IOException {
    int user = lengths.nextUser();
    long length = lengths.next();
    recordLength(length);
    Buffers buffers = new Buffers(chunkInteractions, maxLine);
    UserWalk walk = new UserWalk(world, config.seed());
    walk.start(user);
    LineFormatter out = new LineFormatter(buffers.text);
    out.user(user + 1);
    for (long done = 0; done < length; ) {
      int piece = (int) Math.min(chunkInteractions, length - done);
      for (int t = 0; t < piece; t++) {
        buffers.items[t] = walk.next();
      }
      out.position = 0;
      for (int t = 0; t < piece; t++) {
        seen.mark(buffers.items[t]);
        out.line(buffers.items[t]);
      }
      write(channel, progress, new Text(buffers.text, out.position, piece));
      done += piece;
    }
  }

  /** Writes text and reports its interactions. */
  private void write(FileChannel channel, Progress progress, Text text) throws IOException {
    ByteBuffer data = ByteBuffer.wrap(text.buffer(), 0, text.size());
    while (data.hasRemaining()) {
      channel.write(data);
    }
    bytes += text.size();
    written += text.interactions();
    progress.step(written - reported);
    reported = written;
  }

  private static Text await(Future<Text> future) throws IOException {
    try {
      return future.get();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new ClosedByInterruptException();
    } catch (ExecutionException e) {
      Throwable cause = e.getCause();
      if (cause instanceof RuntimeException r) {
        throw r;
      }
      if (cause instanceof Error err) {
        throw err;
      }
      throw new IOException(cause);
    }
  }

  private static Thread daemon(Runnable task) {
    Thread thread = new Thread(task, "synth-worker");
    thread.setDaemon(true);
    return thread;
  }
}
