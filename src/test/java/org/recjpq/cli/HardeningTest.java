package org.recjpq.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.recjpq.util.Excerpt;

/**
 * Bad input and bad options, each a regression test of a defect found by trying the command line as
 * a careless user would: strict UTF-8, a byte-order mark, CSV records over several lines,
 * non-integer ids of dropped users, one exit-code convention (1 input, 2 usage) and messages that
 * quote at most {@value Excerpt#MAX} escaped characters of the input.
 */
class HardeningTest {
  @TempDir Path dir;

  private Path file(String name, byte[] content) throws IOException {
    return Files.write(dir.resolve(name), content);
  }

  private Path file(String name, String content) throws IOException {
    return file(name, content.getBytes(StandardCharsets.UTF_8));
  }

  private static void oneLine(CliTest.Run r, int code, String fragment) {
    assertEquals(code, r.code(), r.err());
    assertTrue(r.err().contains(fragment), r.err());
    assertEquals(1, r.err().strip().lines().count(), r.err());
    assertFalse(r.err().contains("\tat ") || r.err().contains("Exception"), r.err());
  }

  @Test
  void invalidUtf8IsAnErrorWithLineAndOffsetNotAMergedId() throws IOException {
    byte[] text =
        "u1 a b c d e\nu2 a b\u00e9 c d e\nu3 a b c d e\n".getBytes(StandardCharsets.UTF_8);
    byte[] bad = text.clone();
    int e =
        new String(text, StandardCharsets.ISO_8859_1).indexOf('\u00c3'); // the first byte of 'é'
    bad[e + 1] = (byte) 0x28; // 0xc3 followed by '(' is not UTF-8
    Path in = file("lines.txt", bad);
    oneLine(
        CliTest.run(
            "evaluate", "--input", in.toString(), "--format", "user-lines", "--model", "mostpop"),
        1,
        in + ":2: invalid UTF-8 at byte offset " + e);
    Path csv =
        file(
            "bad.csv",
            ("user,item\n1,x\n1,y\n2," + "\u00ff").getBytes(StandardCharsets.ISO_8859_1));
    oneLine(
        CliTest.run(
            "evaluate",
            "--input",
            csv.toString(),
            "--format",
            "csv",
            "--user-column",
            "user",
            "--item-column",
            "item",
            "--model",
            "mostpop"),
        1,
        csv + ":4: invalid UTF-8");
  }

  @Test
  void csvWithAByteOrderMarkAndMultiLineFieldsNamesTheRightLine() throws IOException {
    byte[] body =
        ("user_id,item_id\n1,\"a\nb\"\n1,c\n1,d\n1,e\n1,f\n2,,\n").getBytes(StandardCharsets.UTF_8);
    byte[] withBom = new byte[body.length + 3];
    withBom[0] = (byte) 0xef;
    withBom[1] = (byte) 0xbb;
    withBom[2] = (byte) 0xbf;
    System.arraycopy(body, 0, withBom, 3, body.length);
    Path in = file("bom.csv", withBom);
    // the BOM does not hide the first column; the record after a two-line field is on line 8
    oneLine(
        CliTest.run("evaluate", "--input", in.toString(), "--format", "csv", "--model", "mostpop"),
        1,
        in + ":8: expected non-empty item_id value");
  }

  @Test
  void nonIntegerIdsOfDroppedUsersDoNotCrash() throws IOException {
    Path in =
        file(
            "a.csv",
            "user_id,item_id,ts\n1,5,1\n1,6,2\nx,7,3\n2,a,1\n2,b,2\n2,c,3\n2,d,4\n2,e,5\n"
                + "3,1,1\n3,2,2\n3,3,3\n3,4,4\n3,5,5\n");
    CliTest.Run r =
        CliTest.run(
            "evaluate",
            "--input",
            in.toString(),
            "--format",
            "csv",
            "--time-column",
            "ts",
            "--model",
            "mostpop");
    assertEquals(0, r.code(), r.err());
  }

  @Test
  void optionErrorsExitWithTheUsageCode() throws IOException {
    oneLine(
        CliTest.run("serve", "--checkpoint", "none.ckpt", "--port", "70000"),
        2,
        "--port must be a port number");
    oneLine(
        CliTest.run("serve", "--checkpoint", "none.ckpt", "--threads", "0"),
        2,
        "--threads must be at least 1");
    oneLine(
        CliTest.run("bench", "http", "--url", "notaurl", "--seconds", "1"),
        2,
        "--url must be an http://");
    Path in = file("pairs.txt", "1 1\n1 2\n1 3\n2 1\n2 2\n2 3\n");
    oneLine(
        CliTest.run(
            "train",
            "--input",
            in.toString(),
            "--format",
            "sasrec-pairs",
            "--min-user-interactions",
            "1",
            "--dim",
            "100000",
            "--output",
            dir.resolve("m.ckpt").toString()),
        2,
        "d = 100000 (at most 65536)");
    oneLine(
        CliTest.run(
            "train",
            "--input",
            in.toString(),
            "--format",
            "sasrec-pairs",
            "--min-user-interactions",
            "1",
            "--dropout",
            "1.5",
            "--output",
            dir.resolve("m.ckpt").toString()),
        2,
        "dropout rate must be in [0, 1)");
  }

  @Test
  void messagesQuoteAShortEscapedExcerptOfTheInput() throws IOException {
    String huge = "1 " + "9".repeat(300_000) + "x\u0001\n";
    Path in = file("huge.txt", huge);
    CliTest.Run r =
        CliTest.run(
            "evaluate", "--input", in.toString(), "--format", "sasrec-pairs", "--model", "mostpop");
    assertEquals(1, r.code(), r.err());
    assertTrue(r.err().length() < 600, "the message is short: " + r.err().length() + " characters");
    assertTrue(
        r.err().contains("... (" + (huge.length() - 3) + " characters)"),
        r.err()); // the id, not its line
    assertEquals("a\\nb\\tc\\x01\\u2028\\\\", Excerpt.of("a\nb\tc\u0001\u2028\\"));
  }

  // Defects found by RobustnessFuzzTest, one test each.

  private Path pairs(int users, int perUser) throws IOException {
    StringBuilder b = new StringBuilder();
    for (int u = 1; u <= users; u++) {
      for (int k = 0; k < perUser; k++) {
        b.append(u).append(' ').append(1 + (u * 7 + k * 3) % 40).append('\n');
      }
    }
    return file("pairs.txt", b.toString());
  }

  private Path prepared() throws IOException {
    Path rjd = dir.resolve("data.rjd");
    CliTest.Run r =
        CliTest.run(
            "prepare",
            "--input",
            pairs(30, 6).toString(),
            "--format",
            "sasrec-pairs",
            "--output",
            rjd.toString());
    assertEquals(0, r.code(), r.err());
    return rjd;
  }

  /** Where the first section's frame starts in a file of {@link org.recjpq.io.SectionedFile}. */
  private static int firstSection(byte[] file) {
    return 16 + java.nio.ByteBuffer.wrap(file, 12, 4).getInt() + 4;
  }

  /**
   * A damaged section frame: the garbage read as a section's name is quoted escaped and short (it
   * was quoted raw, up to 64 KB of control characters over several lines), and a byte length near
   * 2^63 is "truncated", not an overflow into a negative file position (exit code 3).
   */
  @Test
  void damagedSectionFramesAreInputErrors() throws IOException {
    Path rjd = prepared();
    byte[] valid = Files.readAllBytes(rjd);
    int at = firstSection(valid);
    java.nio.ByteBuffer b = java.nio.ByteBuffer.wrap(valid.clone());
    int nameLength = Short.toUnsignedInt(b.getShort(at));
    b.put(at + 2, (byte) '\n')
        .put(at + 3, (byte) 0)
        .put(at + 4, (byte) 0xff); // the name: "\n\0\xff..."
    b.putLong(at + 2 + nameLength, 1L << 40);
    Path bad = file("name.rjd", b.array());
    CliTest.Run r = CliTest.run("evaluate", "--input", bad.toString(), "--model", "mostpop");
    oneLine(r, 1, "it is truncated: section '\\n\\x00\\ufffdsets' needs 1099511627776 bytes");
    b = java.nio.ByteBuffer.wrap(valid.clone());
    b.putShort(at, (short) 0xffff); // a 64 KB name: longer than the file
    oneLine(
        CliTest.run("evaluate", "--input", file("long.rjd", b.array()).toString()),
        1,
        "it is truncated inside a section header at offset " + at);
    for (long length : new long[] {Long.MAX_VALUE, Long.MAX_VALUE - at - 10, Long.MIN_VALUE}) {
      b = java.nio.ByteBuffer.wrap(valid.clone());
      b.putLong(at + 2 + nameLength, length);
      r =
          CliTest.run(
              "evaluate", "--input", file("huge.rjd", b.array()).toString(), "--model", "mostpop");
      oneLine(r, 1, "it is truncated: section 'offsets' needs " + length + " bytes");
    }
  }

  /**
   * An excerpt is at most {@value Excerpt#MAX} characters as printed: 300 NUL bytes were quoted as
   * 1,200.
   */
  @Test
  void excerptsAreBoundedAsPrinted() {
    String e = Excerpt.of("\u0000".repeat(300));
    assertTrue(e.startsWith("\\x00\\x00") && e.endsWith("... (300 characters)"), e);
    assertTrue(e.length() <= Excerpt.MAX + 30, e.length() + " characters");
    String pair = "\ud83d\ude00";
    String cut = Excerpt.of("a".repeat(Excerpt.MAX - 1) + pair + "b");
    assertTrue(
        cut.startsWith("a".repeat(Excerpt.MAX - 1) + pair + "..."),
        "a surrogate pair is never cut: " + cut);
    assertEquals("x\\x01...", Excerpt.of("x\u0001yz", 2).substring(0, 8));
  }

  /**
   * A malformed id quotes the id, and the line around it only when both fit in one excerpt (it
   * quoted both whole).
   */
  @Test
  void aLongMalformedIdIsQuotedOnce() throws IOException {
    Path in = file("ids.txt", "1 2\n3 " + "x".repeat(5000) + "\n");
    CliTest.Run r = CliTest.run("evaluate", "--input", in.toString(), "--format", "sasrec-pairs");
    oneLine(
        r, 1, in + ":2: expected an integer item id (this format needs integer ids), found 'xxx");
    assertFalse(r.err().contains("in line"), r.err());
    assertTrue(
        r.err().length() < in.toString().length() + 330,
        r.err().length() + " characters: " + r.err());
    Path shortLine = file("short.txt", "1 2\n3 4x\n");
    oneLine(
        CliTest.run("evaluate", "--input", shortLine.toString(), "--format", "sasrec-pairs"),
        1,
        "expected an integer item id (this format needs integer ids) in line '3 4x', found '4x'.");
  }

  /**
   * A line of spaces in a CSV file is a blank line, skipped as in every other format (it was a
   * record with too few fields); a quote that never closes in the header is a malformed CSV, not a
   * failure to read the file.
   */
  @Test
  void csvBlankLinesOfSpacesAreSkipped() throws IOException {
    String rows = "1,a\n1,b\n1,c\n1,d\n1,e\n2,a\n2,b\n2,c\n2,d\n2,e\n";
    Path plain = file("plain.csv", "user_id,item_id\n" + rows);
    Path spaced =
        file("spaced.csv", "user_id,item_id\n   \n" + rows.replace("1,c\n", "1,c\n \t \n"));
    CliTest.Run a =
        CliTest.run("evaluate", "--input", plain.toString(), "--format", "csv", "--json");
    CliTest.Run b =
        CliTest.run("evaluate", "--input", spaced.toString(), "--format", "csv", "--json");
    assertEquals(0, b.code(), b.err());
    assertEquals(
        a.out().replaceAll("\"seconds\":[0-9.]+", ""),
        b.out().replaceAll("\"seconds\":[0-9.]+", ""));
    Path quote = file("quote.csv", "\"user_id,item_id\n" + rows);
    oneLine(
        CliTest.run("evaluate", "--input", quote.toString(), "--format", "csv"),
        1,
        quote + ": malformed CSV: (startline 1) EOF reached before encapsulated token finished");
    Path wide =
        file(
            "wide.csv",
            "x".repeat(100_000) + ",user_id,item_id\n1\n"); // the header was quoted whole
    CliTest.Run r = CliTest.run("evaluate", "--input", wide.toString(), "--format", "csv");
    oneLine(r, 1, wide + ":2: expected 3 fields (columns [xxx");
    assertTrue(r.err().length() < 400, r.err().length() + " characters");
  }

  /**
   * Per-user files of compare are read strictly: a value that is not a finite number (NaN ranked
   * the differences into an internal error; Infinity gave infinite means), a malformed CSV (the
   * message named a commons-csv class), bytes that are not UTF-8, a row too short for the user
   * column (an internal error), and input quoted raw.
   */
  @Test
  void compareReadsPerUserFilesStrictly() throws IOException {
    String header = "user,target,rank,ndcg@10,recall@10,rr\n";
    String rows = "1,5,2,0.63,1,0.5\n2,6,1,1.0,1,1.0\n3,7,20,0.0,0,0.05\n";
    Path a = file("a.csv", header + rows);
    for (String bad : new String[] {"NaN", "Infinity", "1e999", "-Infinity"}) {
      Path b = file("b.csv", header + rows.replace("0.63", bad));
      oneLine(
          CliTest.run("compare", a.toString(), b.toString()),
          1,
          b + ":2: expected a finite number in column 'ndcg@10', found '" + bad + "'.");
    }
    Path quote = file("q.csv", header + rows.replace("0.63", "\"0.63"));
    oneLine(
        CliTest.run("compare", a.toString(), quote.toString()),
        1,
        quote + ": malformed CSV: (startline 2) EOF");
    byte[] latin = (header + rows.replace("1,5", "\u00e9,5")).getBytes(StandardCharsets.ISO_8859_1);
    Path notUtf8 = file("l.csv", latin);
    oneLine(
        CliTest.run("compare", a.toString(), notUtf8.toString()),
        1,
        notUtf8 + ":2: invalid UTF-8 at byte offset " + header.length());
    Path late = file("late.csv", "ndcg@10,x,user\n0.5,1,1\n0.25\n");
    oneLine(
        CliTest.run("compare", late.toString(), late.toString()),
        1,
        late + ":3: expected 3 fields, found 1.");
    Path control = file("c.csv", header + rows.replace("0.63", "0.6\u00013"));
    oneLine(CliTest.run("compare", a.toString(), control.toString()), 1, "found '0.6\\x013'.");
  }

  /**
   * A --config file is one JSON object of known settings of the right types, read strictly: data
   * after the object and duplicate keys are errors (they were ignored: the first object or the last
   * value won), integer settings take whole numbers that fit (2^32 + 8 was dim 8, 8.7 was 8), null
   * only unsets a setting that may be unset (dim null was an internal error), numbers are finite,
   * and the message is one line that quotes a short excerpt (Jackson's spanned two lines).
   */
  @Test
  void configFilesAreReadStrictly() throws IOException {
    Path in = pairs(8, 6);
    String[][] cases = {
      {
        "{\"dim\": 8} {\"dim\": 16}",
        ":1:12: malformed JSON: more data after the object of settings."
      },
      {"{\"dim\": 8, \"dim\": 16}", ":1:17: malformed JSON: Duplicate field 'dim'."},
      {
        "{\"dim\": 8",
        ":1:10: malformed JSON: Unexpected end-of-input: expected close marker for Object (start marker at"
            + " [line: 1, column: 1])."
      },
      {
        "{\"dim\": 4294967304}",
        ": setting 'dim' must be an integer from -2147483648 to 2147483647, found 4294967304."
      },
      {
        "{\"epochs\": 1.5}",
        ": setting 'epochs' must be an integer from -2147483648 to 2147483647, found 1.5."
      },
      {"{\"seed\": 99999999999999999999}", ": setting 'seed' must be an integer from"},
      {"{\"lr\": 1e400}", ": setting 'lr' must be a finite number, found \"Infinity\"."},
      {"{\"dim\": null}", ": setting 'dim' needs a value, found null."},
      {"{\"clipNorm\": null}", ": setting 'clipNorm' needs a value, found null."},
      {
        "{\"loss\": [\"" + "x".repeat(5000) + "\"]}",
        ": setting 'loss' must be a string, found [\"xxx"
      },
      {"{\"" + "k".repeat(5000) + "\": 1}", ": unknown setting 'kkkkk"},
    };
    for (String[] c : cases) {
      Path config = file("c.json", c[0]);
      CliTest.Run r =
          CliTest.run(
              "train",
              "--input",
              in.toString(),
              "--format",
              "sasrec-pairs",
              "--config",
              config.toString(),
              "--output",
              dir.resolve("m.ckpt").toString());
      oneLine(r, 1, config + c[1]);
      assertTrue(r.err().length() < 600, r.err());
    }
    // an unknown value of a known string setting is a usage error, as the flag is, quoted short
    Path config = file("c.json", "{\"loss\": \"" + "x".repeat(5000) + "\"}");
    CliTest.Run r =
        CliTest.run(
            "train",
            "--input",
            in.toString(),
            "--format",
            "sasrec-pairs",
            "--config",
            config.toString(),
            "--output",
            dir.resolve("m.ckpt").toString());
    oneLine(r, 2, "Unknown loss 'xxx");
    assertTrue(r.err().length() < 600, r.err());
    // whole numbers written as such, and null for a setting that may be unset, are fine
    config =
        file(
            "c.json",
            "{\"dim\": 8.0, \"splits\": 2, \"maxLen\": 6, \"epochs\": 1, \"blocks\": 1, \"ffnDim\": 8,"
                + " \"negatives\": null, \"validationUsers\": null, \"codes\": \"random\"}");
    r =
        CliTest.run(
            "train",
            "--input",
            in.toString(),
            "--format",
            "sasrec-pairs",
            "--config",
            config.toString(),
            "--output",
            dir.resolve("m.ckpt").toString(),
            "--quiet",
            "--device",
            "cpu",
            "--json");
    assertEquals(0, r.code(), r.err());
    assertEquals(8, org.recjpq.checkpoint.Checkpoint.read(dir.resolve("m.ckpt")).config().dim());
  }

  /**
   * SVD-based codes of a degenerate training matrix (two users with the same items: rank 1) were an
   * internal error ("QR of a 5 x 2 block failed"): the QR of a rank-deficient block is valid.
   */
  @Test
  void svdCodesOfARankDeficientDatasetAreAssigned() throws IOException {
    Path in = file("same.txt", "1 1\n1 2\n1 3\n1 4\n1 5\n2 1\n2 2\n2 3\n2 4\n2 5\n");
    for (String strategy : new String[] {"svd", "svd-pq", "cooc-pq", "nsvd-pq"}) {
      CliTest.Run r =
          CliTest.run(
              "assign-codes",
              "--input",
              in.toString(),
              "--format",
              "sasrec-pairs",
              "--strategy",
              strategy,
              "--splits",
              "2",
              "--dim",
              "8",
              "--output",
              dir.resolve(strategy + ".codes").toString());
      assertEquals(0, r.code(), strategy + ": " + r.err());
    }
  }
}
