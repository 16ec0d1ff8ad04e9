package org.recjpq.serve;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.net.BindException;
import java.nio.ByteBuffer;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import org.eclipse.jetty.http.HttpField;
import org.eclipse.jetty.http.HttpFields;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.http.HttpStatus;
import org.eclipse.jetty.io.Connection;
import org.eclipse.jetty.io.Content;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.HttpConfiguration;
import org.eclipse.jetty.server.HttpConnectionFactory;
import org.eclipse.jetty.server.NetworkConnectionLimit;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.server.handler.ErrorHandler;
import org.eclipse.jetty.server.handler.GracefulHandler;
import org.eclipse.jetty.util.Callback;
import org.eclipse.jetty.util.thread.QueuedThreadPool;
import org.recjpq.util.Excerpt;

/**
 * HTTP/JSON front of a {@link Recommender}, on an embedded Jetty server.
 *
 * <ul>
 *   <li>{@code POST /recommend} {@code {"history": ["i1", ...], "k": 10, "filter_seen": true,
 *       "exclude": [...], "allow": [...]}} → {@code {"items": [...], "scores": [...], "unknown":
 *       [...], "source": "model", "backbone_ms": .., "scoring_ms": ..}}; or {@code {"histories":
 *       [[...], ...], ...}} → {@code {"results": [...]}} through the batch path.
 *   <li>{@code GET /health} → {@code {"status": "ok"}}; {@code GET /info} → the model, scorer,
 *       limits, counters, heap in use, and a few example item ids.
 * </ul>
 *
 * <p>Every answer, errors included, is JSON: {@code {"error": "..."}} with 400 (malformed JSON,
 * trailing data, duplicate keys, wrong types, unknown fields, k or lengths out of bounds), 404,
 * 405, 408 (the request was not received within {@link Limits#requestTimeoutMs}), 413 (body over
 * {@link Limits#maxBodyBytes}), 431 (headers over {@link Limits#maxHeaderBytes}), 500 and 503.
 *
 * <p>Connections are read without blocking a thread, so clients that send half a request and stall
 * hold no thread: a connection silent for {@link Limits#idleTimeoutMs} is closed, and one whose
 * first request is not complete (headers and body) after {@link Limits#requestTimeoutMs} is closed
 * or answered 408, however slowly it trickles bytes. At most {@link Limits#maxConnections}
 * connections are open at once (further ones wait in the accept queue). The model runs on a fixed
 * pool of {@code threads} threads. {@link #close} stops accepting, lets requests in flight finish
 * (up to a grace period) and shuts the pools down.
 */
public final class HttpService implements AutoCloseable {
  /**
   * Request bounds and timeouts.
   *
   * @param maxBodyBytes largest request body (413 above)
   * @param maxHistory longest history or id list in a request
   * @param maxK largest k
   * @param maxBatch most histories in one request
   * @param maxHeaderBytes largest request line and headers (431 above)
   * @param maxConnections most connections open at once
   * @param idleTimeoutMs a connection that sends or accepts nothing for this long is closed
   * @param requestTimeoutMs a request must be received whole (headers and body) within this time
   */
  public record Limits(
      int maxBodyBytes,
      int maxHistory,
      int maxK,
      int maxBatch,
      int maxHeaderBytes,
      int maxConnections,
      long idleTimeoutMs,
      long requestTimeoutMs) {
    public Limits {
      if (maxBodyBytes < 1
          || maxHistory < 1
          || maxK < 1
          || maxBatch < 1
          || maxHeaderBytes < 256
          || maxConnections < 1
          || idleTimeoutMs < 1
          || requestTimeoutMs < 1) {
        throw new IllegalArgumentException(
            "HTTP limits must be positive (headers at least 256 bytes): " + this);
      }
    }

    /** The given request bounds with the default header, connection and timeout limits. */
    public Limits(int maxBodyBytes, int maxHistory, int maxK, int maxBatch) {
      this(maxBodyBytes, maxHistory, maxK, maxBatch, 8192, 1024, 30_000, 20_000);
    }

    public static Limits defaults() {
      return new Limits(1 << 20, 10_000, 1_000, 256);
    }

    /** These limits with other timeouts. */
    public Limits withTimeouts(long idleMs, long requestMs) {
      return new Limits(
          maxBodyBytes,
          maxHistory,
          maxK,
          maxBatch,
          maxHeaderBytes,
          maxConnections,
          idleMs,
          requestMs);
    }

    /** These limits with another header size and connection cap. */
    public Limits withConnections(int headerBytes, int connections) {
      return new Limits(
          maxBodyBytes,
          maxHistory,
          maxK,
          maxBatch,
          headerBytes,
          connections,
          idleTimeoutMs,
          requestTimeoutMs);
    }
  }

  private static final ObjectMapper JSON = RecommendProtocol.JSON;
  private static final String JSON_TYPE = "application/json; charset=utf-8";
  private final Recommender rec;
  private final Limits limits;
  private final RecommendProtocol protocol;
  private final Server server;
  private final ServerConnector connector;
  private final ExecutorService pool;
  private final ScheduledThreadPoolExecutor deadlines;
  private final AtomicLong ok = new AtomicLong();
  private final AtomicLong bad = new AtomicLong();
  private final AtomicLong failed = new AtomicLong();
  private final AtomicLong timedOut = new AtomicLong();

  /**
   * Binds {@code host:port} (port 0: any free port) and starts serving on {@code threads} threads.
   */
  public HttpService(Recommender rec, String host, int port, int threads, Limits limits)
      throws IOException {
    if (threads < 1) {
      throw new IllegalArgumentException("threads must be at least 1, got " + threads);
    }
    this.rec = java.util.Objects.requireNonNull(rec, "rec");
    this.limits = java.util.Objects.requireNonNull(limits, "limits");
    this.protocol = new RecommendProtocol(rec, limits);
    pool = Executors.newFixedThreadPool(threads, daemon("recjpq-http"));
    deadlines = new ScheduledThreadPoolExecutor(1, daemon("recjpq-http-deadlines"));
    deadlines.setRemoveOnCancelPolicy(true);
    // Jetty's own threads only parse and write (never blocked by a slow client); the model runs on
    // pool
    QueuedThreadPool io = new QueuedThreadPool(16, 2);
    io.setName("recjpq-http-io");
    io.setDaemon(true);
    server = new Server(io);
    HttpConfiguration hc = new HttpConfiguration();
    hc.setRequestHeaderSize(limits.maxHeaderBytes());
    hc.setSendServerVersion(false);
    hc.setSendXPoweredBy(false);
    connector = new ServerConnector(server, 1, 1, new HttpConnectionFactory(hc));
    connector.setHost(host);
    connector.setPort(port);
    connector.setIdleTimeout(limits.idleTimeoutMs());
    connector.addEventListener(
        new Connection.Listener() {
          @Override
          public void onOpened(Connection c) {
            try {
              deadlines.schedule(
                  () -> { // the first request's headers must have come by the deadline
                    if (c.getMessagesIn() == 0 && c.getEndPoint().isOpen()) {
                      timedOut.incrementAndGet();
                      c.getEndPoint().close();
                    }
                  },
                  limits.requestTimeoutMs(),
                  TimeUnit.MILLISECONDS);
            } catch (RejectedExecutionException stopping) {
              c.getEndPoint().close();
            }
          }
          // onClosed: nothing to release, the deadline task finds the connection closed
        });
    server.addConnector(connector);
    server.addBean(new NetworkConnectionLimit(limits.maxConnections(), server));
    server.setErrorHandler(new JsonErrors());
    GracefulHandler graceful = new GracefulHandler();
    graceful.setHandler(
        new Handler.Abstract.NonBlocking() {
          @Override
          public boolean handle(Request request, Response response, Callback callback) {
            dispatch(request, response, callback);
            return true;
          }
        });
    server.setHandler(graceful);
    try {
      server.start();
    } catch (Exception e) {
      shutDownPools();
      try {
        server.stop();
      } catch (Exception ignored) {
        // it did not start
      }
      for (Throwable t = e; t != null; t = t.getCause()) {
        if (t instanceof BindException b) {
          throw b;
        }
      }
      throw e instanceof IOException io2
          ? io2
          : new IOException("The HTTP server did not start: " + e, e);
    }
  }

  private static java.util.concurrent.ThreadFactory daemon(String name) {
    return r -> {
      Thread t = new Thread(r, name);
      t.setDaemon(true);
      return t;
    };
  }

  /** The bound port. */
  public int port() {
    return connector.getLocalPort();
  }

  /** The limits in force. */
  public Limits limits() {
    return limits;
  }

  private void dispatch(Request request, Response response, Callback callback) {
    String path = request.getHttpURI().getPath();
    String method = request.getMethod();
    try {
      switch (path == null ? "" : path) {
        case "/health" -> {
          if (requireMethod(response, callback, method, "GET")) {
            send(response, callback, 200, JSON.createObjectNode().put("status", "ok"));
          }
        }
        case "/info" -> {
          if (requireMethod(response, callback, method, "GET")) {
            send(response, callback, 200, info());
          }
        }
        case "/recommend" -> {
          if (requireMethod(response, callback, method, "POST")) {
            recommend(request, response, callback);
          }
        }
        default ->
            error(
                response,
                callback,
                404,
                "No such endpoint: "
                    + Excerpt.of(path)
                    + ". Endpoints: POST /recommend, GET /health, GET /info.");
      }
    } catch (RuntimeException e) {
      failed.incrementAndGet();
      error(response, callback, 500, "Internal error: " + Excerpt.of(String.valueOf(e)));
    }
  }

  private boolean requireMethod(Response response, Callback callback, String method, String want) {
    if (!want.equals(method)) {
      response.getHeaders().put(HttpHeader.ALLOW, want);
      error(
          response, callback, 405, Excerpt.of(method) + " is not allowed here; use " + want + ".");
      return false;
    }
    return true;
  }

  private String tooLarge() {
    return "The request body exceeds " + limits.maxBodyBytes() + " bytes.";
  }

  /**
   * Reads the body without holding a thread, with the request deadline; then answers on the model's
   * pool.
   */
  private void recommend(Request request, Response response, Callback callback) {
    if (request.getLength() > limits.maxBodyBytes()) {
      bad.incrementAndGet();
      refuseBody(request, response, callback, request.getLength() <= BodyDrain.CAP);
      return;
    }
    CompletableFuture<byte[]> body =
        Content.Source.asByteArrayAsync(request, limits.maxBodyBytes() + 1)
            .orTimeout(limits.requestTimeoutMs(), TimeUnit.MILLISECONDS);
    body.handle(
        (data, failure) -> {
          if (failure != null) {
            Throwable cause =
                failure instanceof CompletionException && failure.getCause() != null
                    ? failure.getCause()
                    : failure;
            if (cause instanceof TimeoutException) {
              timedOut.incrementAndGet();
              response.getHeaders().put(HttpHeader.CONNECTION, "close");
              error(
                  response,
                  callback,
                  408,
                  "The request body did not arrive within " + limits.requestTimeoutMs() + " ms.");
            } else if (cause instanceof IllegalArgumentException
                || cause instanceof IllegalStateException) {
              bad.incrementAndGet(); // over the size limit
              refuseBody(request, response, callback, true);
            } else {
              callback.failed(cause); // the client has gone
            }
            return null;
          }
          if (data.length > limits.maxBodyBytes()) {
            bad.incrementAndGet();
            error(response, callback, 413, tooLarge());
            return null;
          }
          try {
            pool.execute(() -> answer(data, response, callback));
          } catch (RejectedExecutionException e) {
            error(response, callback, 503, "The server is stopping.");
          }
          return null;
        });
  }

  /** Answers 413 to a body over the limit, after {@link BodyDrain#refuse}. */
  private void refuseBody(Request request, Response response, Callback callback, boolean drain) {
    BodyDrain.refuse(
        request,
        response,
        drain,
        limits.requestTimeoutMs(),
        () -> error(response, callback, 413, tooLarge()));
  }

  private void answer(byte[] data, Response response, Callback callback) {
    try {
      ObjectNode answer = protocol.answer(data);
      ok.incrementAndGet();
      send(response, callback, 200, answer);
    } catch (RecommendProtocol.BadRequest e) {
      bad.incrementAndGet();
      error(response, callback, e.status(), e.getMessage());
    } catch (org.recjpq.RecjpqException | IllegalArgumentException e) {
      bad.incrementAndGet();
      error(response, callback, 400, e.getMessage());
    } catch (RuntimeException e) {
      failed.incrementAndGet();
      error(response, callback, 500, "Internal error: " + Excerpt.of(String.valueOf(e)));
    }
  }

  /** The JSON form of an answer (what POST /recommend returns). */
  public static ObjectNode toJson(Recommendations r) {
    return RecommendProtocol.toJson(r);
  }

  private ObjectNode info() {
    ObjectNode o = JSON.createObjectNode();
    o.put("model", rec.config().backbone().name().toLowerCase(java.util.Locale.ROOT));
    o.put("embedding", rec.config().isJpq() ? "jpq" : "dense");
    o.put("items", rec.numItems());
    o.put("dim", rec.config().dim());
    o.put("splits", rec.config().isJpq() ? rec.config().splits() : 0);
    o.put("max_len", rec.config().maxLen());
    o.put("scorer", rec.scorerName());
    o.put("gpu_batches", rec.gpuBatchDevice());
    o.put("popularity_fallback", rec.hasPopularity());
    o.put("checkpoint", rec.source() == null ? null : rec.source().toString());
    ObjectNode lim = o.putObject("limits");
    lim.put("max_body_bytes", limits.maxBodyBytes());
    lim.put("max_history", limits.maxHistory());
    lim.put("max_k", limits.maxK());
    lim.put("max_batch", limits.maxBatch());
    lim.put("max_header_bytes", limits.maxHeaderBytes());
    lim.put("max_connections", limits.maxConnections());
    lim.put("idle_timeout_ms", limits.idleTimeoutMs());
    lim.put("request_timeout_ms", limits.requestTimeoutMs());
    ObjectNode c = o.putObject("requests");
    c.put("ok", ok.get());
    c.put("bad", bad.get());
    c.put("failed", failed.get());
    c.put("timed_out", timedOut.get());
    Runtime rt = Runtime.getRuntime();
    o.put("heap_used_mb", (rt.totalMemory() - rt.freeMemory()) / (1 << 20));
    ArrayNode ex = o.putArray("example_items");
    for (int i = 0; i < Math.min(1000, rec.numItems()); i++) {
      ex.add(rec.externalId(i));
    }
    return o;
  }

  private static void error(Response response, Callback callback, int status, String message) {
    send(response, callback, status, JSON.createObjectNode().put("error", message));
  }

  private static void send(Response response, Callback callback, int status, JsonNode body) {
    byte[] out;
    try {
      out = JSON.writeValueAsBytes(body);
    } catch (JsonProcessingException e) {
      callback.failed(e);
      return;
    }
    response.setStatus(status);
    response.getHeaders().put(HttpHeader.CONTENT_TYPE, JSON_TYPE);
    response.write(true, ByteBuffer.wrap(out), callback);
  }

  /**
   * Errors that Jetty answers itself (a malformed request line, headers too large, ...) as JSON
   * too.
   */
  private static final class JsonErrors extends ErrorHandler {
    @Override
    public boolean errorPageForMethod(String method) {
      return true;
    }

    @Override
    protected void generateResponse(
        Request request,
        Response response,
        int code,
        String message,
        Throwable cause,
        Callback callback) {
      String m = message != null ? message : HttpStatus.getMessage(code);
      error(response, callback, code, Excerpt.of(m));
    }

    @Override
    public ByteBuffer badMessageError(int status, String reason, HttpFields.Mutable fields) {
      fields.put(new HttpField(HttpHeader.CONTENT_TYPE, JSON_TYPE));
      String m = reason != null ? reason : HttpStatus.getMessage(status);
      try {
        return ByteBuffer.wrap(
            JSON.writeValueAsBytes(JSON.createObjectNode().put("error", Excerpt.of(m))));
      } catch (JsonProcessingException e) {
        throw new IllegalStateException(e);
      }
    }
  }

  private void shutDownPools() {
    deadlines.shutdownNow();
    pool.shutdown();
  }

  /**
   * Stops accepting connections, waits up to {@code graceSeconds} for requests in flight, then
   * stops.
   */
  public void stop(int graceSeconds) {
    server.setStopTimeout(Math.max(0, graceSeconds) * 1000L);
    try {
      server.stop();
    } catch (Exception e) {
      // stopping anyway: the pools below go too
    }
    shutDownPools();
    try {
      pool.awaitTermination(Math.max(0, graceSeconds), TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  @Override
  public void close() {
    stop(2);
  }
}
