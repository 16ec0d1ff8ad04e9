package org.recjpq.tune;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.math.BigDecimal;
import java.math.MathContext;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.recjpq.RecjpqException;
import org.recjpq.util.Excerpt;

/**
 * A search space over training settings, read from JSON: each key a setting, each value a list of
 * choices ({@code [0, 0.1, 0.2]}, {@code ["svd", "nsvd-pq"]}) or a range: {@code {"log": [lo, hi]}}
 * (log-uniform), {@code {"uniform": [lo, hi]}} or {@code {"int": [lo, hi]}} (both ends included).
 * Sampled values of a range keep 3 significant digits, so they read well in a report.
 */
public final class SearchSpace {
  private static final ObjectMapper JSON = new ObjectMapper();

  private interface Domain {}

  private record Choice(List<JsonNode> values) implements Domain {}

  private record Range(String kind, double lo, double hi) implements Domain {}

  private final Map<String, Domain> domains;

  private SearchSpace(Map<String, Domain> domains) {
    this.domains = domains;
  }

  /** The setting names, in the order given. */
  public List<String> names() {
    return List.copyOf(domains.keySet());
  }

  /** Parses a space; {@code source} names it in errors (a file, or "the default space"). */
  public static SearchSpace parse(JsonNode json, String source) {
    if (json == null || !json.isObject() || json.size() == 0) {
      throw new RecjpqException(
          source
              + ": a search space is a non-empty JSON object of settings, e.g."
              + " {\"lr\": {\"log\": [0.0005, 0.01]}, \"dropout\": [0, 0.1, 0.2]}.");
    }
    Map<String, Domain> d = new LinkedHashMap<>();
    for (Iterator<Map.Entry<String, JsonNode>> it = json.fields(); it.hasNext(); ) {
      Map.Entry<String, JsonNode> e = it.next();
      String key = e.getKey();
      JsonNode v = e.getValue();
      String where = source + ": '" + Excerpt.of(key) + "'";
      if (v.isArray()) {
        if (v.isEmpty()) {
          throw new RecjpqException(where + " lists no values.");
        }
        List<JsonNode> values = new ArrayList<>();
        v.forEach(values::add);
        d.put(key, new Choice(values));
      } else if (v.isObject() && v.size() == 1) {
        String kind = v.fieldNames().next();
        JsonNode ends = v.get(kind);
        if (!List.of("log", "uniform", "int").contains(kind)
            || !ends.isArray()
            || ends.size() != 2
            || !ends.get(0).isNumber()
            || !ends.get(1).isNumber()) {
          throw new RecjpqException(
              where
                  + " must be a list of values or one of {\"log\": [lo, hi]},"
                  + " {\"uniform\": [lo, hi]}, {\"int\": [lo, hi]}; found "
                  + Excerpt.of(v.toString())
                  + ".");
        }
        double lo = ends.get(0).asDouble();
        double hi = ends.get(1).asDouble();
        if (!(lo <= hi)
            || !Double.isFinite(lo)
            || !Double.isFinite(hi)
            || (kind.equals("log") && !(lo > 0))) {
          throw new RecjpqException(
              where
                  + ": the range ["
                  + lo
                  + ", "
                  + hi
                  + "] is empty"
                  + (kind.equals("log") ? " or not positive" : "")
                  + ".");
        }
        d.put(key, new Range(kind, lo, hi));
      } else {
        throw new RecjpqException(
            where
                + " must be a list of values or a range object; found "
                + Excerpt.of(v.toString())
                + ".");
      }
    }
    return new SearchSpace(d);
  }

  /** Parses JSON text. */
  public static SearchSpace parse(String json, String source) {
    try {
      return parse(JSON.readTree(json), source);
    } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
      throw new RecjpqException(source + ": malformed JSON: " + Excerpt.of(e.getOriginalMessage()));
    }
  }

  /** One point of the space: a value per setting, as JSON (what {@code --config} files hold). */
  public ObjectNode sample(SplittableRandom random) {
    ObjectNode o = JSON.createObjectNode();
    for (Map.Entry<String, Domain> e : domains.entrySet()) {
      JsonNode value;
      if (e.getValue() instanceof Choice c) {
        value = c.values().get(random.nextInt(c.values().size())).deepCopy();
      } else {
        Range r = (Range) e.getValue();
        double u = random.nextDouble();
        value =
            switch (r.kind()) {
              case "int" ->
                  o.numberNode(
                      (long)
                          Math.min(
                              Math.floor(r.hi()),
                              Math.floor(
                                  Math.ceil(r.lo())
                                      + u * (Math.floor(r.hi()) - Math.ceil(r.lo()) + 1))));
              case "log" ->
                  o.numberNode(
                      round3(
                          Math.exp(Math.log(r.lo()) + u * (Math.log(r.hi()) - Math.log(r.lo())))));
              default -> o.numberNode(round3(r.lo() + u * (r.hi() - r.lo())));
            };
      }
      o.set(e.getKey(), value);
    }
    return o;
  }

  private static double round3(double x) {
    return x == 0 ? 0 : new BigDecimal(x).round(new MathContext(3)).doubleValue();
  }
}
