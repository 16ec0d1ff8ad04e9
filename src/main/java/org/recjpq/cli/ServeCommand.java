package org.recjpq.cli;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import org.recjpq.RecjpqException;
import org.recjpq.UsageException;
import org.recjpq.serve.HttpService;
import org.recjpq.serve.Recommender;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code recjpq serve}: the HTTP/JSON endpoint. */
@Command(
    name = "serve",
    mixinStandardHelpOptions = true,
    sortOptions = false,
    description = {
      "Serve a checkpoint over HTTP/JSON until interrupted.",
      "On Ctrl-C or SIGTERM, requests in flight finish, then it stops.",
      "  POST /recommend  {\"history\": [\"1193\", \"661\"], \"k\": 10,",
      "                   \"filter_seen\": true, \"exclude\": [], \"allow\": null}",
      "                   or {\"histories\": [[...], ...]} for a batch",
      "  GET /health",
      "  GET /info",
      "Bad requests get 400 with {\"error\": \"...\"}."
    },
    footerHeading = "%nExamples:%n",
    footer = {
      "  ./recjpq serve --checkpoint ml-1m.ckpt --port 8080",
      "  curl -s localhost:8080/recommend -d '{\"history\": [\"1193\", \"661\"], \"k\": 5}'"
    })
final class ServeCommand implements Callable<Integer> {
  @Option(
      names = "--checkpoint",
      required = true,
      paramLabel = "CKPT",
      description = "A checkpoint from 'recjpq train'.")
  Path checkpoint;

  @Option(
      names = "--port",
      paramLabel = "P",
      defaultValue = "8080",
      description = "Port; 0 picks a free one (default: ${DEFAULT-VALUE}).")
  int port;

  @Option(
      names = "--host",
      paramLabel = "H",
      defaultValue = "127.0.0.1",
      description = "Address to bind; 0.0.0.0 for every interface (default: ${DEFAULT-VALUE}).")
  String host;

  @Option(
      names = "--threads",
      paramLabel = "N",
      description = "Request threads (default: all processors).")
  Integer threads;

  @Option(
      names = "--scoring",
      paramLabel = "S",
      defaultValue = "auto",
      description = "auto, dense, pqtopk or pruned (default: ${DEFAULT-VALUE}).")
  String scoring;

  @Option(
      names = "--gpu-batches",
      description =
          "Score batch requests ('histories') of 3 or more users on the GPU"
              + " (exact, the same answers); an error where CUDA cannot run.")
  boolean gpuBatches;

  @Option(
      names = "--max-k",
      paramLabel = "K",
      defaultValue = "1000",
      description = "Largest k a request may ask (default: ${DEFAULT-VALUE}).")
  int maxK;

  @Option(
      names = "--max-history",
      paramLabel = "N",
      defaultValue = "10000",
      description = "Longest history or id list (default: ${DEFAULT-VALUE}).")
  int maxHistory;

  @Option(
      names = "--max-body",
      paramLabel = "BYTES",
      defaultValue = "1048576",
      description = "Largest request body (default: ${DEFAULT-VALUE}).")
  int maxBody;

  @Option(
      names = "--max-batch",
      paramLabel = "N",
      defaultValue = "256",
      description = "Most histories in one request (default: ${DEFAULT-VALUE}).")
  int maxBatch;

  @Option(
      names = "--max-header",
      paramLabel = "BYTES",
      defaultValue = "8192",
      description = "Largest request line and headers; 431 above (default: ${DEFAULT-VALUE}).")
  int maxHeader;

  @Option(
      names = "--max-connections",
      paramLabel = "N",
      defaultValue = "1024",
      description =
          "Most connections open at once; more wait to be accepted (default: ${DEFAULT-VALUE}).")
  int maxConnections;

  @Option(
      names = "--idle-timeout",
      paramLabel = "SECONDS",
      defaultValue = "30",
      description =
          "Close a connection that sends nothing for this long (default: ${DEFAULT-VALUE}).")
  double idleTimeout;

  @Option(
      names = "--request-timeout",
      paramLabel = "SECONDS",
      defaultValue = "20",
      description =
          "A request must arrive whole (headers and body) within this time; else 408 or the connection"
              + " is closed; keep it below --idle-timeout so that a stalled body gets its 408"
              + " (default: ${DEFAULT-VALUE}).")
  double requestTimeout;

  @Spec picocli.CommandLine.Model.CommandSpec spec;

  @Override
  public Integer call() throws Exception {
    PrintWriter out = spec.commandLine().getOut();
    if (maxK < 1 || maxK > Recommender.MAX_K || maxHistory < 1 || maxBody < 64 || maxBatch < 1) {
      throw new UsageException(
          "Limits must be positive (--max-k at most "
              + Recommender.MAX_K
              + ", --max-body at least 64).");
    }
    Recommender.Scoring sc = Recommender.Scoring.parse(scoring);
    if (threads != null && threads < 1) {
      throw new UsageException("--threads must be at least 1, got " + threads + ".");
    }
    if (port < 0 || port > 65_535) {
      throw new UsageException(
          "--port must be a port number from 0 (pick a free one) to 65535, got " + port + ".");
    }
    if (maxHeader < 256 || maxConnections < 1) {
      throw new UsageException(
          "--max-header must be at least 256 and --max-connections at least 1.");
    }
    if (!(idleTimeout >= 0.001 && idleTimeout <= 86_400)
        || !(requestTimeout >= 0.001 && requestTimeout <= 86_400)) {
      throw new UsageException(
          "--idle-timeout and --request-timeout must be from 0.001 to 86400 seconds.");
    }
    HttpService.Limits limits =
        new HttpService.Limits(
            maxBody,
            maxHistory,
            maxK,
            maxBatch,
            maxHeader,
            maxConnections,
            Math.round(idleTimeout * 1000),
            Math.round(requestTimeout * 1000));
    int n = threads != null ? threads : Runtime.getRuntime().availableProcessors();
    Recommender rec = Recommender.load(checkpoint, sc, n, gpuBatches);
    HttpService http;
    try {
      http = new HttpService(rec, host, port, n, limits);
    } catch (java.net.BindException e) {
      throw new RecjpqException(
          "Cannot listen on "
              + host
              + ":"
              + port
              + " ("
              + e.getMessage()
              + "); choose another --port.");
    } catch (java.io.IOException e) {
      throw new RecjpqException("Cannot serve on " + host + ":" + port + ": " + e.getMessage());
    }
    CountDownLatch stopped = new CountDownLatch(1);
    Runtime.getRuntime()
        .addShutdownHook(
            new Thread(
                () -> {
                  http.stop(5);
                  System.err.println("recjpq serve: stopped.");
                  stopped.countDown();
                }));
    String batches =
        rec.gpuBatchDevice() == null ? "" : ", batches of 3+ users on the " + rec.gpuBatchDevice();
    out.printf(
        "Serving %s (%,d items, scorer %s%s) on http://%s:%d with %d threads; Ctrl-C stops.%n",
        checkpoint, rec.numItems(), rec.scorerName(), batches, host, http.port(), n);
    out.flush();
    stopped.await();
    return 0;
  }
}
