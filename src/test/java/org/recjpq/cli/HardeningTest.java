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
 * Bad input and bad options, each a regression test of a defect found by trying the command line
 * as a careless user would: strict UTF-8, a byte-order mark, CSV records over several lines,
 * non-integer ids of dropped users, one exit-code convention (1 input, 2 usage) and messages
 * that quote at most {@value Excerpt#MAX} escaped characters of the input.
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
    byte[] text = "u1 a b c d e\nu2 a b\u00e9 c d e\nu3 a b c d e\n".getBytes(StandardCharsets.UTF_8);
    byte[] bad = text.clone();
    int e = new String(text, StandardCharsets.ISO_8859_1).indexOf('\u00c3'); // the first byte of 'é'
    bad[e + 1] = (byte) 0x28; // 0xc3 followed by '(' is not UTF-8
    Path in = file("lines.txt", bad);
    oneLine(CliTest.run("evaluate", "--input", in.toString(), "--format", "user-lines", "--model", "mostpop"), 1,
        in + ":2: invalid UTF-8 at byte offset " + e);
    Path csv = file("bad.csv", ("user,item\n1,x\n1,y\n2," + "\u00ff").getBytes(StandardCharsets.ISO_8859_1));
    oneLine(CliTest.run("evaluate", "--input", csv.toString(), "--format", "csv", "--user-column", "user",
        "--item-column", "item", "--model", "mostpop"), 1, csv + ":4: invalid UTF-8");
  }

  @Test
  void csvWithAByteOrderMarkAndMultiLineFieldsNamesTheRightLine() throws IOException {
    byte[] body = ("user_id,item_id\n1,\"a\nb\"\n1,c\n1,d\n1,e\n1,f\n2,,\n").getBytes(StandardCharsets.UTF_8);
    byte[] withBom = new byte[body.length + 3];
    withBom[0] = (byte) 0xef;
    withBom[1] = (byte) 0xbb;
    withBom[2] = (byte) 0xbf;
    System.arraycopy(body, 0, withBom, 3, body.length);
    Path in = file("bom.csv", withBom);
    // the BOM does not hide the first column; the record after a two-line field is on line 8
    oneLine(CliTest.run("evaluate", "--input", in.toString(), "--format", "csv", "--model", "mostpop"), 1,
        in + ":8: expected non-empty item_id value");
  }

  @Test
  void nonIntegerIdsOfDroppedUsersDoNotCrash() throws IOException {
    Path in = file("a.csv", "user_id,item_id,ts\n1,5,1\n1,6,2\nx,7,3\n2,a,1\n2,b,2\n2,c,3\n2,d,4\n2,e,5\n"
        + "3,1,1\n3,2,2\n3,3,3\n3,4,4\n3,5,5\n");
    CliTest.Run r = CliTest.run("evaluate", "--input", in.toString(), "--format", "csv", "--time-column", "ts",
        "--model", "mostpop");
    assertEquals(0, r.code(), r.err());
  }

  @Test
  void optionErrorsExitWithTheUsageCode() throws IOException {
    oneLine(CliTest.run("serve", "--checkpoint", "none.ckpt", "--port", "70000"), 2, "--port must be a port number");
    oneLine(CliTest.run("serve", "--checkpoint", "none.ckpt", "--threads", "0"), 2, "--threads must be at least 1");
    oneLine(CliTest.run("bench", "http", "--url", "notaurl", "--seconds", "1"), 2, "--url must be an http://");
    Path in = file("pairs.txt", "1 1\n1 2\n1 3\n2 1\n2 2\n2 3\n");
    oneLine(CliTest.run("train", "--input", in.toString(), "--format", "sasrec-pairs", "--min-user-interactions",
        "1", "--dim", "100000", "--output", dir.resolve("m.ckpt").toString()), 2, "d = 100000 (at most 65536)");
    oneLine(CliTest.run("train", "--input", in.toString(), "--format", "sasrec-pairs", "--min-user-interactions",
        "1", "--dropout", "1.5", "--output", dir.resolve("m.ckpt").toString()), 2, "dropout rate must be in [0, 1)");
  }

  @Test
  void messagesQuoteAShortEscapedExcerptOfTheInput() throws IOException {
    String huge = "1 " + "9".repeat(300_000) + "x\u0001\n";
    Path in = file("huge.txt", huge);
    CliTest.Run r = CliTest.run("evaluate", "--input", in.toString(), "--format", "sasrec-pairs", "--model",
        "mostpop");
    assertEquals(1, r.code(), r.err());
    assertTrue(r.err().length() < 600, "the message is short: " + r.err().length() + " characters");
    assertTrue(r.err().contains("... (" + (huge.length() - 1) + " characters)"), r.err());
    assertEquals("a\\nb\\tc\\x01\\u2028\\\\", Excerpt.of("a\nb\tc\u0001\u2028\\"));
  }
}
