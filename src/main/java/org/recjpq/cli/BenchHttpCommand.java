package org.recjpq.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.PrintWriter;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.Callable;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicLong;
import org.recjpq.RecjpqException;
import org.recjpq.UsageException;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code recjpq bench http}: a load generator for {@code recjpq serve}, run as a separate process.
 */
@Command(
    name = "http",
    mixinStandardHelpOptions = true,
    sortOptions = false,
    description = {
      "Load a running 'recjpq serve' and report latency, throughput and errors.",
      "--rate R sends R requests a second on a fixed schedule, latency counted",
      "from each request's scheduled time (so a slow server cannot hide its",
      "queue); --rate 0 saturates it with --concurrency closed-loop clients.",
      "Every --bad-every-th request is malformed and must be answered 400 without",
      "disturbing the others. Histories are random example items from GET /info."
    },
    footerHeading = "%nExamples:%n",
    footer = {
      "  ./recjpq serve --checkpoint ml-1m.ckpt --port 8080 &",
      "  ./recjpq bench http --url http://127.0.0.1:8080 --rate 200 --seconds 30 --json",
      "  ./recjpq bench http --url http://127.0.0.1:8080 --rate 0 --concurrency 8 \\",
      "      --seconds 30"
    })
final class BenchHttpCommand implements Callable<Integer> {
  @Option(
      names = "--url",
      paramLabel = "URL",
      defaultValue = "http://127.0.0.1:8080",
      description = "Server (default: ${DEFAULT-VALUE}).")
  String url;

  @Option(
      names = "--seconds",
      paramLabel = "S",
      defaultValue = "20",
      description = "Duration (default: ${DEFAULT-VALUE}).")
  double seconds;

  @Option(
      names = "--rate",
      paramLabel = "R",
      defaultValue = "0",
      description = "Requests per second; 0 = saturation (default: ${DEFAULT-VALUE}).")
  double rate;

  @Option(
      names = "--concurrency",
      paramLabel = "C",
      defaultValue = "8",
      description = "Client threads (default: ${DEFAULT-VALUE}).")
  int concurrency;

  @Option(
      names = "--k",
      paramLabel = "K",
      defaultValue = "10",
      description = "k of each request (default: ${DEFAULT-VALUE}).")
  int k;

  @Option(
      names = "--history-length",
      paramLabel = "L",
      defaultValue = "20",
      description = "Items per history (default: ${DEFAULT-VALUE}).")
  int historyLength;

  @Option(
      names = "--bad-every",
      paramLabel = "N",
      defaultValue = "20",
      description = "Every N-th request is malformed; 0 = none (default: ${DEFAULT-VALUE}).")
  int badEvery;

  @Option(names = "--json", description = "Print one JSON object.")
  boolean json;

  @Spec picocli.CommandLine.Model.CommandSpec spec;

  /** A usage error unless {@code url} is an absolute http(s) URL with a host. */
  static void checkUrl(String url) {
    URI u;
    try {
      u = new URI(url);
    } catch (java.net.URISyntaxException e) {
      throw new UsageException("--url is not a URL (" + e.getMessage() + ").");
    }
    if (!("http".equals(u.getScheme()) || "https".equals(u.getScheme())) || u.getHost() == null) {
      throw new UsageException(
          "--url must be an http:// or https:// URL with a host, such as "
              + "http://127.0.0.1:8080, got '"
              + url
              + "'.");
    }
  }

  private static final String[] BAD = {
    "{\"history\": [\"1\", \"2\"",
    "{\"history\": [\"1\"], \"k\": 0}",
    "{\"history\": \"1,2\"}",
    "{\"history\": [\"1\"], \"colour\": \"red\"}",
    "[1, 2, 3]"
  };

  @Override
  public Integer call() throws Exception {
    PrintWriter out = spec.commandLine().getOut();
    checkUrl(url);
    if (seconds <= 0 || rate < 0 || concurrency < 1 || k < 1 || historyLength < 0 || badEvery < 0) {
      throw new UsageException(
          "--seconds, --concurrency and --k must be positive; --rate, --bad-every not negative.");
    }
    ObjectMapper mapper = new ObjectMapper();
    HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    JsonNode before = get(client, mapper, "/info");
    List<String> examples = new ArrayList<>();
    before.path("example_items").forEach(n -> examples.add(n.asText()));
    if (examples.isEmpty()) {
      throw new RecjpqException(url + "/info lists no example items; is it a recjpq server?");
    }
    long start = System.nanoTime() + 50_000_000L;
    long end = start + (long) (seconds * 1e9);
    AtomicLong slot = new AtomicLong();
    AtomicLong errors = new AtomicLong();
    AtomicLong badSent = new AtomicLong();
    AtomicLong bad400 = new AtomicLong();
    ConcurrentLinkedQueue<Double> latencies = new ConcurrentLinkedQueue<>();
    ConcurrentLinkedQueue<String> firstErrors = new ConcurrentLinkedQueue<>();
    List<Thread> threads = new ArrayList<>();
    for (int c = 0; c < concurrency; c++) {
      Random rnd = new Random(1000 + c);
      Thread t =
          new Thread(
              () -> {
                while (true) {
                  long i = slot.getAndIncrement();
                  long due = rate > 0 ? start + (long) (i * 1e9 / rate) : System.nanoTime();
                  if (due >= end) {
                    return;
                  }
                  long wait = due - System.nanoTime();
                  if (wait > 0) {
                    try {
                      Thread.sleep(wait / 1_000_000, (int) (wait % 1_000_000));
                    } catch (InterruptedException e) {
                      return;
                    }
                  }
                  boolean malformed = badEvery > 0 && i % badEvery == badEvery - 1;
                  String body;
                  if (malformed) {
                    body = BAD[(int) ((i / badEvery) % BAD.length)];
                  } else {
                    ObjectNode o = mapper.createObjectNode();
                    ArrayNode h = o.putArray("history");
                    for (int x = 0; x < historyLength; x++) {
                      h.add(examples.get(rnd.nextInt(examples.size())));
                    }
                    o.put("k", k);
                    body = o.toString();
                  }
                  try {
                    HttpResponse<String> r =
                        client.send(
                            HttpRequest.newBuilder(URI.create(url + "/recommend"))
                                .timeout(Duration.ofSeconds(30))
                                .POST(HttpRequest.BodyPublishers.ofString(body))
                                .build(),
                            HttpResponse.BodyHandlers.ofString());
                    double ms = (System.nanoTime() - due) / 1e6;
                    if (malformed) {
                      badSent.incrementAndGet();
                      if (r.statusCode() == 400 && r.body().contains("\"error\"")) {
                        bad400.incrementAndGet();
                      } else {
                        note(
                            firstErrors,
                            "malformed request got " + r.statusCode() + ": " + r.body());
                      }
                    } else if (r.statusCode() == 200
                        && mapper.readTree(r.body()).path("items").size() == k) {
                      latencies.add(ms);
                    } else {
                      errors.incrementAndGet();
                      note(firstErrors, "got " + r.statusCode() + ": " + r.body());
                    }
                  } catch (Exception e) {
                    errors.incrementAndGet();
                    note(firstErrors, e.toString());
                  }
                }
              },
              "load-" + c);
      t.start();
      threads.add(t);
    }
    for (Thread t : threads) {
      t.join();
    }
    double elapsed = (System.nanoTime() - start) / 1e9;
    JsonNode after = get(client, mapper, "/info");
    double[] l = latencies.stream().mapToDouble(Double::doubleValue).sorted().toArray();
    ObjectNode o = mapper.createObjectNode();
    o.put("url", url);
    o.put("mode", rate > 0 ? "fixed rate" : "saturation");
    o.put("target_rps", rate);
    o.put("concurrency", concurrency);
    o.put("seconds", BenchScoringCommand.round(elapsed));
    o.put("ok", l.length);
    o.put("achieved_ok_rps", BenchScoringCommand.round(l.length / elapsed));
    o.put("errors", errors.get());
    o.put("malformed_sent", badSent.get());
    o.put("malformed_answered_400", bad400.get());
    if (l.length > 0) {
      o.put("p50_ms", BenchScoringCommand.round(BenchScoringCommand.percentile(l, 0.5)));
      o.put("p90_ms", BenchScoringCommand.round(BenchScoringCommand.percentile(l, 0.9)));
      o.put("p99_ms", BenchScoringCommand.round(BenchScoringCommand.percentile(l, 0.99)));
      o.put("max_ms", BenchScoringCommand.round(l[l.length - 1]));
    }
    o.put("server_heap_mb_before", before.path("heap_used_mb").asLong());
    o.put("server_heap_mb_after", after.path("heap_used_mb").asLong());
    o.set("server_requests_after", after.path("requests"));
    ArrayNode errs = o.putArray("first_errors");
    firstErrors.forEach(errs::add);
    out.println(json ? o.toString() : o.toPrettyString());
    return errors.get() == 0 && bad400.get() == badSent.get() ? 0 : 1;
  }

  private static void note(ConcurrentLinkedQueue<String> q, String s) {
    if (q.size() < 5) {
      q.add(s.length() > 300 ? s.substring(0, 300) : s);
    }
  }

  private JsonNode get(HttpClient client, ObjectMapper json, String path) {
    try {
      HttpResponse<String> r =
          client.send(
              HttpRequest.newBuilder(URI.create(url + path))
                  .timeout(Duration.ofSeconds(10))
                  .GET()
                  .build(),
              HttpResponse.BodyHandlers.ofString());
      if (r.statusCode() != 200) {
        throw new RecjpqException(url + path + " answered " + r.statusCode() + ": " + r.body());
      }
      return json.readTree(r.body());
    } catch (java.io.IOException e) {
      throw new RecjpqException(
          "Cannot reach " + url + path + " (" + e + "); is 'recjpq serve' running?");
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new RecjpqException("Interrupted while reaching " + url + path);
    }
  }
}
