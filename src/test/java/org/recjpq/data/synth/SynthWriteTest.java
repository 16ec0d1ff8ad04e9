package org.recjpq.data.synth;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.recjpq.RecjpqException;
import org.recjpq.util.Progress;

/** The file: format, counts, determinism, and that a failed write leaves nothing behind. */
class SynthWriteTest {
  private static final SynthConfig SMALL = SynthConfig.defaults(300, 2_000, 20_000, 42);

  @TempDir Path dir;

  private static String sha256(byte[] bytes) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
    } catch (NoSuchAlgorithmException e) {
      throw new AssertionError(e);
    }
  }

  private byte[] write(SynthConfig config, String name, int threads, int chunk) throws IOException {
    Path out = dir.resolve(name);
    SynthStats stats = SyntheticGenerator.write(config, out, Progress.none(), threads, chunk);
    byte[] bytes = Files.readAllBytes(out);
    assertEquals(bytes.length, stats.bytes());
    assertEquals(config.interactions(), stats.interactions());
    return bytes;
  }

  private List<Path> listDir() throws IOException {
    try (Stream<Path> files = Files.list(dir)) {
      return files.toList();
    }
  }

  @Test
  void sameSeedSameBytesWhateverTheThreadsAndChunks() throws IOException {
    String reference = sha256(write(SMALL, "a.txt", 1, SyntheticGenerator.DEFAULT_CHUNK));
    assertEquals(reference, sha256(write(SMALL, "b.txt", 1, SyntheticGenerator.DEFAULT_CHUNK)));
    assertEquals(reference, sha256(write(SMALL, "c.txt", 3, SyntheticGenerator.DEFAULT_CHUNK)));
    // Tiny chunks: many batches in flight, and users longer than a chunk are streamed.
    assertEquals(reference, sha256(write(SMALL, "d.txt", 2, 64)));
    assertEquals(reference, sha256(write(SMALL, "e.txt", 1, 7)));
    // The in-memory generator walks the same users.
    ByteArrayOutputStream text = new ByteArrayOutputStream();
    SyntheticGenerator.generate(
        SMALL, (u, i) -> text.writeBytes((u + " " + i + "\n").getBytes(StandardCharsets.US_ASCII)));
    assertEquals(reference, sha256(text.toByteArray()));
  }

  @Test
  void differentSeedDifferentBytes() throws IOException {
    assertNotEquals(
        sha256(write(SMALL, "a.txt", 2, SyntheticGenerator.DEFAULT_CHUNK)),
        sha256(write(SMALL.withSeed(43), "b.txt", 2, SyntheticGenerator.DEFAULT_CHUNK)));
  }

  @Test
  void sasRecPairsWithExactCountsAndOrder() throws IOException {
    SynthConfig config = SynthConfig.defaults(500, 3_000, 40_000, 7);
    Path out = dir.resolve("pairs.txt");
    SynthStats stats = SyntheticGenerator.write(config, out, Progress.none(), 2);
    byte[] bytes = Files.readAllBytes(out);
    assertEquals('\n', bytes[bytes.length - 1]);
    String[] lines = new String(bytes, StandardCharsets.US_ASCII).split("\n", -1);
    assertEquals(config.interactions() + 1, lines.length, "exactly I lines, newline-terminated");
    int previousUser = 0;
    int previousItem = 0;
    long run = 0;
    long minRun = Long.MAX_VALUE;
    long maxRun = 0;
    boolean[] used = new boolean[config.items() + 1];
    for (int n = 0; n < config.interactions(); n++) {
      String line = lines[n];
      assertTrue(line.matches("[1-9][0-9]* [1-9][0-9]*"), "line " + n + ": '" + line + "'");
      int space = line.indexOf(' ');
      int user = Integer.parseInt(line.substring(0, space));
      int item = Integer.parseInt(line.substring(space + 1));
      assertTrue(item >= 1 && item <= config.items(), "item id " + item);
      used[item] = true;
      if (user != previousUser) {
        assertEquals(previousUser + 1, user, "users are contiguous, ascending, none missing");
        if (previousUser > 0) {
          minRun = Math.min(minRun, run);
          maxRun = Math.max(maxRun, run);
        }
        run = 0;
      } else {
        assertNotEquals(previousItem, item, "never the same item twice in a row");
      }
      run++;
      previousUser = user;
      previousItem = item;
    }
    minRun = Math.min(minRun, run);
    maxRun = Math.max(maxRun, run);
    assertEquals(config.users(), previousUser);
    assertTrue(minRun >= config.minLength(), "shortest user " + minRun);
    int distinct = 0;
    for (boolean u : used) {
      distinct += u ? 1 : 0;
    }
    assertEquals(
        new SynthStats(
            config.users(),
            config.items(),
            config.interactions(),
            config.clusters(),
            distinct,
            minRun,
            maxRun,
            bytes.length,
            stats.elapsed()),
        stats);
    assertEquals(List.of(out), listDir(), "no temporary file is left");
  }

  @Test
  void progressCountsEveryInteraction() {
    long[] steps = new long[2];
    Progress counting =
        new Progress() {
          @Override
          public void step(long n) {
            steps[0] += n;
          }

          @Override
          public void setTotal(long total) {
            steps[1] = total;
          }

          @Override
          public void close() {}
        };
    SyntheticGenerator.write(SMALL, dir.resolve("p.txt"), counting, 2, 1000);
    assertArrayEquals(new long[] {SMALL.interactions(), SMALL.interactions()}, steps);
  }

  @Test
  void badConfigurationFailsClearlyAndWritesNothing() throws IOException {
    Path out = dir.resolve("bad.txt");
    RecjpqException e =
        assertThrows(
            RecjpqException.class,
            () ->
                SyntheticGenerator.write(
                    SynthConfig.defaults(1000, 100, 4000, 1), out, Progress.none()));
    assertTrue(e.getMessage().contains("at least 5000"), e.getMessage());
    assertThrows(
        RecjpqException.class,
        () -> SyntheticGenerator.write(SMALL, dir.resolve("missing/x.txt"), Progress.none()));
    assertThrows(
        RecjpqException.class, () -> SyntheticGenerator.write(SMALL, dir, Progress.none()));
    assertThrows(
        RecjpqException.class, () -> SyntheticGenerator.write(SMALL, out, Progress.none(), 0));
    assertEquals(List.of(), listDir());
  }

  @Test
  void failedWriteLeavesNoFileAndKeepsTheOldOne() throws IOException {
    Progress failing =
        new Progress() {
          @Override
          public void step(long n) {
            throw new IllegalStateException("disk full (simulated)");
          }

          @Override
          public void close() {}
        };
    Path fresh = dir.resolve("fresh.txt");
    for (int threads : new int[] {1, 2}) {
      assertThrows(
          IllegalStateException.class,
          () -> SyntheticGenerator.write(SMALL, fresh, failing, threads, 1000));
      assertEquals(List.of(), listDir(), "nothing at the target, no temporary file");
    }
    Path existing = dir.resolve("existing.txt");
    Files.writeString(existing, "old\n");
    assertThrows(
        IllegalStateException.class, () -> SyntheticGenerator.write(SMALL, existing, failing, 2));
    assertEquals("old\n", Files.readString(existing));
    assertEquals(List.of(existing), listDir());
  }

  @Test
  void interruptedWriteLeavesNoFile() throws IOException {
    Path out = dir.resolve("interrupted.txt");
    for (int threads : new int[] {1, 2}) {
      Thread.currentThread().interrupt();
      try {
        RecjpqException e =
            assertThrows(
                RecjpqException.class,
                () -> SyntheticGenerator.write(SMALL, out, Progress.none(), threads));
        assertTrue(e.getMessage().contains("interrupted"), e.getMessage());
      } finally {
        Thread.interrupted(); // clear the flag for the next test
      }
      assertFalse(Files.exists(out));
      assertEquals(List.of(), listDir());
    }
  }
}
