package org.recjpq.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import picocli.CommandLine;
import picocli.CommandLine.Model.UsageMessageSpec;

class CliTest {
  @TempDir Path dir;

  record Run(int code, String out, String err) {}

  static Run run(String... args) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    int code =
        Main.execute(
            args,
            new PrintStream(out, true, StandardCharsets.UTF_8),
            new PrintStream(err, true, StandardCharsets.UTF_8));
    return new Run(
        code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
  }

  private Path file(String name, String content) throws IOException {
    Path p = dir.resolve(name);
    Files.writeString(p, content);
    return p;
  }

  /** A log where every user has 6 interactions. */
  private Path goodPairs() throws IOException {
    StringBuilder b = new StringBuilder();
    for (int u = 1; u <= 30; u++) {
      for (int k = 0; k < 6; k++) {
        b.append(u).append(' ').append(1 + (u * 7 + k * 3) % 40).append('\n');
      }
    }
    return file("pairs.txt", b.toString());
  }

  private void assertOneLineError(Run r, int code, String start) {
    assertEquals(code, r.code(), r.err());
    assertTrue(r.err().startsWith(start), "stderr was: " + r.err());
    assertEquals(1, r.err().strip().lines().count(), "expected one line, got: " + r.err());
    assertFalse(r.err().contains("\tat "), "no stack trace without --verbose");
  }

  private void assertNoFilesBut(String... names) throws IOException {
    try (Stream<Path> files = Files.list(dir)) {
      assertEquals(
          java.util.Set.of(names),
          files.map(p -> p.getFileName().toString()).collect(java.util.stream.Collectors.toSet()));
    }
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "",
        "demo",
        "prepare",
        "assign-codes",
        "train",
        "synth",
        "evaluate",
        "recommend",
        "serve",
        "compare",
        "info",
        "bench"
      })
  void everyCommandHasHelpWithRunnableExamples(String command) {
    Run r = command.isEmpty() ? run("--help") : run(command, "--help");
    assertEquals(0, r.code());
    assertTrue(r.out().contains("Examples:"), r.out());
    assertTrue(r.out().contains("./recjpq " + command), r.out());
  }

  /**
   * Every command's help reads cleanly on an 80-column terminal: its first description line, which
   * the parent lists as its summary, is a whole sentence, and no hand-broken description or example
   * line is long enough for the help renderer to wrap it again.
   */
  @Test
  void everyHelpFitsEightyColumnsAndSummarisesInOneSentence() {
    List<String> problems = new ArrayList<>();
    List<CommandLine> todo = new ArrayList<>(List.of(new CommandLine(new Main())));
    int seen = 0;
    while (!todo.isEmpty()) {
      CommandLine c = todo.remove(todo.size() - 1);
      seen++;
      String name = c.getCommandSpec().qualifiedName();
      UsageMessageSpec usage = c.getCommandSpec().usageMessage();
      String[] description = usage.description();
      if (description.length == 0 || !description[0].endsWith(".")) {
        problems.add(
            name
                + ": the first description line is not a sentence: "
                + (description.length == 0 ? "(none)" : description[0]));
      }
      for (String[] lines : List.of(description, usage.footer())) {
        for (String line : lines) {
          if (line.length() > 80) {
            problems.add(name + ": " + line.length() + " characters: " + line);
          }
        }
      }
      c.getSubcommands().values().stream()
          .filter(s -> !(s.getCommand() instanceof CommandLine.HelpCommand))
          .forEach(todo::add);
    }
    assertTrue(seen >= 15, "walked " + seen + " commands");
    assertTrue(problems.isEmpty(), String.join("\n", problems));
  }

  @Test
  void malformedLineNamesFileAndLineAndWritesNothing() throws IOException {
    Path in = file("bad.txt", "1 2\n1 3\n1 oops\n");
    Path out = dir.resolve("out.rjd");
    Run r =
        run(
            "prepare",
            "--input",
            in.toString(),
            "--format",
            "sasrec-pairs",
            "--output",
            out.toString());
    assertOneLineError(r, 1, "recjpq prepare: error: " + in + ":3: expected an integer item id");
    assertNoFilesBut("bad.txt");
  }

  @Test
  void emptyFileIsAnError() throws IOException {
    Path in = file("empty.txt", "");
    assertOneLineError(
        run("evaluate", "--input", in.toString(), "--format", "sasrec-pairs"),
        1,
        "recjpq evaluate: error: " + in + " is empty");
  }

  @Test
  void noUserLeftWithTwoInteractions() throws IOException {
    Path in = file("short.txt", "1 1\n2 2\n3 3\n");
    assertOneLineError(
        run(
            "evaluate",
            "--input",
            in.toString(),
            "--format",
            "sasrec-pairs",
            "--min-user-interactions",
            "1"),
        1,
        "recjpq evaluate: error: No user of " + in + " has 2 or more interactions after filtering");
    assertOneLineError(
        run("evaluate", "--input", in.toString(), "--format", "sasrec-pairs"),
        1,
        "recjpq evaluate: error: No interaction is left after filtering");
  }

  @Test
  void unknownColumnNamesListTheHeader() throws IOException {
    Path in = file("log.csv", "uid,sku\n1,2\n");
    assertOneLineError(
        run("evaluate", "--input", in.toString(), "--format", "csv", "--user-column", "uid"),
        1,
        "recjpq evaluate: error: "
            + in
            + ":1: no item column named 'item_id'; the header has [uid, sku]");
  }

  @Test
  void nonNumericIdWhereOneIsRequired() throws IOException {
    Path in = file("lines.txt", "1 2 3 4 5 6\nbob 2 3\n");
    assertOneLineError(
        run("evaluate", "--input", in.toString(), "--format", "user-lines"),
        1,
        "recjpq evaluate: error: " + in + ":2: expected an integer user id");
  }

  @Test
  void unreadablePaths() throws IOException {
    Path missing = dir.resolve("missing.txt");
    assertOneLineError(
        run("evaluate", "--input", missing.toString(), "--format", "sasrec-pairs"),
        1,
        "recjpq evaluate: error: Cannot read " + missing + ": no such file.");
    assertOneLineError(
        run("evaluate", "--input", dir.toString(), "--format", "sasrec-pairs"),
        1,
        "recjpq evaluate: error: Cannot read " + dir + ": it is a directory");
  }

  @Test
  void usageErrorsExitWithTwo() throws IOException {
    Path in = goodPairs();
    Run r = run("evaluate", "--input", in.toString(), "--format", "parquet");
    assertEquals(2, r.code());
    assertTrue(
        r.err().contains("Unknown format 'parquet'. Known formats: sasrec-pairs, user-lines"),
        r.err());
    assertTrue(r.err().contains("Try 'recjpq evaluate --help'"), r.err());
    assertEquals(2, run("evaluate", "--input", in.toString(), "--bogus").code());
    assertEquals(2, run("frobnicate").code());
    assertOneLineError(
        run("evaluate", "--input", in.toString()),
        1,
        "recjpq evaluate: error: "
            + in
            + " is not a prepared dataset file, so give its format with --format");
  }

  @Test
  void aRepeatedOptionTakesItsLastValue() throws IOException {
    Path in = goodPairs();
    assertEquals(
        0,
        run(
                "evaluate",
                "--input",
                in.toString(),
                "--format",
                "user-lines",
                "--format",
                "sasrec-pairs",
                "--json")
            .code());
    Run r =
        run(
            "evaluate",
            "--input",
            in.toString(),
            "--format",
            "sasrec-pairs",
            "--format",
            "parquet");
    assertEquals(2, r.code());
    assertTrue(r.err().contains("Unknown format 'parquet'"), r.err());
  }

  @Test
  void verboseShowsTheStackTrace() throws IOException {
    Path in = file("bad.txt", "1 x\n");
    Run r = run("--verbose", "evaluate", "--input", in.toString(), "--format", "sasrec-pairs");
    assertEquals(1, r.code());
    assertTrue(r.err().contains("\tat org.recjpq."), r.err());
  }

  @Test
  void prepareThenEvaluateGivesTheSameNumbersAsTheRawLog() throws IOException {
    Path in = goodPairs();
    Path rjd = dir.resolve("d.rjd");
    Run p =
        run(
            "prepare",
            "--input",
            in.toString(),
            "--format",
            "sasrec-pairs",
            "--output",
            rjd.toString());
    assertEquals(0, p.code(), p.err());
    assertTrue(p.out().contains("wrote " + rjd), p.out());
    Run raw =
        run(
            "evaluate",
            "--input",
            in.toString(),
            "--format",
            "sasrec-pairs",
            "--json",
            "--k",
            "5,10");
    Run prepared = run("evaluate", "--input", rjd.toString(), "--json", "--k", "5,10");
    assertEquals(0, raw.code(), raw.err());
    ObjectMapper json = new ObjectMapper();
    JsonNode a = json.readTree(raw.out());
    JsonNode b = json.readTree(prepared.out());
    for (String key : new String[] {"ndcg@5", "ndcg@10", "recall@5", "recall@10", "mrr", "users"}) {
      assertTrue(a.has(key), key);
      assertEquals(a.get(key), b.get(key), key);
    }
    assertEquals(30, a.get("users").asInt());
    assertEquals(1, raw.out().strip().lines().count(), "--json prints one object");
    Run again =
        run("prepare", "--input", rjd.toString(), "--output", dir.resolve("e.rjd").toString());
    assertOneLineError(
        again, 1, "recjpq prepare: error: " + rjd + " is already a prepared dataset file.");
  }

  @Test
  void perUserFilesFeedCompare() throws IOException {
    Path in = goodPairs();
    Path a = dir.resolve("a.csv");
    Path b = dir.resolve("b.csv");
    assertEquals(
        0,
        run(
                "evaluate",
                "-i",
                in.toString(),
                "-f",
                "sasrec-pairs",
                "--model",
                "mostpop",
                "--per-user",
                a.toString())
            .code());
    assertEquals(
        0,
        run(
                "evaluate",
                "-i",
                in.toString(),
                "-f",
                "sasrec-pairs",
                "--model",
                "markov",
                "--per-user",
                b.toString())
            .code());
    assertEquals(31, Files.readAllLines(a).size());
    assertEquals("user,target,rank,ndcg@10,recall@10,rr", Files.readAllLines(a).get(0));
    Run c = run("compare", a.toString(), b.toString(), "--json");
    assertEquals(0, c.code(), c.err());
    JsonNode j = new ObjectMapper().readTree(c.out());
    assertEquals(30, j.get("users").asInt());
    assertTrue(j.has("tPValue") && j.has("wilcoxonPValue"), c.out());
    Run table = run("compare", a.toString(), b.toString(), "--metric", "rr");
    assertTrue(table.out().contains("Wilcoxon p"), table.out());
  }

  @Test
  void validationPhaseUsesTheSeededSample() throws IOException {
    Path in = goodPairs();
    Run r =
        run(
            "evaluate",
            "-i",
            in.toString(),
            "-f",
            "sasrec-pairs",
            "--phase",
            "validation",
            "--validation-users",
            "10",
            "--json");
    assertEquals(0, r.code(), r.err());
    assertEquals(10, new ObjectMapper().readTree(r.out()).get("users").asInt());
    assertEquals("validation", new ObjectMapper().readTree(r.out()).get("phase").asText());
  }

  @Test
  void synthWritesPairsAndRefusesImpossibleSizesWithoutWritingAnything() throws IOException {
    Path out = dir.resolve("s.txt");
    Run ok =
        run(
            "synth",
            "--users",
            "50",
            "--items",
            "200",
            "--interactions",
            "1000",
            "--seed",
            "3",
            "--output",
            out.toString());
    assertEquals(0, ok.code(), ok.err());
    assertEquals(1000, Files.readAllLines(out).size());
    Path bad = dir.resolve("bad.txt");
    Run r =
        run(
            "synth",
            "--users",
            "50",
            "--items",
            "200",
            "--interactions",
            "10",
            "--output",
            bad.toString());
    assertEquals(1, r.code(), r.err());
    assertTrue(r.err().startsWith("recjpq synth: error: "), r.err());
    assertNoFilesBut("s.txt");
  }

  @Test
  void infoSaysWhetherAGpuCanBeUsed() {
    Run r = run("info");
    assertEquals(0, r.code(), r.err());
    assertTrue(r.out().contains("recjpq"), r.out());
    assertTrue(r.out().lines().anyMatch(l -> l.startsWith("gpu")), r.out());
    assertTrue(r.out().lines().anyMatch(l -> l.startsWith("openblas")), r.out());
  }

  @Test
  void demoPrintsTheTable() {
    Run r =
        run(
            "demo",
            "--users",
            "300",
            "--items",
            "500",
            "--interactions",
            "6000",
            "--train-minutes",
            "0.05");
    assertEquals(0, r.code(), r.err());
    assertTrue(
        r.out().contains("mostpop") && r.out().contains("markov") && r.out().contains("ndcg@10"),
        r.out());
    assertTrue(r.out().lines().anyMatch(l -> l.startsWith("sasrec-jpq ")), r.out());
    assertTrue(r.out().contains("epoch  1"), r.out());
    Run baselinesOnly =
        run(
            "demo",
            "--users",
            "300",
            "--items",
            "500",
            "--interactions",
            "6000",
            "--train-minutes",
            "0");
    assertEquals(0, baselinesOnly.code(), baselinesOnly.err());
    assertFalse(baselinesOnly.out().contains("sasrec-jpq"), baselinesOnly.out());
  }

  @Test
  void assignCodesWritesAFileAndRejectsBadSplits() throws IOException {
    Path in = goodPairs();
    Path codes = dir.resolve("c.codes");
    Run ok =
        run(
            "assign-codes",
            "-i",
            in.toString(),
            "-f",
            "sasrec-pairs",
            "--splits",
            "4",
            "--output",
            codes.toString(),
            "--json");
    assertEquals(0, ok.code(), ok.err());
    JsonNode j = new ObjectMapper().readTree(ok.out());
    assertEquals("svd", j.get("strategy").asText());
    assertEquals(4, j.get("splits").asInt());
    assertTrue(Files.size(codes) > 0);
    Path pq = dir.resolve("pq.codes");
    Run pqRun =
        run(
            "assign-codes",
            "-i",
            in.toString(),
            "-f",
            "sasrec-pairs",
            "--splits",
            "2",
            "--strategy",
            "svd-pq",
            "--output",
            pq.toString(),
            "--json");
    assertEquals(0, pqRun.code(), pqRun.err());
    assertEquals("svd-pq", new ObjectMapper().readTree(pqRun.out()).get("strategy").asText());
    Run trained =
        run(
            trainArgs(
                in, dir.resolve("pq.ckpt"), "--codes", pq.toString(), "--epochs", "1", "--json"));
    assertEquals(0, trained.code(), trained.err());
    // model-pq: a dense model's item table, quantised; then RecJPQ trains with those codes.
    Path dense = dir.resolve("dense.ckpt");
    Run denseRun = run(trainArgs(in, dense, "--embedding", "dense", "--epochs", "1"));
    assertEquals(0, denseRun.code(), denseRun.err());
    Path mpq = dir.resolve("mpq.codes");
    Run mpqRun =
        run(
            "assign-codes",
            "-i",
            in.toString(),
            "-f",
            "sasrec-pairs",
            "--splits",
            "2",
            "--strategy",
            "model-pq",
            "--checkpoint",
            dense.toString(),
            "--output",
            mpq.toString(),
            "--json");
    assertEquals(0, mpqRun.code(), mpqRun.err());
    JsonNode mj = new ObjectMapper().readTree(mpqRun.out());
    assertEquals("model-pq", mj.get("strategy").asText());
    Run fromModel =
        run(
            trainArgs(
                in, dir.resolve("mpq.ckpt"), "--codes", mpq.toString(), "--epochs", "1", "--json"));
    assertEquals(0, fromModel.code(), fromModel.err());
    assertOneLineError(
        run(
            "assign-codes",
            "-i",
            in.toString(),
            "-f",
            "sasrec-pairs",
            "--strategy",
            "model-pq",
            "--output",
            dir.resolve("x.codes").toString()),
        2,
        "recjpq assign-codes: error: --strategy model-pq needs --checkpoint");
    assertOneLineError(
        run(
            "assign-codes",
            "-i",
            in.toString(),
            "-f",
            "sasrec-pairs",
            "--strategy",
            "model-pq",
            "--checkpoint",
            dir.resolve("pq.ckpt").toString(),
            "--output",
            dir.resolve("x.codes").toString()),
        1,
        "recjpq assign-codes: error: "
            + dir.resolve("pq.ckpt")
            + " is a RecJPQ model; model-pq needs a dense item table");
    assertOneLineError(
        run(
            "assign-codes",
            "-i",
            in.toString(),
            "-f",
            "sasrec-pairs",
            "--strategy",
            "svd",
            "--checkpoint",
            dense.toString(),
            "--output",
            dir.resolve("x.codes").toString()),
        2,
        "recjpq assign-codes: error: --checkpoint is for --strategy model-pq, not svd.");
    assertOneLineError(
        run(
            "train",
            "-i",
            in.toString(),
            "-f",
            "sasrec-pairs",
            "--codes",
            "model-pq",
            "--epochs",
            "1",
            "--output",
            dir.resolve("x.ckpt").toString()),
        2,
        "recjpq train: error: model-pq codes come from a trained model's item embeddings");
    assertOneLineError(
        run(
            "assign-codes",
            "-i",
            in.toString(),
            "-f",
            "sasrec-pairs",
            "--splits",
            "0",
            "--output",
            dir.resolve("x.codes").toString()),
        2,
        "recjpq assign-codes: error: The number of splits m must be between 1 and 256, found 0.");
    assertOneLineError(
        run(
            "assign-codes",
            "-i",
            in.toString(),
            "-f",
            "sasrec-pairs",
            "--splits",
            "8",
            "--dim",
            "100",
            "--output",
            dir.resolve("x.codes").toString()),
        2,
        "recjpq assign-codes: error: The embedding size d = 100 is not divisible by the number of splits m = 8");
    assertOneLineError(
        run(
            "assign-codes",
            "-i",
            in.toString(),
            "-f",
            "sasrec-pairs",
            "--strategy",
            "pca",
            "--output",
            dir.resolve("x.codes").toString()),
        2,
        "recjpq assign-codes: error: Unknown code strategy 'pca'");
    assertTrue(Files.notExists(dir.resolve("x.codes")));
    assertTrue(Files.notExists(dir.resolve("x.ckpt")));
  }

  private static final String[] TINY = {
    "--preset",
    "cpu",
    "--dim",
    "8",
    "--splits",
    "2",
    "--max-len",
    "6",
    "--batch-size",
    "8",
    "--ffn-dim",
    "8",
    "--blocks",
    "1",
    "--threads",
    "1"
  };

  private String[] trainArgs(Path in, Path ckpt, String... more) {
    List<String> a =
        new ArrayList<>(
            List.of(
                "train",
                "-i",
                in.toString(),
                "-f",
                "sasrec-pairs",
                "--output",
                ckpt.toString(),
                "--quiet"));
    List<String> extra = List.of(more);
    for (int i = 0;
        i < TINY.length;
        i += 2) { // an option given in 'more' replaces the tiny default
      if (!extra.contains(TINY[i])) {
        a.add(TINY[i]);
        a.add(TINY[i + 1]);
      }
    }
    a.addAll(extra);
    return a.toArray(new String[0]);
  }

  @Test
  void trainEvaluateAndBenchOnATinyLog() throws IOException {
    Path in = goodPairs();
    Path ckpt = dir.resolve("m.ckpt");
    Run t = run(trainArgs(in, ckpt, "--epochs", "2", "--json"));
    assertEquals(0, t.code(), t.err());
    JsonNode j = new ObjectMapper().readTree(t.out().lines().reduce((a, b) -> b).orElseThrow());
    assertEquals(30, j.get("users").asInt());
    assertTrue(Files.isRegularFile(dir.resolve("m.ckpt.report").resolve("loss.png")));
    assertTrue(Files.isRegularFile(dir.resolve("m.ckpt.report").resolve("curves.csv")));
    String summary = Files.readString(dir.resolve("m.ckpt.report").resolve("summary.md"));
    assertTrue(summary.contains("Command: `recjpq train -i "), summary);
    Run e =
        run(
            "evaluate",
            "--checkpoint",
            ckpt.toString(),
            "-i",
            in.toString(),
            "-f",
            "sasrec-pairs",
            "--json");
    assertEquals(0, e.code(), e.err());
    assertEquals(
        j.get("ndcg@10").asDouble(),
        new ObjectMapper().readTree(e.out()).get("ndcg@10").asDouble(),
        1e-12);
    Run b =
        run(
            "bench",
            "train",
            "-i",
            in.toString(),
            "-f",
            "sasrec-pairs",
            "--seconds",
            "1",
            "--json",
            "--preset",
            "cpu",
            "--dim",
            "8",
            "--splits",
            "2",
            "--max-len",
            "6",
            "--batch-size",
            "8",
            "--ffn-dim",
            "8",
            "--loss",
            "bce");
    assertEquals(0, b.code(), b.err());
    JsonNode bj = new ObjectMapper().readTree(b.out());
    assertTrue(
        bj.get("seqs_per_s").asDouble() > 0 && bj.get("tokens_per_s").asDouble() > 0, b.out());
    // serving the checkpoint: one history, JSON and table forms, unknown ids, popularity fallback
    Run rj =
        run(
            "recommend",
            "--checkpoint",
            ckpt.toString(),
            "--history",
            "8,15,nope",
            "--k",
            "3",
            "--json");
    assertEquals(0, rj.code(), rj.err());
    JsonNode rec = new ObjectMapper().readTree(rj.out());
    assertEquals(3, rec.get("items").size());
    assertEquals("nope", rec.get("unknown").get(0).asText());
    assertEquals("model", rec.get("source").asText());
    for (JsonNode item : rec.get("items")) {
      assertTrue(!item.asText().equals("8") && !item.asText().equals("15"), rj.out());
    }
    Run rt = run("recommend", "--checkpoint", ckpt.toString(), "--history", "", "--k", "2");
    assertEquals(0, rt.code(), rt.err());
    assertTrue(rt.out().contains("most popular items"), rt.out());
    assertOneLineError(
        run("recommend", "--checkpoint", ckpt.toString(), "--history", "8", "--k", "0"),
        2,
        "recjpq recommend: error: --k must be between 1 and");
    assertOneLineError(
        run("recommend", "--checkpoint", ckpt.toString(), "--history", "8", "--scoring", "magic"),
        2,
        "recjpq recommend: error: Unknown scoring 'magic'");
    Path rjd = dir.resolve("d.rjd");
    assertEquals(
        0,
        run("prepare", "-i", in.toString(), "-f", "sasrec-pairs", "--output", rjd.toString())
            .code());
    Run bs =
        run(
            "bench",
            "scoring",
            "--checkpoint",
            ckpt.toString(),
            "--dataset",
            rjd.toString(),
            "--k",
            "3",
            "--queries",
            "4",
            "--batch",
            "5",
            "--json");
    assertEquals(0, bs.code(), bs.err());
    JsonNode bsj = new ObjectMapper().readTree(bs.out());
    assertTrue(bsj.get("agree").asBoolean(), bs.out());
    assertTrue(bsj.has("backbone_ms") && bsj.has("batch_gemm_users_per_s"), bs.out());
  }

  @Test
  void theFinalTestCanUseASampleOfUsersAndBert4RecCanHaveItsOutputTransform() throws IOException {
    Path in = goodPairs();
    Path ckpt = dir.resolve("s.ckpt");
    Run t =
        run(
            trainArgs(
                in,
                ckpt,
                "--model",
                "bert4rec",
                "--head-transform",
                "--epochs",
                "1",
                "--test-users",
                "7",
                "--json"));
    assertEquals(0, t.code(), t.err());
    JsonNode j = new ObjectMapper().readTree(t.out().lines().reduce((a, b) -> b).orElseThrow());
    assertEquals(7, j.get("users").asInt());
    assertTrue(
        Files.readString(dir.resolve("s.ckpt.report").resolve("summary.md"))
            .contains("\"headTransform\" : true"));
    Run e =
        run(
            "evaluate",
            "--checkpoint",
            ckpt.toString(),
            "-i",
            in.toString(),
            "-f",
            "sasrec-pairs",
            "--json");
    assertEquals(0, e.code(), e.err());
    assertEquals(30, new ObjectMapper().readTree(e.out()).get("users").asInt());
    Path none = dir.resolve("none.ckpt");
    assertOneLineError(
        run(trainArgs(in, none, "--test-users", "0")),
        2,
        "recjpq train: error: --test-users must be a positive number or 'all', found '0'.");
    assertOneLineError(
        run(trainArgs(in, none, "--model", "sasrec", "--head-transform")),
        2,
        "recjpq train: error: The output transform (--head-transform) is part of BERT4Rec only");
    assertFalse(Files.exists(none));
  }

  @ParameterizedTest
  @ValueSource(strings = {"gru4rec", "bert4rec"})
  void otherBackbonesTrainEvaluateAndServe(String backbone) throws IOException {
    Path in = goodPairs();
    Path ckpt = dir.resolve("g.ckpt");
    Run t = run(trainArgs(in, ckpt, "--model", backbone, "--epochs", "2", "--json"));
    assertEquals(0, t.code(), t.err());
    Run e =
        run(
            "evaluate",
            "--checkpoint",
            ckpt.toString(),
            "-i",
            in.toString(),
            "-f",
            "sasrec-pairs",
            "--json");
    assertEquals(0, e.code(), e.err());
    JsonNode j = new ObjectMapper().readTree(t.out().lines().reduce((a, b) -> b).orElseThrow());
    assertEquals(
        j.get("ndcg@10").asDouble(),
        new ObjectMapper().readTree(e.out()).get("ndcg@10").asDouble(),
        1e-12);
    Run r =
        run(
            "recommend",
            "--checkpoint",
            ckpt.toString(),
            "--history",
            "8,15",
            "--k",
            "3",
            "--json");
    assertEquals(0, r.code(), r.err());
    assertEquals(3, new ObjectMapper().readTree(r.out()).get("items").size());
    assertOneLineError(
        run(trainArgs(in, ckpt, "--model", "transformer-xl")),
        2,
        "recjpq train: error: --model must be sasrec, gru4rec or bert4rec");
    if (backbone.equals("bert4rec")) {
      assertOneLineError(
          run(trainArgs(in, ckpt, "--model", backbone, "--loss", "bce")),
          2,
          "recjpq train: error: --model bert4rec trains with the full softmax CE");
      assertOneLineError(
          run(trainArgs(in, ckpt, "--model", backbone, "--mask-prob", "1.5")),
          2,
          "recjpq train: error: The mask probability must be between 0 and 1");
    }
  }

  @Test
  void benchScoringOnARandomHeadPrintsEveryScorerAndAgrees() throws IOException {
    Run r =
        run(
            "bench",
            "scoring",
            "--items",
            "3000",
            "--dim",
            "16",
            "--splits",
            "4",
            "--k",
            "10",
            "--queries",
            "5",
            "--batch",
            "6",
            "--json");
    assertEquals(0, r.code(), r.err());
    JsonNode j = new ObjectMapper().readTree(r.out());
    for (String key :
        new String[] {"dense_ms", "pqtopk_ms", "pruned_ms", "batch_gemm_ms", "batch_lookup_ms"}) {
      assertTrue(j.get(key).asDouble() > 0, key + " in " + r.out());
    }
    assertTrue(j.get("agree").asBoolean(), r.out());
    assertOneLineError(
        run("bench", "scoring", "--items", "100", "--dim", "10", "--splits", "4"),
        2,
        "recjpq scoring: error: The embedding size d = 10 is not divisible");
  }

  @Test
  void badTrainingInputsAreClearErrors() throws IOException {
    Path in = goodPairs();
    assertOneLineError(
        run(trainArgs(in, dir.resolve("x.ckpt"), "--dim", "10", "--splits", "4")),
        2,
        "recjpq train: error: The embedding size d = 10 is not divisible by the number of splits m = 4");
    assertOneLineError(
        run(trainArgs(in, dir.resolve("x.ckpt"), "--loss", "hinge")),
        2,
        "recjpq train: error: Unknown loss 'hinge'");
    Path other = file("other.txt", "1 1\n1 2\n1 3\n1 4\n1 5\n1 6\n2 2\n2 3\n2 4\n2 5\n2 6\n2 7\n");
    Path ckpt = dir.resolve("m.ckpt");
    assertEquals(0, run(trainArgs(in, ckpt, "--epochs", "1")).code());
    assertOneLineError(
        run(
            "evaluate",
            "--checkpoint",
            ckpt.toString(),
            "-i",
            other.toString(),
            "-f",
            "sasrec-pairs"),
        1,
        "recjpq evaluate: error: " + ckpt + " was trained on another item vocabulary");
    byte[] good = Files.readAllBytes(ckpt);
    byte[] bad = good.clone();
    bad[bad.length / 2] ^= 1;
    Path broken = dir.resolve("broken.ckpt");
    Files.write(broken, bad);
    Run r =
        run(
            "evaluate",
            "--checkpoint",
            broken.toString(),
            "-i",
            in.toString(),
            "-f",
            "sasrec-pairs");
    assertOneLineError(
        r, 1, "recjpq evaluate: error: " + broken + " is damaged or is not a recjpq checkpoint");
  }

  @Test
  void aNanLossStopsWithAMessageAndKeepsTheLastGoodCheckpoint() throws IOException {
    Path in = goodPairs();
    Path ckpt = dir.resolve("m.ckpt");
    assertEquals(0, run(trainArgs(in, ckpt, "--epochs", "1", "--save-optimizer")).code());
    byte[] before = Files.readAllBytes(ckpt);
    Path resumed = dir.resolve("resumed.ckpt");
    Run r =
        run(
            trainArgs(
                in,
                resumed,
                "--resume",
                ckpt.toString(),
                "--epochs",
                "50",
                "--lr",
                "1e30",
                "--clip-norm",
                "0",
                "--save-optimizer",
                "--override"));
    assertOneLineError(r, 1, "recjpq train: error: The training loss became");
    assertTrue(r.err().contains("the last good checkpoint is kept"), r.err());
    assertArrayEquals(before, Files.readAllBytes(ckpt));
    assertFalse(Files.exists(resumed), "no checkpoint was better than the one resumed from");
  }
}
