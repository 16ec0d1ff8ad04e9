package org.recjpq.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.recjpq.ChildJvm;
import org.recjpq.SharedData;
import org.recjpq.backend.Availability;
import org.recjpq.backend.OpsContract;
import org.recjpq.backend.Tolerance;
import org.recjpq.backend.cuda.CudaAvailability;
import org.recjpq.backend.cuda.CudaEmulator;
import org.recjpq.serve.Recommender;

/**
 * The command line on the CUDA engine, end to end: {@code train --device cuda} against {@code
 * --device cpu} on ML-100K, and {@code serve --gpu-batches} in its own process answering as the CPU
 * does. Tagged {@code gpu}: it runs on a GPU or on the CUDA emulator, and is skipped, with the
 * reason, where neither is there.
 */
@Tag("gpu")
class CudaCliTest {
  private static final ObjectMapper JSON = new ObjectMapper();

  @TempDir Path dir;

  private static void requireCuda() {
    Availability a = CudaAvailability.check();
    assumeTrue(a.available(), a.description());
  }

  private static String[] args(String[] common, String... more) {
    List<String> all = new ArrayList<>(List.of(common));
    all.addAll(List.of(more));
    return all.toArray(new String[0]);
  }

  /** The training loss of each epoch, from a training report's curves.csv (6 decimals). */
  private static double[] losses(Path curves) throws IOException {
    List<String> lines = Files.readAllLines(curves);
    double[] out = new double[lines.size() - 1];
    for (int i = 1; i < lines.size(); i++) {
      out[i - 1] = Double.parseDouble(lines.get(i).split(",")[2]);
    }
    return out;
  }

  /**
   * ML-100K ({@code ../shared/data}); where it is absent (the GPU bundle carries only ML-1M), a
   * synthetic set of the same shape, so the comparison still runs.
   */
  private String[] ml100k() {
    Path data = SharedData.root().resolve("ml-100k/u.data");
    if (Files.isRegularFile(data)) {
      return new String[] {data.toString(), "movielens"};
    }
    Path synthetic = dir.resolve("ml-100k-like.txt");
    CliTest.Run synth =
        CliTest.run(
            "synth",
            "--users",
            "943",
            "--items",
            "1682",
            "--interactions",
            "100000",
            "--seed",
            "5",
            "--output",
            synthetic.toString());
    assertEquals(0, synth.code(), synth.err());
    System.out.println(data + " is absent: a synthetic set of its shape instead");
    return new String[] {synthetic.toString(), "sasrec-pairs"};
  }

  @Test
  void trainOnCudaGivesTheCpuEnginesLossOnMl100k() throws IOException {
    requireCuda();
    String[] data = ml100k();
    String[] common = {
      "train",
      "--input",
      data[0],
      "--format",
      data[1],
      "--model",
      "sasrec",
      "--embedding",
      "jpq",
      "--codes",
      "svd",
      "--loss",
      "ce",
      "--dim",
      "32",
      "--max-len",
      "20",
      "--batch-size",
      "128",
      "--epochs",
      "2",
      "--validation-users",
      "100",
      "--test-users",
      "100",
      "--seed",
      "5",
      "--quiet"
    };
    Path cpuCkpt = dir.resolve("cpu.ckpt");
    Path cudaCkpt = dir.resolve("cuda.ckpt");
    CliTest.Run cpu = CliTest.run(args(common, "--device", "cpu", "--output", cpuCkpt.toString()));
    assertEquals(0, cpu.code(), cpu.err());
    CliTest.Run cuda =
        CliTest.run(args(common, "--device", "cuda", "--output", cudaCkpt.toString()));
    assertEquals(0, cuda.code(), cuda.err());
    System.out.println(cuda.out());
    double[] lc = losses(Path.of(cpuCkpt + ".report", "curves.csv"));
    double[] lg = losses(Path.of(cudaCkpt + ".report", "curves.csv"));
    assertEquals(2, lg.length);
    for (int e = 0; e < lc.length; e++) {
      OpsContract.assertAgree(
          "epoch " + (e + 1) + " training loss (8 steps an epoch)",
          lc[e],
          lg[e],
          new Tolerance("trajectory", 0, 1e-4));
    }
    String summary = Files.readString(Path.of(cudaCkpt + ".report", "summary.md"));
    if (CudaAvailability.report().emulated()) {
      assertTrue(cuda.out().contains("engine cuda on the " + CudaEmulator.LABEL), cuda.out());
      assertTrue(summary.contains("Engine: cuda on the " + CudaEmulator.LABEL), summary);
      CliTest.Run auto =
          CliTest.run(
              args(
                  common,
                  "--epochs",
                  "1",
                  "--device",
                  "auto",
                  "--json",
                  "--output",
                  dir.resolve("auto.ckpt").toString()));
      assertEquals(0, auto.code(), auto.err());
      assertTrue(
          JSON.readTree(auto.out())
              .path("engine")
              .asText()
              .startsWith("cpu (no GPU: auto does not choose"),
          auto.out());
      CliTest.Run bench =
          CliTest.run(
              "bench",
              "train",
              "--input",
              data[0],
              "--format",
              data[1],
              "--device",
              "cuda",
              "--seconds",
              "1");
      assertEquals(1, bench.code(), bench.err());
      assertTrue(bench.err().contains("does not time the " + CudaEmulator.LABEL), bench.err());
    }
  }

  @Test
  void serveWithGpuBatchesAnswersAsTheCpuDoes() throws Exception {
    requireCuda();
    Path pairs = dir.resolve("pairs.txt");
    CliTest.Run synth =
        CliTest.run(
            "synth",
            "--users",
            "300",
            "--items",
            "500",
            "--interactions",
            "6000",
            "--seed",
            "4",
            "--output",
            pairs.toString());
    assertEquals(0, synth.code(), synth.err());
    Path ckpt = dir.resolve("model.ckpt");
    CliTest.Run train =
        CliTest.run(
            "train",
            "--input",
            pairs.toString(),
            "--format",
            "sasrec-pairs",
            "--dim",
            "16",
            "--max-len",
            "20",
            "--epochs",
            "1",
            "--device",
            "cpu",
            "--quiet",
            "--output",
            ckpt.toString());
    assertEquals(0, train.code(), train.err());

    // the child keeps its own launch counts and Bytedeco cache
    List<String> command =
        ChildJvm.command(
            "org.recjpq.cli.Main",
            Map.of(
                "recjpq.cuda.emulator.launchLog",
                dir.resolve("serve-launches.tsv").toString(),
                "org.bytedeco.javacpp.cachedir",
                ""),
            "serve",
            "--checkpoint",
            ckpt.toString(),
            "--port",
            "0",
            "--threads",
            "2",
            "--gpu-batches");
    Process server = new ProcessBuilder(command).redirectErrorStream(true).start();
    try {
      BufferedReader lines =
          new BufferedReader(
              new InputStreamReader(server.getInputStream(), StandardCharsets.UTF_8));
      Pattern serving = Pattern.compile("^Serving .* on http://127\\.0\\.0\\.1:(\\d+) ");
      String first =
          CompletableFuture.supplyAsync(
                  () -> {
                    StringBuilder seen = new StringBuilder();
                    try {
                      for (String line = lines.readLine(); line != null; line = lines.readLine()) {
                        seen.append(line).append('\n');
                        if (serving.matcher(line).find()) {
                          return line;
                        }
                      }
                    } catch (IOException e) {
                      seen.append(e);
                    }
                    return "no 'Serving' line; the server printed:\n" + seen;
                  })
              .get(120, TimeUnit.SECONDS);
      Matcher m = serving.matcher(first);
      assertTrue(m.find(), first);
      if (CudaEmulator.selected()) {
        assertTrue(first.contains("batches of 3+ users on the " + CudaEmulator.LABEL), first);
      }
      int port = Integer.parseInt(m.group(1));
      HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();
      List<List<String>> histories =
          List.of(
              List.of("1", "2", "3"),
              List.of("7", "9"),
              List.of("11"),
              List.of("42", "17", "5", "8"));
      StringBuilder body = new StringBuilder("{\"k\": 5, \"histories\": [");
      for (int u = 0; u < histories.size(); u++) {
        body.append(u == 0 ? "" : ", ").append(JSON.writeValueAsString(histories.get(u)));
      }
      body.append("]}");
      HttpResponse<String> batch =
          client.send(
              HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/recommend"))
                  .timeout(Duration.ofSeconds(60))
                  .POST(HttpRequest.BodyPublishers.ofString(body.toString()))
                  .build(),
              HttpResponse.BodyHandlers.ofString());
      assertEquals(200, batch.statusCode(), batch.body());
      JsonNode results = JSON.readTree(batch.body()).path("results");
      try (Recommender cpu = Recommender.load(ckpt)) {
        for (int u = 0; u < histories.size(); u++) {
          List<String> got = new ArrayList<>();
          results.get(u).path("items").forEach(n -> got.add(n.asText()));
          assertEquals(cpu.recommend(histories.get(u), 5).items(), got, "history " + u);
        }
      }
      HttpResponse<String> info =
          client.send(
              HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/info"))
                  .timeout(Duration.ofSeconds(10))
                  .GET()
                  .build(),
              HttpResponse.BodyHandlers.ofString());
      String device = JSON.readTree(info.body()).path("gpu_batches").asText();
      assertTrue(!device.isEmpty() && !device.equals("null"), info.body());
      if (CudaEmulator.selected()) {
        assertEquals(CudaEmulator.LABEL, device);
      }
    } finally {
      server.destroy();
      if (!server.waitFor(30, TimeUnit.SECONDS)) {
        server.destroyForcibly();
      }
    }
  }
}
