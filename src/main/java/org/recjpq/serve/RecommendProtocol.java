package org.recjpq.serve;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Set;
import org.recjpq.util.Excerpt;

/**
 * The JSON protocol of {@code POST /recommend}, apart from its transport: a body in, strictly
 * parsed and checked against the {@link HttpService.Limits}, an answer out, or a {@link BadRequest}
 * with the status and message the client gets.
 */
final class RecommendProtocol {
  /** Strict: trailing data after the object and duplicate keys are malformed requests (400). */
  static final ObjectMapper JSON =
      new ObjectMapper()
          .enable(com.fasterxml.jackson.databind.DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
          .enable(com.fasterxml.jackson.core.JsonParser.Feature.STRICT_DUPLICATE_DETECTION);

  private static final Set<String> FIELDS =
      Set.of("history", "histories", "k", "filter_seen", "exclude", "allow");
  private final Recommender rec;
  private final HttpService.Limits limits;

  RecommendProtocol(Recommender rec, HttpService.Limits limits) {
    this.rec = rec;
    this.limits = limits;
  }

  /** A 4xx answer for a bad request. */
  static final class BadRequest extends Exception {
    private final int status;

    BadRequest(int status, String message) {
      super(message, null, false, false);
      this.status = status;
    }

    int status() {
      return status;
    }
  }

  /** The answer to a request body. */
  ObjectNode answer(byte[] data) throws BadRequest {
    return answer(parse(data));
  }

  private static JsonNode parse(byte[] data) throws BadRequest {
    try {
      JsonNode n = JSON.readTree(data);
      if (n == null || !n.isObject()) {
        throw new BadRequest(
            400, "The body must be a JSON object, e.g. {\"history\": [\"1\", \"2\"], \"k\": 10}.");
      }
      return n;
    } catch (IOException e) {
      String m = e instanceof JsonProcessingException j ? j.getOriginalMessage() : e.getMessage();
      if (m != null && m.startsWith("Trailing token")) {
        m = "more data after the JSON object";
      }
      throw new BadRequest(400, "Malformed JSON: " + Excerpt.of(m));
    }
  }

  private ObjectNode answer(JsonNode body) throws BadRequest {
    for (Iterator<String> it = body.fieldNames(); it.hasNext(); ) {
      String f = it.next();
      if (!FIELDS.contains(f)) {
        throw new BadRequest(
            400,
            "Unknown field '"
                + Excerpt.of(f)
                + "'. Fields: history or histories, k, filter_seen,"
                + " exclude, allow.");
      }
    }
    int k = 10;
    if (body.has("k")) {
      JsonNode kn = body.get("k");
      if (!kn.isInt() || kn.asInt() < 1 || kn.asInt() > limits.maxK()) {
        throw new BadRequest(
            400,
            "'k' must be an integer from 1 to "
                + limits.maxK()
                + ", got "
                + Excerpt.of(kn.toString())
                + ".");
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
    Set<String> exclude =
        body.has("exclude") ? new HashSet<>(ids(body.get("exclude"), "exclude")) : Set.of();
    Set<String> allow = body.has("allow") ? new HashSet<>(ids(body.get("allow"), "allow")) : null;
    RecommendOptions options = new RecommendOptions(filterSeen, exclude, allow);
    if (body.has("history") == body.has("histories")) {
      throw new BadRequest(
          400,
          "Give exactly one of 'history' (a list of item ids) or 'histories' (a list of lists).");
    }
    if (body.has("history")) {
      return toJson(rec.recommend(ids(body.get("history"), "history"), k, options));
    }
    JsonNode hs = body.get("histories");
    if (!hs.isArray() || hs.size() > limits.maxBatch()) {
      throw new BadRequest(
          400, "'histories' must be a list of at most " + limits.maxBatch() + " histories.");
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
      throw new BadRequest(
          400, "'" + field + "' has " + n.size() + " ids; at most " + limits.maxHistory() + ".");
    }
    List<String> out = new ArrayList<>(n.size());
    for (JsonNode x : n) {
      if (x.isTextual()) {
        out.add(x.asText());
      } else if (x.isIntegralNumber()) {
        out.add(x.asText());
      } else {
        throw new BadRequest(
            400,
            "'"
                + field
                + "' must hold item ids (strings or integers), found "
                + Excerpt.of(x.toString())
                + ".");
      }
    }
    return out;
  }

  /** The JSON form of an answer (what POST /recommend returns). */
  static ObjectNode toJson(Recommendations r) {
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
}
