package org.recjpq.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.recjpq.cli.FuzzSupport.latin1;
import static org.recjpq.cli.FuzzSupport.pick;
import static org.recjpq.cli.FuzzSupport.utf8Token;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.function.Function;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.recjpq.cli.FuzzSupport.Mutation;
import org.recjpq.cli.FuzzSupport.Tally;
import org.recjpq.serve.HttpService;
import org.recjpq.serve.Recommender;
import org.recjpq.util.Excerpt;

/**
 * Robustness fuzzing of every reader of the command line: valid inputs are mutated many times with
 * a fixed seed ({@link SplittableRandom}), and every mutated case is run in-process through {@link
 * CliTest#run} (or, for HTTP bodies, sent to an in-process {@link HttpService}).
 *
 * <p><b>What is fuzzed, and with what.</b>
 *
 * <ol>
 *   <li>Interaction logs in every {@code --format} (sasrec-pairs, user-lines, movielens in both its
 *       {@code ::} and tab forms, csv with a comma and with a tab, booking, gowalla), read by
 *       {@code evaluate} and by {@code prepare}: bit flips, byte insertion and deletion,
 *       truncation, line duplication and deletion, field swaps, a field replaced by a huge,
 *       negative, non-numeric, empty or 100 KB token, invalid UTF-8, NUL bytes, unbalanced quotes,
 *       joined lines; and changes that must not change the result at all (a byte-order mark, CRLF
 *       line ends, blank lines, spaces around lines).
 *   <li>The binary dataset file ({@code .rjd}) of {@code prepare}, read by {@code evaluate} and
 *       {@code info --dataset}: bit flips and boundary values in the header and the sections,
 *       truncation, appended garbage, copied, inserted and deleted bytes.
 *   <li>A codes file of {@code assign-codes}, read by a tiny {@code train --codes FILE}.
 *   <li>A resumable checkpoint of a tiny {@code train}, read by {@code recommend}, {@code evaluate
 *       --checkpoint} and {@code train --resume}.
 *   <li>The {@code --config} JSON of {@code train}: malformed JSON, wrong types, nulls, unknown and
 *       duplicate keys, trailing data, huge, negative, fractional and out-of-range numbers.
 *   <li>Request bodies of {@code POST /recommend} on an {@link HttpService} over the tiny
 *       checkpoint: structural changes (wrong types, huge k, deep nesting, long strings, batches,
 *       unknown fields, trailing data) and byte-level ones (flips, truncation, invalid UTF-8).
 *   <li>The per-user result files of {@code evaluate --per-user}, read by {@code compare}.
 * </ol>
 *
 * <p><b>What every case asserts.</b> The command either succeeds with a correct result or fails
 * with exit code 1 (an input problem; the README's "Failure behaviour"): never 2 (usage) or 3
 * (internal error) for a mutated file. A failure's standard error is exactly one line, shorter than
 * 600 characters (a message quotes at most 200 characters of input), without a stack trace or a
 * Java class name, and without unescaped control, format or undecodable characters. Inputs are
 * never modified; a failed command leaves its output directory exactly as it was (no new file, no
 * temporary file), and a successful one leaves no temporary file. A success is checked: a prepared
 * dataset loads and evaluates to the numbers of the raw log; a mutation that must not matter gives
 * the unmutated input's numbers; a damaged binary file (dataset, codes, checkpoint) is refused, or,
 * if accepted, gives exactly the unmutated file's results; a compare result has finite statistics.
 *
 * <p><b>Config files</b> ({@code --config}) are input files, so a file that is not one JSON object
 * of known settings with values of the settings' types (integers for integer settings, finite
 * numbers, strings, booleans, null only where a setting may be unset) must fail with exit code 1. A
 * well-formed file whose values are out of range (dim -3, maxLen 0) is refused by the same checks
 * as the equivalent flags, which are usage errors: exit code 2 is accepted there, and so is 0 when
 * the checkpoint records exactly the settings of the file.
 *
 * <p><b>HTTP bodies</b> must get 200 with a JSON object whose {@code items} hold at most k
 * distinct, not excluded ids (each of a batch's {@code results} too), or a 4xx with a JSON {@code
 * {"error": "..."}} body and {@code Content-Type: application/json}; never a 5xx, never HTML; and
 * the error message is held to the same rules as a command's standard error (one line, bounded,
 * printable, no class names).
 *
 * <p>Each reader prints its case counts and time ({@code fuzz: READER N cases, ...}), and the last
 * line the total; all of it takes about 35 s on 2 cores.
 */
class RobustnessFuzzTest {
  private static final long SEED = 0x5eed_2024_0611L;
  private static final ObjectMapper JSON = new ObjectMapper();

  /** Parses as the readers must: one value, no trailing data, no duplicate keys. */
  private static final ObjectMapper STRICT =
      new ObjectMapper()
          .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
          .enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION);

  private static final int USERS = 30;
  private static final int PER_USER = 6;
  private static final int ITEMS = 40;
  private static final List<Tally> TALLIES = new ArrayList<>();
  private static final String[] TINY_MODEL = {
    "--preset",
    "cpu",
    "--embedding",
    "jpq",
    "--splits",
    "2",
    "--dim",
    "8",
    "--blocks",
    "1",
    "--heads",
    "1",
    "--max-len",
    "10",
    "--ffn-dim",
    "8",
    "--batch-size",
    "16",
    "--epochs",
    "1",
    "--validation-users",
    "all",
    "--device",
    "cpu",
    "--threads",
    "1",
    "--quiet",
    "--json"
  };

  @TempDir static Path root;
  private static Path base;
  private static Path dataset;
  private static Path codes;
  private static Path checkpoint;
  private static long started;

  @BeforeAll
  static void baseFiles() throws IOException {
    started = System.nanoTime();
    base = Files.createDirectories(root.resolve("base"));
    Path pairs = Files.writeString(base.resolve("pairs.txt"), pairs());
    dataset = base.resolve("data.rjd");
    expectOk(
        CliTest.run(
            "prepare",
            "--input",
            pairs.toString(),
            "--format",
            "sasrec-pairs",
            "--output",
            dataset.toString()));
    codes = base.resolve("base.codes");
    expectOk(
        CliTest.run(
            "assign-codes",
            "--input",
            dataset.toString(),
            "--strategy",
            "random",
            "--splits",
            "2",
            "--dim",
            "8",
            "--seed",
            "5",
            "--output",
            codes.toString()));
    checkpoint = base.resolve("base.ckpt");
    expectOk(
        CliTest.run(
            concat(
                new String[] {
                  "train",
                  "--input",
                  dataset.toString(),
                  "--codes",
                  codes.toString(),
                  "--save-optimizer",
                  "--output",
                  checkpoint.toString(),
                  "--report",
                  base.resolve("report").toString()
                },
                TINY_MODEL)));
  }

  @AfterAll
  static void summary() {
    int total = 0;
    for (Tally t : TALLIES) {
      total += t.cases;
    }
    System.out.printf(
        "fuzz: %d cases in total over %d readers in %.1f s%n",
        total, TALLIES.size(), (System.nanoTime() - started) / 1e9);
  }

  private static void expectOk(CliTest.Run r) {
    assertEquals(0, r.code(), r.err());
  }

  private static String[] concat(String[] a, String... b) {
    String[] c = Arrays.copyOf(a, a.length + b.length);
    System.arraycopy(b, 0, c, a.length, b.length);
    return c;
  }

  private static int item(int u, int k) {
    return 1 + (u * 7 + k * 3) % ITEMS;
  }

  private static String pairs() {
    StringBuilder b = new StringBuilder();
    for (int u = 1; u <= USERS; u++) {
      for (int k = 0; k < PER_USER; k++) {
        b.append(u).append(' ').append(item(u, k)).append('\n');
      }
    }
    return b.toString();
  }

  // ---------------------------------------------------------------------------------------------
  // The case runner

  /** One reader's cases: the work directories, the tally, and the failures found. */
  private static final class Cases {
    final String reader;
    final Tally tally;
    final Path in;
    final Path out;
    final List<String> failures = new ArrayList<>();
    int caseNo;
    String what = "";

    Cases(String reader) throws IOException {
      this.reader = reader;
      this.tally = new Tally(reader);
      Path dir = Files.createDirectories(root.resolve(reader));
      in = Files.createDirectories(dir.resolve("in"));
      out = Files.createDirectories(dir.resolve("out"));
      synchronized (TALLIES) {
        TALLIES.add(tally);
      }
    }

    void next(String description) {
      caseNo++;
      what = description;
    }

    void fail(String problem, String[] args, CliTest.Run r) {
      failures.add(
          reader
              + " case "
              + caseNo
              + " ("
              + what
              + "): "
              + problem
              + (args == null ? "" : "\n    command: " + Excerpt.of(String.join(" ", args)))
              + (r == null ? "" : "\n    exit " + r.code() + ", stderr: " + Excerpt.of(r.err())));
    }

    /** Prints the tally and fails with every problem found (the first 40 of them). */
    void finish() {
      System.out.println(tally);
      if (!failures.isEmpty()) {
        StringBuilder b =
            new StringBuilder(
                failures.size() + " of " + tally.cases + " " + reader + " cases failed:\n");
        failures.stream()
            .limit(Integer.getInteger("fuzz.show", 40))
            .forEach(f -> b.append(f).append('\n'));
        throw new AssertionError(b.toString());
      }
    }

    /**
     * Runs a command whose input file {@code input} is mutated; checks what every case must hold
     * (input unchanged; on failure: an allowed exit code, one clean line, the output directory
     * unchanged; on success: no temporary file left). Returns the run, or null when it failed a
     * check.
     */
    CliTest.Run run(Path input, Set<Integer> allowedFailures, String... args) {
      byte[] before = read(input);
      Map<String, byte[]> snap = FuzzSupport.snapshot(out);
      CliTest.Run r = CliTest.run(args);
      boolean ok = true;
      if (!Arrays.equals(before, read(input))) {
        fail("the input file was modified", args, r);
        ok = false;
      }
      if (r.code() == 0) {
        List<String> temps = temporaries(out);
        if (!temps.isEmpty()) {
          fail("a temporary file was left: " + temps, args, r);
          ok = false;
        }
        tally.count("ok");
      } else {
        tally.count("exit " + r.code());
        if (!allowedFailures.contains(r.code())) {
          fail("exit code " + r.code() + " (allowed: 0 or " + allowedFailures + ")", args, r);
          ok = false;
        }
        for (String p : FuzzSupport.stderrProblems(r.err())) {
          fail(p, args, r);
          ok = false;
        }
        String d = FuzzSupport.diff(snap, FuzzSupport.snapshot(out));
        if (!d.isEmpty()) {
          fail("the failed command changed its output directory: " + d, args, r);
          ok = false;
        }
      }
      return ok ? r : null;
    }
  }

  private static byte[] read(Path p) {
    try {
      return Files.readAllBytes(p);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static void write(Path p, byte[] b) {
    try {
      Files.write(p, b);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static List<String> temporaries(Path dir) {
    try (Stream<Path> s = Files.walk(dir)) {
      return s.map(p -> p.getFileName().toString()).filter(n -> n.endsWith(".tmp")).toList();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static final Set<Integer> INPUT_ERROR = Set.of(1);

  /** A JSON object printed by a command, without the fields that differ from run to run. */
  private static JsonNode result(String stdout, String... volatileFields) {
    try {
      JsonNode n = STRICT.readTree(stdout);
      if (n instanceof ObjectNode o) {
        for (String f : volatileFields) {
          o.remove(f);
        }
      }
      return n;
    } catch (IOException e) {
      return null;
    }
  }

  // ---------------------------------------------------------------------------------------------
  // 1. Interaction logs

  /**
   * A valid log of one format: its file name, the field separator of its lines, the options that
   * read it, how many header lines it has, and its text.
   */
  private record LogFormat(
      String name,
      String file,
      String separator,
      List<String> options,
      int headerLines,
      String text,
      Reorder reorder,
      boolean csv) {
    LogFormat(
        String name,
        String file,
        String separator,
        List<String> options,
        int headerLines,
        String text) {
      this(name, file, separator, options, headerLines, text, Reorder.NONE, false);
    }
  }

  /** Which reordering of a log's lines leaves it the same log. */
  private enum Reorder {
    /** None is known to. */
    NONE,
    /** Any: every user's interactions have distinct times (or each user is one line). */
    ANY,
    /** Any that keeps each user's lines in their order (the line order is the time order). */
    PER_USER
  }

  private static List<LogFormat> logFormats() {
    List<LogFormat> f = new ArrayList<>();
    StringBuilder pairs = new StringBuilder();
    StringBuilder lines = new StringBuilder();
    StringBuilder dat = new StringBuilder();
    StringBuilder udata = new StringBuilder();
    StringBuilder csv = new StringBuilder("user_id,item_id,rating,timestamp\n");
    StringBuilder tsv = new StringBuilder("who\twhat\twhen\n");
    StringBuilder booking =
        new StringBuilder(
            "user_id,checkin,checkout,city_id,device_class,affiliate_id,booker_country,hotel_country,utrip_id\n");
    StringBuilder gowalla = new StringBuilder();
    for (int u = 1; u <= USERS; u++) {
      lines.append(u);
      for (int k = 0; k < PER_USER; k++) {
        int i = item(u, k);
        long t = 978_300_000L + 1000L * ((u * 13 + k * 5) % 37) + k; // not in file order
        pairs.append(u).append(' ').append(i).append('\n');
        lines.append(' ').append(i);
        dat.append(u)
            .append("::")
            .append(i)
            .append("::")
            .append(1 + k % 5)
            .append("::")
            .append(t)
            .append('\n');
        udata
            .append(u)
            .append('\t')
            .append(i)
            .append('\t')
            .append(1 + k % 5)
            .append('\t')
            .append(t)
            .append('\n');
        String itemId =
            i % 7 == 0 ? "\"item," + i + "\"" : "i" + i; // text ids, some quoted with a comma
        csv.append("u")
            .append(u)
            .append(',')
            .append(itemId)
            .append(',')
            .append(1 + k % 5)
            .append(',')
            .append(t)
            .append('\n');
        tsv.append("user ")
            .append(u)
            .append('\t')
            .append(i)
            .append('\t')
            .append(java.time.Instant.ofEpochSecond(t))
            .append('\n');
        String day = java.time.LocalDate.of(2016, 4, 1).plusDays((u * 3 + k * 2) % 20).toString();
        booking
            .append(1000 + u)
            .append(',')
            .append(day)
            .append(',')
            .append(day)
            .append(',')
            .append(i)
            .append(",mobile,")
            .append(u % 4)
            .append(",Elbonia,Gondal,")
            .append(1000 + u)
            .append("_1\n");
        gowalla
            .append(u)
            .append('\t')
            .append(java.time.Instant.ofEpochSecond(t))
            .append("\t30.2359\t-97.7951\t")
            .append(i)
            .append('\n');
      }
      lines.append('\n');
    }
    f.add(
        new LogFormat(
            "sasrec-pairs",
            "pairs.txt",
            " ",
            List.of("--format", "sasrec-pairs"),
            0,
            pairs.toString(),
            Reorder.PER_USER,
            false));
    f.add(
        new LogFormat(
            "user-lines",
            "lines.txt",
            " ",
            List.of("--format", "user-lines"),
            0,
            lines.toString(),
            Reorder.ANY,
            false));
    f.add(
        new LogFormat(
            "movielens-dat",
            "ratings.dat",
            "::",
            List.of("--format", "movielens"),
            0,
            dat.toString(),
            Reorder.ANY,
            false));
    f.add(
        new LogFormat(
            "movielens-tab",
            "u.data",
            "\t",
            List.of("--format", "movielens"),
            0,
            udata.toString(),
            Reorder.ANY,
            false));
    f.add(
        new LogFormat(
            "csv",
            "log.csv",
            ",",
            List.of("--format", "csv", "--time-column", "timestamp"),
            1,
            csv.toString(),
            Reorder.ANY,
            true));
    f.add(
        new LogFormat(
            "csv-tab",
            "log.csv",
            "\t",
            List.of(
                "--format",
                "csv",
                "--user-column",
                "who",
                "--item-column",
                "what",
                "--time-column",
                "when"),
            1,
            tsv.toString(),
            Reorder.ANY,
            true));
    f.add(
        new LogFormat(
            "booking",
            "booking.csv",
            ",",
            List.of("--format", "booking"),
            1,
            booking.toString(),
            Reorder.ANY,
            true));
    f.add(
        new LogFormat(
            "gowalla",
            "checkins.txt",
            "\t",
            List.of("--format", "gowalla"),
            0,
            gowalla.toString(),
            Reorder.ANY,
            false));
    return f;
  }

  /** Mutations that must not change what a log means. */
  private static Mutation harmless(SplittableRandom rnd, byte[] in, LogFormat f) {
    String s = latin1(in);
    int kinds = 4 + (f.reorder() != Reorder.NONE ? 1 : 0) + (f.csv() ? 1 : 0);
    int kind = rnd.nextInt(kinds);
    if (kind == 4 && f.reorder() != Reorder.NONE) {
      return reorderLines(rnd, s, f);
    }
    if (kind >= 4) { // csv: quote a field that has no quotes (a quoted field means the same)
      String[] lines = s.split("\n", -1);
      int at = f.headerLines() + rnd.nextInt(lines.length - 1 - f.headerLines());
      String[] fields = lines[at].split(java.util.regex.Pattern.quote(f.separator()), -1);
      int fi = rnd.nextInt(fields.length);
      if (!fields[fi].contains("\"")) {
        fields[fi] = "\"" + fields[fi] + "\"";
      }
      lines[at] = String.join(f.separator(), fields);
      return new Mutation(
          latin1(String.join("\n", lines)), "quote field " + fi + " of line " + (at + 1));
    }
    switch (kind) {
      case 0 -> {
        return new Mutation(
            FuzzSupport.splice(in, 0, 0, new byte[] {(byte) 0xef, (byte) 0xbb, (byte) 0xbf}),
            "byte-order mark");
      }
      case 1 -> {
        return new Mutation(latin1(s.replace("\n", "\r\n")), "CRLF line ends");
      }
      case 2 -> {
        List<String> lines = new ArrayList<>(List.of(s.split("\n", -1)));
        int at = f.headerLines() + rnd.nextInt(lines.size() - f.headerLines());
        lines.add(at, rnd.nextBoolean() ? "" : "   ");
        return new Mutation(latin1(String.join("\n", lines)), "blank line at line " + (at + 1));
      }
      default -> {
        String[] lines = s.split("\n", -1);
        int at = rnd.nextInt(lines.length - 1);
        lines[at] = "  " + lines[at] + " ";
        return new Mutation(latin1(String.join("\n", lines)), "spaces around line " + (at + 1));
      }
    }
  }

  /** The data lines in another order that makes the same log (the header stays first). */
  private static Mutation reorderLines(SplittableRandom rnd, String s, LogFormat f) {
    List<String> lines = new ArrayList<>(List.of(s.split("\n")));
    List<String> header = new ArrayList<>(lines.subList(0, f.headerLines()));
    List<String> data = new ArrayList<>(lines.subList(f.headerLines(), lines.size()));
    List<String> out = new ArrayList<>(header);
    if (f.reorder() == Reorder.ANY) {
      for (int i = data.size() - 1; i > 0; i--) { // Fisher-Yates
        int j = rnd.nextInt(i + 1);
        String t = data.get(i);
        data.set(i, data.get(j));
        data.set(j, t);
      }
      out.addAll(data);
      return new Mutation(latin1(String.join("\n", out) + "\n"), "shuffle the lines");
    }
    Map<String, java.util.ArrayDeque<String>> byUser =
        new LinkedHashMap<>(); // interleave users, each in order
    for (String line : data) {
      byUser
          .computeIfAbsent(
              line.split(java.util.regex.Pattern.quote(f.separator()))[0],
              u -> new java.util.ArrayDeque<>())
          .add(line);
    }
    List<java.util.ArrayDeque<String>> queues = new ArrayList<>(byUser.values());
    while (!queues.isEmpty()) {
      int q = rnd.nextInt(queues.size());
      out.add(queues.get(q).poll());
      if (queues.get(q).isEmpty()) {
        queues.remove(q);
      }
    }
    return new Mutation(
        latin1(String.join("\n", out) + "\n"), "interleave the users' lines, each user's in order");
  }

  /**
   * One mutation of a log (text as one char per byte, so that any byte survives line and field
   * surgery).
   */
  private static Mutation mutateLog(SplittableRandom rnd, byte[] in, LogFormat f) {
    String s = latin1(in);
    List<String> lines = new ArrayList<>(List.of(s.split("\n", -1)));
    int nLines = lines.size() - (s.endsWith("\n") ? 1 : 0);
    int li =
        nLines == 0
            ? 0
            : f.headerLines() > 0 && rnd.nextInt(8) == 0 ? 0 : rnd.nextInt(nLines); // headers too
    String sep = f.separator();
    switch (rnd.nextInt(16)) {
      case 0:
        return FuzzSupport.flipBit(rnd, in, 0, in.length);
      case 1:
        return FuzzSupport.insertBytes(rnd, in);
      case 2:
        return FuzzSupport.deleteBytes(rnd, in);
      case 3:
        return FuzzSupport.truncate(rnd, in);
      case 4:
        {
          lines.add(li, lines.get(li));
          return new Mutation(latin1(String.join("\n", lines)), "duplicate line " + (li + 1));
        }
      case 5:
        {
          lines.remove(li);
          return new Mutation(latin1(String.join("\n", lines)), "delete line " + (li + 1));
        }
      case 6:
        {
          String[] fields = lines.get(li).split(java.util.regex.Pattern.quote(sep), -1);
          if (fields.length < 2) {
            return FuzzSupport.flipBit(rnd, in, 0, in.length);
          }
          int a = rnd.nextInt(fields.length);
          int b = rnd.nextInt(fields.length);
          String t = fields[a];
          fields[a] = fields[b];
          fields[b] = t;
          lines.set(li, String.join(sep, fields));
          return new Mutation(
              latin1(String.join("\n", lines)),
              "swap fields " + a + " and " + b + " of line " + (li + 1));
        }
      case 7:
      case 8:
      case 9:
        {
          String[] fields = lines.get(li).split(java.util.regex.Pattern.quote(sep), -1);
          int fi = rnd.nextInt(fields.length);
          String token;
          String kind;
          switch (rnd.nextInt(5)) {
            case 0 -> {
              token = pick(rnd, FuzzSupport.HUGE);
              kind = "huge";
            }
            case 1 -> {
              token = pick(rnd, FuzzSupport.NEGATIVE);
              kind = "negative";
            }
            case 2 -> {
              token = utf8Token(pick(rnd, FuzzSupport.NON_NUMERIC));
              kind = "non-numeric";
            }
            case 3 -> {
              token = "";
              kind = "empty";
            }
            default -> {
              token = rnd.nextBoolean() ? "7".repeat(100_000) : "x".repeat(100_000);
              kind = "100 KB";
            }
          }
          fields[fi] = token;
          lines.set(li, String.join(sep, fields));
          return new Mutation(
              latin1(String.join("\n", lines)),
              "field "
                  + fi
                  + " of line "
                  + (li + 1)
                  + " := "
                  + kind
                  + " '"
                  + Excerpt.of(token.length() > 20 ? token.substring(0, 20) : token)
                  + "'");
        }
      case 10:
        return FuzzSupport.invalidUtf8(rnd, in);
      case 11:
        return FuzzSupport.nulBytes(rnd, in);
      case 12:
        {
          int pos = rnd.nextInt(in.length + 1);
          return new Mutation(
              FuzzSupport.splice(in, pos, 0, new byte[] {'"'}), "unbalanced quote at " + pos);
        }
      case 13:
        {
          if (li + 1 >= lines.size()) {
            return FuzzSupport.truncate(rnd, in);
          }
          lines.set(li, lines.get(li) + lines.remove(li + 1));
          return new Mutation(
              latin1(String.join("\n", lines)), "join lines " + (li + 1) + " and " + (li + 2));
        }
      case 14:
        {
          // a line of another format's shape
          String[] others = {
            "1 2 3", "1::2::3::4", "a\tb\tc\td\te", "x,y", ",,,", "\t", "::", "1 2\t3"
          };
          String o = pick(rnd, others);
          lines.add(li, o);
          return new Mutation(
              latin1(String.join("\n", lines)),
              "insert line '" + Excerpt.of(o) + "' at " + (li + 1));
        }
      default:
        {
          lines.set(li, lines.get(li).replace(sep, rnd.nextBoolean() ? sep + sep : ""));
          return new Mutation(
              latin1(String.join("\n", lines)),
              "double or drop the separators of line " + (li + 1));
        }
    }
  }

  private static Mutation mutateLogRepeatedly(SplittableRandom rnd, byte[] in, LogFormat f) {
    int n = 1 + (rnd.nextInt(4) == 0 ? 1 + rnd.nextInt(2) : 0);
    byte[] b = in;
    List<String> what = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      if (b.length == 0) {
        break;
      }
      Mutation m = mutateLog(rnd, b, f);
      b = m.bytes();
      what.add(m.what());
    }
    return new Mutation(b, String.join("; ", what));
  }

  @Test
  void interactionLogs() throws IOException {
    SplittableRandom rnd = new SplittableRandom(SEED);
    List<String> failures = new ArrayList<>();
    int evaluateCases = 160;
    int prepareCases = 40;
    for (LogFormat f : logFormats()) {
      Cases c = new Cases("interactions-" + f.name());
      byte[] valid = f.text().getBytes(StandardCharsets.UTF_8);
      Path input = c.in.resolve(f.file());
      write(input, valid);
      String[] evaluate =
          concat(
              concat(
                  new String[] {"evaluate", "--input", input.toString()},
                  f.options().toArray(new String[0])),
              "--model",
              "mostpop",
              "--json",
              "--threads",
              "1");
      CliTest.Run first = CliTest.run(evaluate);
      assertEquals(0, first.code(), f.name() + ": " + first.err());
      JsonNode expected = result(first.out(), "seconds");
      assertEquals(USERS, expected.path("users").asInt(), first.out());
      for (int i = 0; i < evaluateCases + prepareCases; i++) {
        boolean mustNotMatter = rnd.nextInt(6) == 0;
        Mutation m = mustNotMatter ? harmless(rnd, valid, f) : mutateLogRepeatedly(rnd, valid, f);
        c.next(m.what());
        write(input, m.bytes());
        if (i < evaluateCases) {
          CliTest.Run r = c.run(input, INPUT_ERROR, evaluate);
          if (r == null || r.code() != 0) {
            if (r != null && mustNotMatter) {
              c.fail("a change that must not matter was refused", evaluate, r);
            }
            continue;
          }
          JsonNode got = result(r.out(), "seconds");
          if (got == null || !validMetrics(got)) {
            c.fail(
                "the output is not a JSON object of metrics: " + Excerpt.of(r.out()), evaluate, r);
          } else if (mustNotMatter && !got.equals(expected)) {
            c.fail(
                "a change that must not matter changed the result: "
                    + got
                    + " instead of "
                    + expected,
                evaluate,
                r);
          } else if (mustNotMatter) {
            c.tally.outcomes.merge(
                "of them the unmutated result after a change that must not matter",
                1,
                Integer::sum);
          }
        } else {
          Path output = c.out.resolve("case.rjd");
          String[] prepare =
              concat(
                  concat(
                      new String[] {"prepare", "--input", input.toString()},
                      f.options().toArray(new String[0])),
                  "--output",
                  output.toString());
          CliTest.Run r = c.run(input, INPUT_ERROR, prepare);
          if (r == null || r.code() != 0) {
            if (r != null && Files.exists(output)) {
              c.fail("a failed prepare left its output", prepare, r);
            }
            continue;
          }
          checkPrepared(c, output, evaluate, prepare);
          FuzzSupport.clear(c.out);
        }
      }
      failures.addAll(finish(c));
    }
    assertTrue(failures.isEmpty(), String.join("\n", failures));
  }

  /**
   * A successful prepare: its output (and nothing else) exists, loads, and evaluates as the raw log
   * does.
   */
  private static void checkPrepared(Cases c, Path output, String[] evaluateRaw, String[] prepare) {
    try (Stream<Path> s = Files.list(c.out)) {
      List<String> names = s.map(p -> p.getFileName().toString()).toList();
      if (!names.equals(List.of(output.getFileName().toString()))) {
        c.fail("prepare left " + names + " in its output directory", prepare, null);
        return;
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    CliTest.Run fromFile =
        CliTest.run(
            "evaluate",
            "--input",
            output.toString(),
            "--model",
            "mostpop",
            "--json",
            "--threads",
            "1");
    if (fromFile.code() != 0) {
      c.fail("the dataset prepare wrote does not load", prepare, fromFile);
      return;
    }
    CliTest.Run fromRaw = CliTest.run(evaluateRaw);
    JsonNode a = result(fromFile.out(), "seconds");
    JsonNode b = result(fromRaw.out(), "seconds");
    if (a == null || !validMetrics(a)) {
      c.fail(
          "evaluate on the prepared file printed no metrics: " + Excerpt.of(fromFile.out()),
          prepare,
          fromFile);
    } else if (fromRaw.code() != 0 || !a.equals(b)) {
      c.fail(
          "the prepared file and the raw log evaluate differently: "
              + a
              + " vs "
              + Excerpt.of(fromRaw.out() + fromRaw.err()),
          prepare,
          fromRaw);
    }
  }

  private static boolean validMetrics(JsonNode n) {
    if (!n.isObject() || n.path("users").asInt() < 1 || !n.path("model").isTextual()) {
      return false;
    }
    for (String k : new String[] {"ndcg@10", "recall@10", "mrr"}) {
      JsonNode v = n.get(k);
      if (v == null || !v.isNumber() || !(v.asDouble() >= 0 && v.asDouble() <= 1)) {
        return false;
      }
    }
    return true;
  }

  private static List<String> finish(Cases c) {
    try {
      c.finish();
      return List.of();
    } catch (AssertionError e) {
      return List.of(e.getMessage());
    }
  }

  // ---------------------------------------------------------------------------------------------
  // 2-4. Binary files: datasets, codes, checkpoints

  /**
   * The length of a sectioned file's frame before its first section (magic, version, header, CRC).
   */
  private static int headerEnd(byte[] file) {
    return 16 + ByteBuffer.wrap(file, 12, 4).getInt() + 4;
  }

  /**
   * The offsets of the sections' frames: {name length at, byte length at, data at, data length}.
   */
  private static List<long[]> sections(byte[] file) {
    List<long[]> s = new ArrayList<>();
    ByteBuffer b = ByteBuffer.wrap(file);
    int pos = headerEnd(file);
    while (pos + 2 <= file.length) {
      int nameLength = Short.toUnsignedInt(b.getShort(pos));
      int lengthAt = pos + 2 + nameLength;
      long length = b.getLong(lengthAt);
      s.add(new long[] {pos, lengthAt, lengthAt + 8, length});
      pos = (int) (lengthAt + 8 + length + 4);
    }
    return s;
  }

  /** A section's length (or its name's) set to a boundary value: the frame a reader must check. */
  private static Mutation frameLength(SplittableRandom rnd, byte[] in) {
    List<long[]> sections = sections(in);
    long[] sec = sections.get(rnd.nextInt(sections.size()));
    byte[] b = in.clone();
    ByteBuffer buf = ByteBuffer.wrap(b);
    if (rnd.nextInt(4) == 0) {
      int v =
          pick(rnd, new String[] {"0", "65535", "1", "32768"}).equals("0")
              ? 0
              : 1 + rnd.nextInt(65535);
      buf.putShort((int) sec[0], (short) v);
      return new Mutation(b, "name length of the section at " + sec[0] + " := " + v);
    }
    long[] values = {
      Long.MAX_VALUE,
      Long.MAX_VALUE - sec[2] - 3,
      Long.MIN_VALUE,
      -1,
      0,
      sec[3] + 1,
      sec[3] - 1,
      sec[3] + 4,
      in.length,
      1L << 32,
      Integer.MAX_VALUE
    };
    long v = values[rnd.nextInt(values.length)];
    if (v == sec[3]) {
      v++;
    }
    buf.putLong((int) sec[1], v);
    return new Mutation(b, "byte length of the section at " + sec[0] + " := " + v);
  }

  private static Mutation mutateBinary(SplittableRandom rnd, byte[] in) {
    if (rnd.nextInt(8) == 0) {
      return frameLength(rnd, in);
    }
    int header = headerEnd(in);
    boolean inHeader = rnd.nextInt(3) == 0;
    int from = inHeader ? 0 : header;
    int to = inHeader ? header : in.length;
    return switch (rnd.nextInt(10)) {
      case 0, 1, 2 -> FuzzSupport.flipBit(rnd, in, from, to);
      case 3 -> FuzzSupport.setByte(rnd, in, from, to);
      case 4, 5 -> FuzzSupport.interestingInteger(rnd, in, from, to);
      case 6 -> FuzzSupport.truncate(rnd, in);
      case 7 -> FuzzSupport.appendGarbage(rnd, in);
      case 8 -> FuzzSupport.duplicateChunk(rnd, in);
      default ->
          rnd.nextBoolean() ? FuzzSupport.insertBytes(rnd, in) : FuzzSupport.deleteBytes(rnd, in);
    };
  }

  /** A command's JSON output without the fields that change from run to run. */
  private static Function<String, Object> json(String... volatileFields) {
    return out -> result(out, volatileFields);
  }

  /**
   * Mutates a binary file {@code cases} times and runs {@code command} on it: it must be refused
   * with exit code 1, or give exactly the unmutated file's result (as {@code normal} puts it): an
   * accepted change that changes a result is a silently accepted damaged file.
   */
  private static void fuzzBinary(
      Cases c,
      SplittableRandom rnd,
      byte[] valid,
      Path file,
      int cases,
      Function<Path, String[]> command,
      Function<String, Object> normal) {
    write(file, valid);
    String[] args = command.apply(file);
    CliTest.Run first = CliTest.run(args);
    assertEquals(0, first.code(), c.reader + ": " + first.err());
    Object expected = normal.apply(first.out());
    assertTrue(expected != null, first.out());
    for (int i = 0; i < cases; i++) {
      Mutation m = mutateBinary(rnd, valid);
      c.next(m.what());
      write(file, m.bytes());
      CliTest.Run r = c.run(file, INPUT_ERROR, args);
      if (r != null && r.code() == 0) {
        Object got = normal.apply(r.out());
        if (got == null || !got.equals(expected)) {
          c.fail(
              "a damaged file was accepted and gave another result: " + Excerpt.of(r.out()),
              args,
              r);
        } else {
          c.tally.outcomes.merge("of them accepted with the unmutated result", 1, Integer::sum);
          c.tally.note("accepted: " + m.what());
        }
      }
      FuzzSupport.clear(c.out);
    }
  }

  @Test
  void datasetFiles() throws IOException {
    SplittableRandom rnd = new SplittableRandom(SEED + 2);
    Cases c = new Cases("dataset-rjd");
    byte[] numeric = read(dataset);
    fuzzBinary(
        c,
        rnd,
        numeric,
        c.in.resolve("d.rjd"),
        220,
        f ->
            new String[] {
              "evaluate", "--input", f.toString(), "--model", "markov", "--json", "--threads", "1"
            },
        json("seconds"));
    // text ids: the strings section
    Path csv = Files.writeString(c.in.resolve("t.csv"), logFormats().get(4).text());
    Path textIds = c.in.resolve("text.rjd");
    expectOk(
        CliTest.run(
            "prepare",
            "--input",
            csv.toString(),
            "--format",
            "csv",
            "--time-column",
            "timestamp",
            "--output",
            textIds.toString()));
    fuzzBinary(
        c,
        rnd,
        read(textIds),
        textIds,
        100,
        f ->
            new String[] {
              "evaluate", "--input", f.toString(), "--model", "mostpop", "--json", "--threads", "1"
            },
        json("seconds"));
    Cases info = new Cases("dataset-rjd-info");
    fuzzBinary(
        info,
        rnd,
        numeric,
        info.in.resolve("d.rjd"),
        60,
        f -> new String[] {"info", "--dataset", f.toString()},
        out -> out.replaceAll("loaded and checked in [0-9.,]+ ms", ""));
    List<String> failures = new ArrayList<>(finish(c));
    failures.addAll(finish(info));
    assertTrue(failures.isEmpty(), String.join("\n", failures));
  }

  @Test
  void codesFiles() throws IOException {
    SplittableRandom rnd = new SplittableRandom(SEED + 3);
    Cases c = new Cases("codes");
    Path output = c.out.resolve("m.ckpt");
    fuzzBinary(
        c,
        rnd,
        read(codes),
        c.in.resolve("c.codes"),
        150,
        f ->
            concat(
                new String[] {
                  "train",
                  "--input",
                  dataset.toString(),
                  "--codes",
                  f.toString(),
                  "--output",
                  output.toString(),
                  "--report",
                  c.out.resolve("report").toString()
                },
                TINY_MODEL),
        json("seconds", "train_seconds", "peak_heap_mib", "direct_mib"));
    c.finish();
  }

  @Test
  void checkpoints() throws IOException {
    SplittableRandom rnd = new SplittableRandom(SEED + 4);
    byte[] valid = read(checkpoint);
    Cases rec = new Cases("checkpoint-recommend");
    fuzzBinary(
        rec,
        rnd,
        valid,
        rec.in.resolve("m.ckpt"),
        200,
        f ->
            new String[] {
              "recommend", "--checkpoint", f.toString(), "--history", "1,2,3", "--k", "5", "--json"
            },
        json("backbone_ms", "scoring_ms"));
    Cases eval = new Cases("checkpoint-evaluate");
    fuzzBinary(
        eval,
        rnd,
        valid,
        eval.in.resolve("m.ckpt"),
        80,
        f ->
            new String[] {
              "evaluate",
              "--checkpoint",
              f.toString(),
              "--input",
              dataset.toString(),
              "--device",
              "cpu",
              "--threads",
              "1",
              "--json"
            },
        json("seconds"));
    Cases resume = new Cases("checkpoint-resume");
    Path output = resume.out.resolve("r.ckpt");
    fuzzBinary(
        resume,
        rnd,
        valid,
        resume.in.resolve("m.ckpt"),
        40,
        f ->
            concat(
                new String[] {
                  "train",
                  "--input",
                  dataset.toString(),
                  "--resume",
                  f.toString(),
                  "--save-optimizer",
                  "--output",
                  output.toString(),
                  "--report",
                  resume.out.resolve("report").toString()
                },
                TINY_MODEL),
        json("seconds", "train_seconds", "peak_heap_mib", "direct_mib"));
    List<String> failures = new ArrayList<>();
    failures.addAll(finish(rec));
    failures.addAll(finish(eval));
    failures.addAll(finish(resume));
    assertTrue(failures.isEmpty(), String.join("\n", failures));
  }

  // ---------------------------------------------------------------------------------------------
  // 5. The --config JSON of train

  private static ObjectNode validConfig() {
    ObjectNode o = JSON.createObjectNode();
    o.put("model", "sasrec")
        .put("embedding", "jpq")
        .put("codes", "random")
        .put("splits", 2)
        .put("dim", 8)
        .put("blocks", 1)
        .put("heads", 1)
        .put("maxLen", 10)
        .put("dropout", 0.1)
        .put("ffnDim", 8)
        .put("activation", "relu")
        .put("block", "pre-ln")
        .put("loss", "ce")
        .put("batchSize", 16)
        .put("epochs", 1)
        .put("lr", 0.001)
        .put("weightDecay", 0.0)
        .put("clipNorm", 5.0)
        .put("seed", 7L)
        .put("validateEvery", 1)
        .put("patience", 2)
        .put("validationUsers", "all")
        .put("lengthBuckets", false)
        .put("untied", false);
    return o;
  }

  /** Values a setting is replaced with, as JSON text. */
  private static final String[] CONFIG_VALUES = {
    "2147483648",
    "4294967304",
    "9223372036854775807",
    "99999999999999999999",
    "1e400",
    "-1e400",
    "-3",
    "0",
    "-1",
    "1.5",
    "8.0",
    "2e0",
    "\"8\"",
    "true",
    "null",
    "[]",
    "{}",
    "\"\"",
    "[8]",
    "{\"dim\": 8}",
    "-0.0",
    "1e-320",
    "NaN",
    "Infinity",
    "'8'",
    "08",
    "+8",
    "0x8",
    ".5",
    "\"\\u0000\"",
    "\"\\ud800\""
  };

  /** One mutation of a config file: of its JSON structure, or of its bytes. */
  private static Mutation mutateConfig(SplittableRandom rnd, ObjectNode valid) {
    List<String> keys = new ArrayList<>();
    valid.fieldNames().forEachRemaining(keys::add);
    List<String> settings = Settings.names();
    String text = valid.toString();
    byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
    switch (rnd.nextInt(12)) {
      case 0, 1, 2:
        { // a value of a setting in the file, or of another setting
          String key =
              rnd.nextInt(3) == 0
                  ? pick(rnd, settings.toArray(new String[0]))
                  : pick(rnd, keys.toArray(new String[0]));
          String value =
              rnd.nextInt(8) == 0 ? "\"" + "x".repeat(100_000) + "\"" : pick(rnd, CONFIG_VALUES);
          ObjectNode o = valid.deepCopy();
          o.put(key, "@@VALUE@@");
          return new Mutation(
              o.toString().replace("\"@@VALUE@@\"", value).getBytes(StandardCharsets.UTF_8),
              key + " := " + Excerpt.of(value.length() > 30 ? value.substring(0, 30) : value));
        }
      case 3:
        {
          ObjectNode o = valid.deepCopy();
          String key = pick(rnd, keys.toArray(new String[0]));
          if (rnd.nextBoolean()) {
            o.remove(key);
            return new Mutation(o.toString().getBytes(StandardCharsets.UTF_8), "remove " + key);
          }
          String unknown =
              pick(
                  rnd,
                  new String[] {
                    "dimension",
                    "Dim",
                    "max_len",
                    "",
                    " dim",
                    "dim\u0000",
                    "preset",
                    "config",
                    "output",
                    "k".repeat(5000)
                  });
          o.put(unknown, 8);
          return new Mutation(
              o.toString().getBytes(StandardCharsets.UTF_8),
              "unknown key '"
                  + Excerpt.of(unknown.length() > 20 ? unknown.substring(0, 20) : unknown)
                  + "'");
        }
      case 4:
        {
          String key = pick(rnd, keys.toArray(new String[0]));
          String dup =
              text.substring(0, text.length() - 1) + ",\"" + key + "\":" + valid.get(key) + "}";
          return new Mutation(dup.getBytes(StandardCharsets.UTF_8), "duplicate key " + key);
        }
      case 5:
        {
          String[] tails = {
            " x", "}", " {}", "{\"dim\": 16}", ",", " // comment", "\u0000", " \n\n ", "]"
          };
          String tail = pick(rnd, tails);
          return new Mutation(
              (text + tail).getBytes(StandardCharsets.UTF_8),
              "trailing '" + Excerpt.of(tail) + "'");
        }
      case 6:
        {
          String[] whole = {
            "",
            " ",
            "[]",
            "null",
            "8",
            "\"dim\"",
            "[" + text + "]",
            "{",
            "{}",
            "{\"dim\": 8,}",
            "{'dim': 8}",
            "{dim: 8}",
            "/* c */ {\"dim\": 8}",
            "[".repeat(3000) + "]".repeat(3000),
            "{\"dim\": " + "[".repeat(3000) + "]".repeat(3000) + "}"
          };
          String w = pick(rnd, whole);
          return new Mutation(
              w.getBytes(StandardCharsets.UTF_8),
              "file := '" + Excerpt.of(w.length() > 30 ? w.substring(0, 30) : w) + "'");
        }
      case 7:
        return new Mutation(
            FuzzSupport.splice(bytes, 0, 0, new byte[] {(byte) 0xef, (byte) 0xbb, (byte) 0xbf}),
            "byte-order mark");
      case 8:
        return FuzzSupport.invalidUtf8(rnd, bytes);
      case 9:
        return FuzzSupport.truncate(rnd, bytes);
      case 10:
        return FuzzSupport.flipBit(rnd, bytes, 0, bytes.length);
      default:
        return rnd.nextBoolean()
            ? FuzzSupport.insertBytes(rnd, bytes)
            : FuzzSupport.deleteBytes(rnd, bytes);
    }
  }

  /**
   * Whether a config file is one JSON object of known settings, each of its setting's type: integer
   * settings an integral number that fits, numbers finite, null only where the setting may be
   * unset. Returns null when it is, else why not.
   */
  static String configProblem(byte[] file) {
    JsonNode n;
    try {
      n = STRICT.readTree(file);
    } catch (IOException e) {
      return "not JSON";
    }
    if (n == null || !n.isObject()) {
      return "not an object";
    }
    Settings defaults = new Settings();
    for (Iterator<Map.Entry<String, JsonNode>> it = n.fields(); it.hasNext(); ) {
      Map.Entry<String, JsonNode> e = it.next();
      java.lang.reflect.Field f;
      try {
        f = Settings.class.getDeclaredField(e.getKey());
        if (java.lang.reflect.Modifier.isStatic(f.getModifiers())) {
          return "unknown key";
        }
        if (e.getValue().isNull()) {
          if (f.get(defaults) != null) {
            return "null for " + e.getKey();
          }
          continue;
        }
      } catch (NoSuchFieldException | IllegalAccessException x) {
        return "unknown key";
      }
      JsonNode v = e.getValue();
      Class<?> t = f.getType();
      boolean ok;
      if (t == String.class) {
        ok = v.isTextual() || v.isNumber();
      } else if (t == Boolean.class) {
        ok = v.isBoolean();
      } else if (t == Double.class) {
        ok = v.isNumber() && Double.isFinite(v.asDouble());
      } else {
        java.math.BigDecimal d =
            v.isNumber() && Double.isFinite(v.asDouble()) ? v.decimalValue() : null;
        ok =
            d != null
                && d.stripTrailingZeros().scale() <= 0
                && d.compareTo(
                        java.math.BigDecimal.valueOf(
                            t == Integer.class ? Integer.MIN_VALUE : Long.MIN_VALUE))
                    >= 0
                && d.compareTo(
                        java.math.BigDecimal.valueOf(
                            t == Integer.class ? Integer.MAX_VALUE : Long.MAX_VALUE))
                    <= 0;
      }
      if (!ok) {
        return "wrong type for " + e.getKey();
      }
    }
    return null;
  }

  /** Whether the settings a checkpoint records are those of the config file (flags aside). */
  private static String settingsMismatch(JsonNode config, JsonNode recorded, Set<String> flags) {
    for (Iterator<Map.Entry<String, JsonNode>> it = config.fields(); it.hasNext(); ) {
      Map.Entry<String, JsonNode> e = it.next();
      if (flags.contains(e.getKey())) {
        continue;
      }
      JsonNode want = e.getValue();
      JsonNode got = recorded.get(e.getKey());
      boolean same =
          got != null
              && (want.isNumber()
                      && got.isNumber()
                      && Double.isFinite(want.asDouble())
                      && Double.isFinite(got.asDouble())
                  ? want.decimalValue().compareTo(got.decimalValue()) == 0
                  : want.isNumber() && got.isTextual()
                      ? want.asText().equals(got.asText())
                      : want.equals(got));
      if (!same) {
        return e.getKey() + " is " + got + " but the file says " + Excerpt.of(String.valueOf(want));
      }
    }
    return null;
  }

  @Test
  void trainConfigFiles() throws IOException {
    SplittableRandom rnd = new SplittableRandom(SEED + 5);
    Cases c = new Cases("train-config");
    ObjectNode valid = validConfig();
    Path config = c.in.resolve("settings.json");
    Path output = c.out.resolve("m.ckpt");
    String[] args = {
      "train",
      "--input",
      dataset.toString(),
      "--config",
      config.toString(),
      "--output",
      output.toString(),
      "--report",
      c.out.resolve("report").toString(),
      "--max-minutes",
      "0.05",
      "--device",
      "cpu",
      "--threads",
      "1",
      "--quiet",
      "--json"
    };
    write(config, valid.toString().getBytes(StandardCharsets.UTF_8));
    CliTest.Run first = CliTest.run(args);
    assertEquals(0, first.code(), first.err());
    for (int i = 0; i < 160; i++) {
      Mutation m = mutateConfig(rnd, valid);
      c.next(m.what());
      write(config, m.bytes());
      String problem = configProblem(m.bytes());
      CliTest.Run r = c.run(config, Set.of(1, 2), args);
      if (r != null && r.code() == 2 && problem != null) {
        c.fail(
            "a malformed config file ("
                + problem
                + ") is a usage error (exit 2), not an input error",
            args,
            r);
      } else if (r != null && r.code() == 0) {
        if (problem != null) {
          c.fail("a malformed config file (" + problem + ") was accepted", args, r);
        } else {
          JsonNode recorded =
              org.recjpq.checkpoint.Checkpoint.read(output).state().path("settings");
          String mismatch =
              settingsMismatch(STRICT.readTree(m.bytes()), recorded, Set.of("maxMinutes"));
          if (mismatch != null) {
            c.fail(
                "the model was trained with other settings than the file's: " + mismatch, args, r);
          }
        }
      }
      FuzzSupport.clear(c.out);
    }
    c.finish();
  }

  // ---------------------------------------------------------------------------------------------
  // 6. HTTP request bodies

  private static final int MAX_K = 50;

  /** One mutated body of POST /recommend. */
  private static Mutation mutateBody(SplittableRandom rnd) {
    ObjectNode o = JSON.createObjectNode();
    o.putArray("history").add("1").add("2");
    o.put("k", 5);
    String text = o.toString();
    byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
    String[] values = {
      "0",
      "-1",
      "51",
      "50",
      "1",
      "2147483648",
      "1e400",
      "5.5",
      "5.0",
      "\"5\"",
      "true",
      "null",
      "[]",
      "{}",
      "[5]",
      "99999999999999999999",
      "\"\"",
      "[\"1\", \"2\"]",
      "[1, 2]",
      "[1.5]",
      "[true]",
      "[null]",
      "[{}]",
      "[[\"1\"]]",
      "[\"\\u0000\"]",
      "[\"" + "9".repeat(60_000) + "\"]",
      "[\"" + "x".repeat(100_000) + "\"]",
      "[-1]",
      "[1000000000000000000000000000000]",
      "[\"unknown\"]",
      "\"1,2\"",
      "\"\\ud800\"",
      "[" + "\"1\",".repeat(70) + "\"2\"]",
      "[" + "[".repeat(5000) + "]".repeat(5000) + "]"
    };
    String[] fields = {
      "history", "histories", "k", "filter_seen", "exclude", "allow", "colour", ""
    };
    switch (rnd.nextInt(9)) {
      case 0, 1, 2:
        {
          String field = pick(rnd, fields);
          String value = pick(rnd, values);
          ObjectNode m = o.deepCopy();
          if (field.equals("histories") && rnd.nextBoolean()) {
            m.remove("history");
          }
          m.put(field, "@@V@@");
          return new Mutation(
              m.toString().replace("\"@@V@@\"", value).getBytes(StandardCharsets.UTF_8),
              field + " := " + Excerpt.of(value.length() > 30 ? value.substring(0, 30) : value));
        }
      case 3:
        {
          String[] batches = {
            "[[\"1\"], []]",
            "[[]]",
            "[]",
            "[" + "[\"3\"],".repeat(9) + "[]]",
            "[[\"1\", 2], [\"x\"]]",
            "[\"1\"]",
            "[[[\"1\"]]]",
            "[[\"1\"], null]"
          };
          String b = pick(rnd, batches);
          ObjectNode m = o.deepCopy();
          m.remove("history");
          m.put("histories", "@@V@@");
          if (rnd.nextBoolean()) {
            m.putArray(rnd.nextBoolean() ? "exclude" : "allow")
                .add(String.valueOf(1 + rnd.nextInt(ITEMS)));
          }
          return new Mutation(
              m.toString().replace("\"@@V@@\"", b).getBytes(StandardCharsets.UTF_8),
              "histories := " + b.substring(0, Math.min(30, b.length())));
        }
      case 4:
        {
          String[] whole = {
            "",
            " ",
            "[]",
            "null",
            "5",
            "\"x\"",
            "{",
            "{}",
            "{\"history\": [\"1\"],}",
            "{'k': 5}",
            text + " x",
            text + text,
            text.replace("}", ", \"k\": 6}"),
            "\ufeff" + text,
            text + "\u0000"
          };
          String w = pick(rnd, whole);
          return new Mutation(
              w.getBytes(StandardCharsets.UTF_8), "body := '" + Excerpt.of(w) + "'");
        }
      case 5:
        return FuzzSupport.invalidUtf8(rnd, bytes);
      case 6:
        return FuzzSupport.truncate(rnd, bytes);
      case 7:
        return FuzzSupport.flipBit(rnd, bytes, 0, bytes.length);
      default:
        return rnd.nextBoolean()
            ? FuzzSupport.insertBytes(rnd, bytes)
            : FuzzSupport.deleteBytes(rnd, bytes);
    }
  }

  /** The problems of an answer to a request (an empty list when it is a correct one). */
  private static List<String> answerProblems(byte[] request, HttpResponse<String> r) {
    List<String> p = new ArrayList<>();
    int status = r.statusCode();
    String type = r.headers().firstValue("Content-Type").orElse("");
    if (!type.startsWith("application/json")) {
      p.add("Content-Type is '" + type + "'");
    }
    JsonNode body;
    try {
      body = JSON.readTree(r.body());
    } catch (IOException e) {
      p.add("the body is not JSON: " + Excerpt.of(r.body()));
      return p;
    }
    if (status >= 400 && status < 500) {
      if (body == null
          || !body.path("error").isTextual()
          || body.path("error").asText().isBlank()) {
        p.add(status + " without an {\"error\": ...} body: " + Excerpt.of(r.body()));
      }
      return p;
    }
    if (status != 200) {
      p.add("status " + status + ": " + Excerpt.of(r.body()));
      return p;
    }
    JsonNode req;
    try {
      req = STRICT.readTree(request);
    } catch (IOException e) {
      p.add("200 for a malformed body");
      return p;
    }
    int k = req.has("k") ? req.get("k").asInt() : 10;
    Set<String> exclude = new HashSet<>();
    req.path("exclude").forEach(x -> exclude.add(x.asText()));
    List<JsonNode> answers = new ArrayList<>();
    if (body.has("results")) {
      body.get("results").forEach(answers::add);
      if (body.get("results").size() != req.path("histories").size()) {
        p.add(
            "a batch of "
                + req.path("histories").size()
                + " got "
                + body.get("results").size()
                + " results");
      }
    } else {
      answers.add(body);
    }
    for (JsonNode a : answers) {
      JsonNode items = a.path("items");
      if (!items.isArray() || items.size() > k || !(k >= 1 && k <= MAX_K)) {
        p.add("200 with " + items.size() + " items for k " + k + ": " + Excerpt.of(r.body()));
      }
      Set<String> seen = new HashSet<>();
      for (JsonNode x : items) {
        if (!seen.add(x.asText()) || exclude.contains(x.asText())) {
          p.add("a repeated or excluded item " + x + ": " + Excerpt.of(r.body()));
        }
      }
    }
    return p;
  }

  @Test
  void httpRequestBodies() throws Exception {
    SplittableRandom rnd = new SplittableRandom(SEED + 6);
    Cases c = new Cases("http-body");
    List<Mutation> bodies = new ArrayList<>();
    bodies.add(
        new Mutation(
            "{\"history\": [\"1\", \"2\"], \"k\": 5}".getBytes(StandardCharsets.UTF_8),
            "the valid body"));
    for (int i = 1; i < 500; i++) {
      bodies.add(mutateBody(rnd));
    }
    Recommender rec = Recommender.load(checkpoint, Recommender.Scoring.AUTO, 1);
    HttpClient client =
        HttpClient.newBuilder()
            .version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(10))
            .build();
    // requests go 8 at a time, on 8 server threads
    java.util.concurrent.ExecutorService pool =
        java.util.concurrent.Executors.newFixedThreadPool(8);
    try (HttpService http =
        new HttpService(rec, "127.0.0.1", 0, 8, new HttpService.Limits(1 << 16, 64, MAX_K, 8))) {
      URI uri = URI.create("http://127.0.0.1:" + http.port() + "/recommend");
      List<java.util.concurrent.Future<Object>> answers = new ArrayList<>();
      for (Mutation m : bodies) {
        answers.add(
            pool.submit(
                () -> {
                  try {
                    return client.send(
                        HttpRequest.newBuilder(uri)
                            .timeout(Duration.ofSeconds(60))
                            .header("Content-Type", "application/json")
                            .POST(HttpRequest.BodyPublishers.ofByteArray(m.bytes()))
                            .build(),
                        HttpResponse.BodyHandlers.ofString());
                  } catch (IOException e) {
                    return e;
                  }
                }));
      }
      Set<String> reported = new HashSet<>();
      for (int i = 0; i < bodies.size(); i++) {
        Mutation m = bodies.get(i);
        c.next(m.what());
        Object answer = answers.get(i).get();
        if (!(answer instanceof HttpResponse<?> response)) {
          c.tally.count("no answer");
          c.fail("no answer: " + answer, null, null);
          continue;
        }
        @SuppressWarnings("unchecked")
        HttpResponse<String> r = (HttpResponse<String>) response;
        c.tally.count("status " + r.statusCode());
        if (i == 0 && r.statusCode() != 200) {
          c.fail("the valid body got " + r.statusCode() + ": " + Excerpt.of(r.body()), null, null);
        }
        for (String p : answerProblems(m.bytes(), r)) {
          c.fail(p, null, null);
        }
        // the error message: one clean line, a bounded excerpt of the input, no class names
        if (r.statusCode() >= 400) {
          for (String p :
              FuzzSupport.stderrProblems(JSON.readTree(r.body()).path("error").asText() + "\n")) {
            c.fail(p.replace("stderr", "the error message"), null, null);
          }
        }
      }
    } finally {
      pool.shutdownNow();
    }
    c.finish();
  }

  // ---------------------------------------------------------------------------------------------
  // 7. Per-user result files, read by compare

  @Test
  void perUserFilesOfCompare() throws IOException {
    SplittableRandom rnd = new SplittableRandom(SEED + 7);
    Cases c = new Cases("compare-per-user");
    Path a = c.in.resolve("a.csv");
    Path b = c.in.resolve("b.csv");
    expectOk(
        CliTest.run(
            "evaluate",
            "--input",
            dataset.toString(),
            "--model",
            "mostpop",
            "--k",
            "5,10",
            "--per-user",
            a.toString()));
    expectOk(
        CliTest.run(
            "evaluate",
            "--input",
            dataset.toString(),
            "--model",
            "markov",
            "--k",
            "5,10",
            "--per-user",
            b.toString()));
    byte[] validA = read(a);
    byte[] validB = read(b);
    LogFormat csv =
        new LogFormat(
            "per-user", "b.csv", ",", List.of(), 1, new String(validB, StandardCharsets.UTF_8));
    for (int i = 0; i < 300; i++) {
      boolean mutateA = rnd.nextInt(4) == 0;
      byte[] valid = mutateA ? validA : validB;
      Mutation m = mutateLogRepeatedly(rnd, valid, csv);
      c.next((mutateA ? "A: " : "B: ") + m.what());
      write(a, mutateA ? m.bytes() : validA);
      write(b, mutateA ? validB : m.bytes());
      String metric = pick(rnd, new String[] {"ndcg@10", "rr", "recall@5", "rank"});
      String[] args = {"compare", a.toString(), b.toString(), "--metric", metric, "--json"};
      byte[] other = read(mutateA ? b : a);
      CliTest.Run r = c.run(mutateA ? a : b, INPUT_ERROR, args);
      if (!Arrays.equals(other, read(mutateA ? b : a))) {
        c.fail("compare modified its other input", args, r);
      }
      if (r != null && r.code() == 0) {
        JsonNode j = result(r.out());
        if (j == null || j.path("users").asInt() < 2) {
          c.fail("compare printed no result: " + Excerpt.of(r.out()), args, r);
          continue;
        }
        for (String f :
            new String[] {
              "meanA", "meanB", "tStatistic", "tPValue", "wilcoxonZ", "wilcoxonPValue"
            }) {
          JsonNode v = j.path(f);
          // equal non-zero differences have no variance: t is infinite (written as a string), and
          // that is right
          boolean infiniteT =
              f.equals("tStatistic")
                  && (v.asText().equals("Infinity") || v.asText().equals("-Infinity"));
          if (!infiniteT
              && (!v.isNumber()
                  || !Double.isFinite(v.asDouble())
                  || (f.endsWith("PValue") && !(v.asDouble() >= 0 && v.asDouble() <= 1)))) {
            c.fail("compare printed " + f + " = " + j.path(f), args, r);
          }
        }
      }
    }
    c.finish();
  }
}
