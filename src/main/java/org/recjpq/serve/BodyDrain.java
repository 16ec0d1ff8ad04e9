package org.recjpq.serve;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.io.Content;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;

/**
 * Reads and throws away the rest of a request body that is refused (413), without holding a thread.
 *
 * <p>A client that sends its whole body before it reads the answer (most HTTP clients do) would
 * otherwise find the connection reset: closing a socket with unread bytes makes TCP discard the
 * answer already sent. Reading the rest first lets the answer arrive, and when the body ends the
 * connection can even be kept. Bodies longer than the cap are not read; they are answered at once
 * and the connection is closed.
 */
final class BodyDrain implements Runnable {
  /** The most bytes read and discarded from one refused body. */
  static final long CAP = 16L << 20;

  private final Content.Source source;
  private final long cap;
  private final CompletableFuture<Boolean> done = new CompletableFuture<>();
  private long seen;

  private BodyDrain(Content.Source source, long cap) {
    this.source = source;
    this.cap = cap;
  }

  /**
   * Runs {@code answer} (which refuses the body) once the rest of the body has been read, within
   * {@code timeoutMs}, when {@code drain}, or at once otherwise. The connection is kept only when
   * the body was read to its end.
   */
  static void refuse(
      Request request, Response response, boolean drain, long timeoutMs, Runnable answer) {
    if (!drain) {
      response.getHeaders().put(HttpHeader.CONNECTION, "close");
      answer.run();
      return;
    }
    discard(request, CAP)
        .orTimeout(timeoutMs, TimeUnit.MILLISECONDS)
        .handle(
            (ended, failure) -> {
              if (failure != null || !ended) {
                response.getHeaders().put(HttpHeader.CONNECTION, "close");
              }
              answer.run();
              return null;
            });
  }

  /**
   * Starts discarding {@code source}; the future holds true when the body ended within {@code cap}
   * bytes, false when it is longer or failed.
   */
  static CompletableFuture<Boolean> discard(Content.Source source, long cap) {
    BodyDrain d = new BodyDrain(source, cap);
    d.run();
    return d.done;
  }

  @Override
  public void run() {
    while (!done.isDone()) {
      Content.Chunk chunk = source.read();
      if (chunk == null) {
        source.demand(this);
        return;
      }
      if (Content.Chunk.isFailure(chunk)) {
        done.complete(false);
        return;
      }
      seen += chunk.remaining();
      boolean last = chunk.isLast();
      chunk.release();
      if (last) {
        done.complete(true);
      } else if (seen > cap) {
        done.complete(false);
      }
    }
  }
}
