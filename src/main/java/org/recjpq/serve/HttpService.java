package org.recjpq.serve;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * HTTP/JSON front of a {@link Recommender} on the JDK's built-in server.
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
 * <p>Bodies over {@link Limits#maxBodyBytes} get 413; malformed JSON, wrong types, unknown fields,
 * k or history lengths out of bounds get 400 with {@code {"error": "..."}}; other methods 405,
 * other paths 404. Requests run on a fixed pool of threads; {@link #close} stops accepting, lets
 * requests in flight finish (up to a grace period) and shuts the pool down.
 */
public final class HttpService implements AutoCloseable {
  /** Request bounds. */
  public record Limits(int maxBodyBytes, int maxHistory, int maxK, int maxBatch) {
    public static Limits defaults() {
      return new Limits(1 << 20, 10_000, 1_000, 256);
    }
  }

  /** Strict: trailing data after the object and duplicate keys are malformed requests (400). */
  private static final ObjectMapper JSON = new ObjectMapper()
      .enable(com.fasterxml.jackson.databind.DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
      .enable(com.fasterxml.jackson.core.JsonParser.Feature.STRICT_DUPLICATE_DETECTION);
  private static final Set<String> FIELDS = Set.of("history", "histories", "k", "filter_seen", "exclude", "allow");
  private final Recommender rec;
  private final Limits limits;
  private final HttpServer server;
  private final ExecutorService pool;
  private final AtomicLong ok = new AtomicLong();
  private final AtomicLong bad = new AtomicLong();
  private final AtomicLong failed = new AtomicLong();

  /** Binds {@code host:port} (port 0: any free port) and starts serving on {@code threads} threads. */
  public HttpService(Recommender rec, String host, int port, int threads, Limits limits) throws IOException {
    this.rec = rec;
    this.limits = limits;
    server = HttpServer.create(new InetSocketAddress(host, port), 1024);
    pool = Executors.newFixedThreadPool(Math.max(1, threads), r -> {
      Thread t = new Thread(r, "recjpq-http");
      t.setDaemon(true);
      return t;
    });
    server.setExecutor(pool);
    server.createContext("/", this::handle);
    server.start();
  }

  /** The bound port. */
  public int port() {
    return server.getAddress().getPort();
  }

  private void handle(HttpExchange ex) throws IOException {
    try (ex) {
      String path = ex.getRequestURI().getPath();
      String method = ex.getRequestMethod();
      switch (path) {
        case "/health" -> {
          if (requireMethod(ex, method, "GET")) {
            send(ex, 200, JSON.createObjectNode().put("status", "ok"));
          }
        }
        case "/info" -> {
          if (requireMethod(ex, method, "GET")) {
            send(ex, 200, info());
          }
        }
        case "/recommend" -> {
          if (requireMethod(ex, method, "POST")) {
            recommend(ex);
          }
        }
        default -> error(ex, 404, "No such endpoint: " + path + ". Endpoints: POST /recommend, GET /health, GET /info.");
      }
    } catch (RuntimeException e) {
      failed.incrementAndGet();
      try {
        error(ex, 500, "Internal error: " + e);
      } catch (IOException ignored) {
        // the client has gone
      }
    }
  }

  private boolean requireMethod(HttpExchange ex, String method, String want) throws IOException {
    if (!want.equals(method)) {
      ex.getResponseHeaders().add("Allow", want);
      error(ex, 405, method + " is not allowed here; use " + want + ".");
      return false;
    }
    return true;
  }

  /** A 4xx answer for a bad request. */
  private static final class BadRequest extends Exception {
    final int status;

    BadRequest(int status, String message) {
      super(message, null, false, false);
      this.status = status;
    }
  }

  private void recommend(HttpExchange ex) throws IOException {
    JsonNode body;
    try {
      body = parse(ex);
      ObjectNode answer = answer(body);
      ok.incrementAndGet();
      send(ex, 200, answer);
    } catch (BadRequest e) {
      bad.incrementAndGet();
      error(ex, e.status, e.getMessage());
    } catch (org.recjpq.RecjpqException | IllegalArgumentException e) {
      bad.incrementAndGet();
      error(ex, 400, e.getMessage());
    }
  }

  private JsonNode parse(HttpExchange ex) throws IOException, BadRequest {
    byte[] data;
    try (InputStream in = ex.getRequestBody()) {
      data = in.readNBytes(limits.maxBodyBytes() + 1);
    }
    if (data.length > limits.maxBodyBytes()) {
      throw new BadRequest(413, "The request body exceeds " + limits.maxBodyBytes() + " bytes.");
    }
    try {
      JsonNode n = JSON.readTree(data);
      if (n == null || !n.isObject()) {
        throw new BadRequest(400, "The body must be a JSON object, e.g. {\"history\": [\"1\", \"2\"], \"k\": 10}.");
      }
      return n;
    } catch (JsonProcessingException e) {
      throw new BadRequest(400, "Malformed JSON: " + org.recjpq.util.Excerpt.of(e.getOriginalMessage()));
    }
  }

  private ObjectNode answer(JsonNode body) throws BadRequest {
    for (Iterator<String> it = body.fieldNames(); it.hasNext(); ) {
      String f = it.next();
      if (!FIELDS.contains(f)) {
        throw new BadRequest(400, "Unknown field '" + f + "'. Fields: history or histories, k, filter_seen, exclude, allow.");
      }
    }
    int k = 10;
    if (body.has("k")) {
      JsonNode kn = body.get("k");
      if (!kn.isInt() || kn.asInt() < 1 || kn.asInt() > limits.maxK()) {
        throw new BadRequest(400, "'k' must be an integer from 1 to " + limits.maxK() + ", got " + kn + ".");
      }
      k = kn.asInt();
    }
    boolean filterSeen = true;
    if (body.has("filter_seen")) {
      if (!body.get("filter_seen").isBoolean()) {
        throw new BadRequest(400, "'filter_seen' must be true or false.");
      }
      filterSeen = body.get("filter_seen").asBoolean();
    }
    Set<String> exclude = body.has("exclude") ? new HashSet<>(ids(body.get("exclude"), "exclude")) : Set.of();
    Set<String> allow = body.has("allow") ? new HashSet<>(ids(body.get("allow"), "allow")) : null;
    RecommendOptions options = new RecommendOptions(filterSeen, exclude, allow);
    if (body.has("history") == body.has("histories")) {
      throw new BadRequest(400, "Give exactly one of 'history' (a list of item ids) or 'histories' (a list of lists).");
    }
    if (body.has("history")) {
      return toJson(rec.recommend(ids(body.get("history"), "history"), k, options));
    }
    JsonNode hs = body.get("histories");
    if (!hs.isArray() || hs.size() > limits.maxBatch()) {
      throw new BadRequest(400, "'histories' must be a list of at most " + limits.maxBatch() + " histories.");
    }
    List<List<String>> histories = new ArrayList<>();
    for (JsonNode h : hs) {
      histories.add(ids(h, "histories[" + histories.size() + "]"));
    }
    ObjectNode o = JSON.createObjectNode();
    ArrayNode results = o.putArray("results");
    for (Recommendations r : rec.recommendBatch(histories, k, options)) {
      results.add(toJson(r));
    }
    return o;
  }

  private List<String> ids(JsonNode n, String field) throws BadRequest {
    if (!n.isArray()) {
      throw new BadRequest(400, "'" + field + "' must be a list of item ids.");
    }
    if (n.size() > limits.maxHistory()) {
      throw new BadRequest(400, "'" + field + "' has " + n.size() + " ids; at most " + limits.maxHistory() + ".");
    }
    List<String> out = new ArrayList<>(n.size());
    for (JsonNode x : n) {
      if (x.isTextual()) {
        out.add(x.asText());
      } else if (x.isIntegralNumber()) {
        out.add(x.asText());
      } else {
        throw new BadRequest(400, "'" + field + "' must hold item ids (strings or integers), found " + x + ".");
      }
    }
    return out;
  }

  /** The JSON form of an answer (what POST /recommend returns). */
  public static ObjectNode toJson(Recommendations r) {
    ObjectNode o = JSON.createObjectNode();
    ArrayNode items = o.putArray("items");
    r.items().forEach(items::add);
    ArrayNode scores = o.putArray("scores");
    for (float s : r.scores()) {
      scores.add(s);
    }
    ArrayNode unknown = o.putArray("unknown");
    r.unknownItems().forEach(unknown::add);
    o.put("source", r.source());
    o.put("backbone_ms", Math.round(r.backboneMs() * 1000) / 1000.0);
    o.put("scoring_ms", Math.round(r.scoringMs() * 1000) / 1000.0);
    return o;
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
    ObjectNode c = o.putObject("requests");
    c.put("ok", ok.get());
    c.put("bad", bad.get());
    c.put("failed", failed.get());
    Runtime rt = Runtime.getRuntime();
    o.put("heap_used_mb", (rt.totalMemory() - rt.freeMemory()) / (1 << 20));
    ArrayNode ex = o.putArray("example_items");
    for (int i = 0; i < Math.min(1000, rec.numItems()); i++) {
      ex.add(rec.externalId(i));
    }
    return o;
  }

  private static void error(HttpExchange ex, int status, String message) throws IOException {
    send(ex, status, JSON.createObjectNode().put("error", message));
  }

  private static void send(HttpExchange ex, int status, JsonNode body) throws IOException {
    byte[] out = JSON.writeValueAsBytes(body);
    ex.getResponseHeaders().set("Content-Type", "application/json; charset=utf-8");
    ex.sendResponseHeaders(status, out.length);
    try (OutputStream os = ex.getResponseBody()) {
      os.write(out);
    }
  }

  /** Stops accepting connections, waits up to {@code graceSeconds} for requests in flight, then stops. */
  public void stop(int graceSeconds) {
    server.stop(graceSeconds);
    pool.shutdown();
    try {
      pool.awaitTermination(graceSeconds, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  @Override
  public void close() {
    stop(2);
  }

}
