package org.recjpq.serve;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.junit.jupiter.api.Test;

/**
 * Hostile and slow clients against the HTTP front, on raw sockets: half-sent requests hold no
 * thread and are closed after the timeouts, and every error Jetty answers itself is JSON.
 */
class HttpSlowClientsTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final String BODY = "{\"history\": [\"1\", \"2\", \"3\"], \"k\": 5}";

  private static HttpService start(int threads, HttpService.Limits limits) throws IOException {
    Recommender rec =
        Recommender.of(RecommenderTest.checkpoint(true, 8), Recommender.Scoring.AUTO, threads);
    return new HttpService(rec, "127.0.0.1", 0, threads, limits);
  }

  /** Status line and body of one exchange on a fresh connection (Connection: close). */
  record Answer(int status, String headers, String body) {}

  private static Answer exchange(int port, byte[] request, int readTimeoutMs) throws IOException {
    try (Socket s = new Socket("127.0.0.1", port)) {
      s.setSoTimeout(readTimeoutMs);
      s.getOutputStream().write(request);
      s.getOutputStream().flush();
      return read(s.getInputStream());
    }
  }

  private static Answer read(InputStream in) throws IOException {
    ByteArrayOutputStream all = new ByteArrayOutputStream();
    in.transferTo(all);
    String text = all.toString(StandardCharsets.UTF_8);
    int split = text.indexOf("\r\n\r\n");
    assertTrue(split > 0, "no complete answer: " + text);
    String head = text.substring(0, split);
    int status = Integer.parseInt(head.substring(9, 12));
    return new Answer(status, head.toLowerCase(Locale.ROOT), text.substring(split + 4));
  }

  private static byte[] post(String body) {
    byte[] b = body.getBytes(StandardCharsets.UTF_8);
    return ("POST /recommend HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nConnection: close\r\n"
            + "Content-Length: "
            + b.length
            + "\r\n\r\n"
            + body)
        .getBytes(StandardCharsets.UTF_8);
  }

  private static void assertJsonError(Answer a, int status) throws IOException {
    assertEquals(status, a.status(), a.headers() + "\n" + a.body());
    assertTrue(a.headers().contains("content-type: application/json"), a.headers());
    JsonNode n = JSON.readTree(a.body());
    assertTrue(n.path("error").isTextual() && !n.path("error").asText().isEmpty(), a.body());
  }

  @Test
  void sixtyFourStalledClientsDoNotDelayOthersAndAreClosedAfterTheTimeout() throws Exception {
    long idleMs = 3_000;
    long requestMs =
        1_500; // below the idle timeout, so a stalled body is answered 408 before the connection
    // idles out
    try (HttpService http =
        start(4, HttpService.Limits.defaults().withTimeouts(idleMs, requestMs))) {
      int port = http.port();
      exchange(port, post(BODY), 10_000); // warm up the model's first answer
      byte[] whole = post(BODY);
      List<Socket> slow = new ArrayList<>();
      try {
        for (int i = 0; i < 64; i++) { // half of the headers, or the headers and half of the body
          Socket s = new Socket("127.0.0.1", port);
          s.setSoTimeout(30_000);
          int cut = i % 2 == 0 ? 20 : whole.length - BODY.length() / 2;
          s.getOutputStream().write(whole, 0, cut);
          s.getOutputStream().flush();
          slow.add(s);
        }
        long started = System.nanoTime();
        for (int i = 0; i < 16; i++) {
          long t0 = System.nanoTime();
          Answer a = exchange(port, post(BODY), 5_000);
          double ms = (System.nanoTime() - t0) / 1e6;
          assertEquals(200, a.status(), a.body());
          assertTrue(JSON.readTree(a.body()).path("items").size() == 5, a.body());
          assertTrue(ms < 1_000, "request " + i + " took " + ms + " ms beside 64 stalled clients");
        }
        assertTrue(
            (System.nanoTime() - started) / 1e6 < requestMs,
            "the normal requests ran past the timeout");
        // each stalled connection is closed by the server: half-headers silently, half-bodies with
        // 408
        long t0 = System.nanoTime();
        int answered408 = 0;
        for (int i = 0; i < slow.size(); i++) {
          ByteArrayOutputStream got = new ByteArrayOutputStream();
          try {
            slow.get(i).getInputStream().transferTo(got); // returns at the server's close
          } catch (SocketTimeoutException e) {
            throw new AssertionError("stalled client " + i + " was not closed", e);
          }
          String text = got.toString(StandardCharsets.UTF_8);
          if (i % 2 == 1) {
            assertTrue(text.startsWith("HTTP/1.1 408"), "client " + i + ": " + text);
            assertTrue(text.contains("{\"error\":"), text);
            answered408++;
          }
        }
        double closedAfter = (System.nanoTime() - t0) / 1e6;
        assertTrue(
            closedAfter < idleMs + 5_000,
            "stalled clients closed only after " + closedAfter + " ms");
        assertEquals(32, answered408);
        JsonNode info =
            JSON.readTree(
                exchange(
                        port,
                        ("GET /info HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
                            .getBytes(StandardCharsets.US_ASCII),
                        5_000)
                    .body());
        assertTrue(
            info.path("requests").path("timed_out").asLong() >= 64,
            info.path("requests").toString());
      } finally {
        for (Socket s : slow) {
          s.close();
        }
      }
    }
  }

  @Test
  void aClientTricklingItsHeadersIsClosedAtTheRequestDeadline() throws Exception {
    try (HttpService http = start(1, HttpService.Limits.defaults().withTimeouts(5_000, 1_000))) {
      try (Socket s = new Socket("127.0.0.1", http.port())) {
        s.setSoTimeout(10_000);
        OutputStream out = s.getOutputStream();
        long t0 = System.nanoTime();
        boolean closed = false;
        byte[] req = post(BODY);
        for (int i = 0; i < 40 && !closed; i++) { // a byte every 100 ms: never idle, never complete
          try {
            out.write(req[i]);
            out.flush();
            Thread.sleep(100);
          } catch (IOException e) {
            closed = true;
          }
        }
        if (!closed) {
          closed = s.getInputStream().read() < 0;
        }
        double ms = (System.nanoTime() - t0) / 1e6;
        assertTrue(closed, "the trickling client was not closed");
        assertTrue(ms < 4_500, "closed only after " + ms + " ms");
      }
    }
  }

  @Test
  void errorsJettyAnswersItselfAreJson() throws Exception {
    try (HttpService http = start(1, HttpService.Limits.defaults().withConnections(1024, 64))) {
      int port = http.port();
      String big = "x".repeat(4096);
      assertJsonError(
          exchange(
              port,
              ("GET /health HTTP/1.1\r\nHost: x\r\nX-Big: " + big + "\r\nConnection: close\r\n\r\n")
                  .getBytes(StandardCharsets.US_ASCII),
              5_000),
          431);
      assertJsonError(
          exchange(port, "BLAH\r\n\r\n".getBytes(StandardCharsets.US_ASCII), 5_000), 400);
      assertJsonError(
          exchange(
              port,
              ("GET /health HTTP/1.1\r\nConnection: close\r\n\r\n")
                  .getBytes(StandardCharsets.US_ASCII),
              5_000),
          400); // no Host header
      assertJsonError(
          exchange(
              port,
              ("POST /recommend HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999\r\n"
                      + "Connection: close\r\n\r\n{")
                  .getBytes(StandardCharsets.US_ASCII),
              5_000),
          413);
      assertJsonError(exchange(port, post(BODY + " {}"), 5_000), 400); // trailing data
      assertJsonError(
          exchange(
              port,
              ("DELETE /recommend HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
                  .getBytes(StandardCharsets.US_ASCII),
              5_000),
          405);
      assertJsonError(
          exchange(
              port,
              ("GET /nothing HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
                  .getBytes(StandardCharsets.US_ASCII),
              5_000),
          404);
      // a chunked body over the limit, without a Content-Length to refuse it early
      String chunk = "a".repeat(4000);
      StringBuilder chunked =
          new StringBuilder(
              "POST /recommend HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
                  + "Connection: close\r\n\r\n");
      for (int i = 0; i < 300; i++) {
        chunked
            .append(Integer.toHexString(chunk.length()))
            .append("\r\n")
            .append(chunk)
            .append("\r\n");
      }
      chunked.append("0\r\n\r\n");
      assertJsonError(
          exchange(port, chunked.toString().getBytes(StandardCharsets.US_ASCII), 5_000), 413);
      Answer ok = exchange(port, post(BODY), 5_000);
      assertEquals(200, ok.status(), ok.body());
    }
  }

  /** One answer read off a kept connection, by its Content-Length. */
  private static Answer readOne(InputStream in) throws IOException {
    ByteArrayOutputStream head = new ByteArrayOutputStream();
    while (!head.toString(StandardCharsets.US_ASCII).endsWith("\r\n\r\n")) {
      int b = in.read();
      assertTrue(b >= 0, "the connection closed before an answer: " + head);
      head.write(b);
    }
    String h = head.toString(StandardCharsets.US_ASCII).toLowerCase(Locale.ROOT);
    int at = h.indexOf("content-length:");
    assertTrue(at > 0, h);
    int length = Integer.parseInt(h.substring(at + 15, h.indexOf("\r\n", at)).trim());
    byte[] body = in.readNBytes(length);
    return new Answer(
        Integer.parseInt(h.substring(9, 12)), h, new String(body, StandardCharsets.UTF_8));
  }

  @Test
  void aBodyOverTheLimitIsAnsweredAndTheConnectionKept() throws Exception {
    try (HttpService http = start(1, new HttpService.Limits(4096, 64, 50, 8))) {
      try (Socket s = new Socket("127.0.0.1", http.port())) {
        s.setSoTimeout(10_000);
        OutputStream out = s.getOutputStream();
        InputStream in = s.getInputStream();
        // the whole body is sent before the answer is read, as most clients do: 2 MiB, far more
        // than the socket buffers hold, so the server must read it for the write to finish
        byte[] big = "x".repeat(2 << 20).getBytes(StandardCharsets.US_ASCII);
        out.write(
            ("POST /recommend HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                    + "Content-Length: "
                    + big.length
                    + "\r\n\r\n")
                .getBytes(StandardCharsets.US_ASCII));
        out.write(big);
        out.flush();
        Answer refused = readOne(in);
        assertJsonError(refused, 413);
        assertTrue(refused.body().contains("exceeds 4096 bytes"), refused.body());
        assertTrue(!refused.headers().contains("connection: close"), refused.headers());
        byte[] b = BODY.getBytes(StandardCharsets.UTF_8);
        out.write(
            ("POST /recommend HTTP/1.1\r\nHost: x\r\nContent-Length: " + b.length + "\r\n\r\n")
                .getBytes(StandardCharsets.US_ASCII));
        out.write(b);
        out.flush();
        Answer ok = readOne(in);
        assertEquals(200, ok.status(), ok.body());
      }
    }
  }
}
