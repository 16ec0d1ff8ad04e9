package org.recjpq.serve;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;

class HttpServiceTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private final HttpClient client = HttpClient.newHttpClient();

  private HttpResponse<String> post(int port, String body) throws Exception {
    return client.send(
        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/recommend"))
            .POST(HttpRequest.BodyPublishers.ofString(body))
            .build(),
        HttpResponse.BodyHandlers.ofString());
  }

  private HttpResponse<String> get(int port, String path) throws Exception {
    return client.send(
        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path)).GET().build(),
        HttpResponse.BodyHandlers.ofString());
  }

  private static void assertBad(int status, String fragment, HttpResponse<String> r)
      throws Exception {
    assertEquals(status, r.statusCode(), r.body());
    assertTrue(JSON.readTree(r.body()).path("error").asText().contains(fragment), r.body());
  }

  @Test
  void endpointsAnswersAndErrors() throws Exception {
    Recommender rec =
        Recommender.of(RecommenderTest.checkpoint(true, 8), Recommender.Scoring.AUTO, 2);
    try (HttpService http =
        new HttpService(rec, "127.0.0.1", 0, 4, new HttpService.Limits(4096, 50, 20, 3))) {
      int port = http.port();
      assertEquals("ok", JSON.readTree(get(port, "/health").body()).path("status").asText());
      JsonNode info = JSON.readTree(get(port, "/info").body());
      assertEquals(RecommenderTest.N, info.path("items").asInt());
      assertEquals("pruned", info.path("scorer").asText());
      assertEquals(RecommenderTest.ext(0), info.path("example_items").get(0).asText());

      List<String> h = List.of(RecommenderTest.ext(1), RecommenderTest.ext(2), "x");
      HttpResponse<String> ok =
          post(port, "{\"history\": [\"" + h.get(0) + "\", " + h.get(1) + ", \"x\"], \"k\": 4}");
      assertEquals(200, ok.statusCode(), ok.body());
      JsonNode j = JSON.readTree(ok.body());
      Recommendations want = rec.recommend(h, 4);
      assertEquals(want.items().toString(), toList(j.path("items")).toString());
      assertEquals("x", j.path("unknown").get(0).asText());
      assertEquals("model", j.path("source").asText());
      JsonNode pop =
          JSON.readTree(post(port, "{\"history\": [], \"k\": 2, \"filter_seen\": false}").body());
      assertEquals("popularity", pop.path("source").asText());
      JsonNode batch =
          JSON.readTree(
              post(
                      port,
                      "{\"histories\": [[\""
                          + h.get(0)
                          + "\"], []], \"k\": 3,"
                          + " \"exclude\": [\""
                          + RecommenderTest.ext(5)
                          + "\"]}")
                  .body());
      assertEquals(2, batch.path("results").size());
      assertEquals(
          rec.recommend(
                  List.of(h.get(0)),
                  3,
                  RecommendOptions.defaults().withExclude(java.util.Set.of(RecommenderTest.ext(5))))
              .items()
              .toString(),
          toList(batch.path("results").get(0).path("items")).toString());

      assertBad(400, "Malformed JSON", post(port, "{\"history\": [\"1\""));
      assertBad(
          400, "more data after the JSON object", post(port, "{\"history\": [\"1\"]} {\"k\": 3}"));
      assertBad(
          400, "Duplicate field 'k'", post(port, "{\"history\": [\"1\"], \"k\": 3, \"k\": 4}"));
      assertBad(
          400,
          "'k' must be an integer from 1 to 20",
          post(port, "{\"history\": [\"1\"], \"k\": 21}"));
      assertBad(
          400, "'k' must be an integer", post(port, "{\"history\": [\"1\"], \"k\": \"ten\"}"));
      assertBad(400, "Unknown field 'colour'", post(port, "{\"history\": [\"1\"], \"colour\": 1}"));
      assertBad(400, "must be a list of item ids", post(port, "{\"history\": \"1,2\"}"));
      assertBad(400, "must hold item ids", post(port, "{\"history\": [{\"id\": 1}]}"));
      assertBad(400, "exactly one of 'history'", post(port, "{\"k\": 3}"));
      assertBad(400, "The body must be a JSON object", post(port, "[1, 2]"));
      assertBad(400, "at most 50", post(port, "{\"history\": " + ids(51) + "}"));
      assertBad(400, "at most 3 histories", post(port, "{\"histories\": [[], [], [], []]}"));
      assertBad(
          413, "exceeds 4096 bytes", post(port, "{\"history\": [\"" + "1".repeat(5000) + "\"]}"));
      assertBad(405, "use POST", get(port, "/recommend"));
      assertBad(404, "No such endpoint", get(port, "/nope"));
      JsonNode counts = JSON.readTree(get(port, "/info").body()).path("requests");
      assertEquals(3, counts.path("ok").asInt());
      assertEquals(13, counts.path("bad").asInt());
      assertEquals(0, counts.path("failed").asInt());
    }
  }

  @Test
  void badRequestsDoNotDisturbConcurrentGoodOnes() throws Exception {
    Recommender rec =
        Recommender.of(RecommenderTest.checkpoint(true, 9), Recommender.Scoring.AUTO, 2);
    try (HttpService http =
        new HttpService(rec, "127.0.0.1", 0, 4, HttpService.Limits.defaults())) {
      int port = http.port();
      String good =
          "{\"history\": [\""
              + RecommenderTest.ext(3)
              + "\", \""
              + RecommenderTest.ext(8)
              + "\"], \"k\": 5}";
      String want = toList(JSON.readTree(post(port, good).body()).path("items")).toString();
      ExecutorService pool = Executors.newFixedThreadPool(6);
      try {
        List<Future<Boolean>> fs = new ArrayList<>();
        for (int t = 0; t < 6; t++) {
          boolean sendsBad = t % 2 == 0;
          fs.add(
              pool.submit(
                  () -> {
                    for (int i = 0; i < 40; i++) {
                      if (sendsBad) {
                        if (post(port, "{\"history\": [\"1\"], \"k\": -1").statusCode() != 400) {
                          return false;
                        }
                      } else {
                        HttpResponse<String> r = post(port, good);
                        if (r.statusCode() != 200
                            || !toList(JSON.readTree(r.body()).path("items"))
                                .toString()
                                .equals(want)) {
                          return false;
                        }
                      }
                    }
                    return true;
                  }));
        }
        for (Future<Boolean> f : fs) {
          assertTrue(f.get());
        }
      } finally {
        pool.shutdown();
      }
    }
  }

  private static List<String> toList(JsonNode arr) {
    List<String> out = new ArrayList<>();
    arr.forEach(n -> out.add(n.asText()));
    return out;
  }

  private static String ids(int n) {
    List<String> s = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      s.add("\"" + i + "\"");
    }
    return s.toString();
  }
}
