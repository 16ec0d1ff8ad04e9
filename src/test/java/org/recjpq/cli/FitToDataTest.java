package org.recjpq.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.recjpq.checkpoint.Checkpoint;

/**
 * Settings left to the preset are fitted to the data, said, and never override what the user gave.
 */
class FitToDataTest {
  @TempDir Path dir;

  private static final String[] TINY = {
    "--dim",
    "8",
    "--splits",
    "2",
    "--ffn-dim",
    "8",
    "--blocks",
    "1",
    "--epochs",
    "1",
    "--threads",
    "1"
  };

  @Test
  void shortSequencesGetAShortMaxLenUnlessOneIsGiven() throws IOException {
    // lengths 5..24: the training part (length - 2) is at most 22
    Path in = PairsLog.write(dir.resolve("pairs.txt"), 200, u -> 5 + u % 20, 50, 7);
    Path fitted = dir.resolve("fitted.ckpt");
    CliTest.Run r =
        CliTest.run(
            concat(
                new String[] {
                  "train",
                  "-i",
                  in.toString(),
                  "-f",
                  "sasrec-pairs",
                  "--output",
                  fitted.toString(),
                  "--quiet"
                },
                TINY));
    assertEquals(0, r.code(), r.err());
    assertTrue(
        r.out()
            .contains(
                "Fitted to the data: --max-len 30, not 200: 99% of the training sequences have at"
                    + " most 22 items"),
        r.out());
    assertEquals(30, Checkpoint.read(fitted).config().maxLen());
    Path given = dir.resolve("given.ckpt");
    CliTest.Run g =
        CliTest.run(
            concat(
                new String[] {
                  "train",
                  "-i",
                  in.toString(),
                  "-f",
                  "sasrec-pairs",
                  "--output",
                  given.toString(),
                  "--quiet",
                  "--max-len",
                  "200"
                },
                TINY));
    assertEquals(0, g.code(), g.err());
    assertFalse(g.out().contains("Fitted to the data: --max-len"), g.out());
    assertEquals(200, Checkpoint.read(given).config().maxLen());
    Path config = Files.writeString(dir.resolve("c.json"), "{\"maxLen\": 100}");
    Path fromConfig = dir.resolve("config.ckpt");
    CliTest.Run c =
        CliTest.run(
            concat(
                new String[] {
                  "train",
                  "-i",
                  in.toString(),
                  "-f",
                  "sasrec-pairs",
                  "--output",
                  fromConfig.toString(),
                  "--quiet",
                  "--config",
                  config.toString()
                },
                TINY));
    assertEquals(0, c.code(), c.err());
    assertEquals(100, Checkpoint.read(fromConfig).config().maxLen());
  }

  @Test
  void recjpqCodesLeftToThePresetComeFromADenseTwinWhenItsTableFits() {
    java.util.List<String> notes = new java.util.ArrayList<>();
    Settings s = Presets.of("cpu");
    DataFit.fitCodes(s, "cpu", 10_000, java.util.Set.of(), notes);
    assertEquals("dense-pq", s.codes);
    assertEquals(32, s.splits, "sub-item embeddings of 2 floats at d 64");
    assertEquals(2, notes.size(), notes.toString());
    assertTrue(notes.get(0).startsWith("--codes dense-pq, not svd"), notes.get(0));
    assertTrue(notes.get(1).startsWith("--splits 32, not 8"), notes.get(1));

    Settings given = Presets.of("cpu");
    notes.clear();
    DataFit.fitCodes(given, "cpu", 10_000, java.util.Set.of("splits"), notes);
    assertEquals("dense-pq", given.codes);
    assertEquals(8, given.splits, "--splits given: kept");

    for (String[] c :
        new String[][] {
          {"cpu", "codes", "300000"}, // a twin of 300,000 x 64 floats is past the limit
          {"cpu", "codes", "10000"},
          {"paper", "", "10000"},
        }) {
      Settings k = Presets.of(c[0]);
      notes.clear();
      java.util.Set<String> explicit =
          c[1].isEmpty() || c[2].equals("300000") ? java.util.Set.of() : java.util.Set.of(c[1]);
      DataFit.fitCodes(k, c[0], Integer.parseInt(c[2]), explicit, notes);
      assertEquals("svd", k.codes, String.join(",", c));
      assertTrue(notes.isEmpty(), notes.toString());
    }
    Settings dense = Presets.of("cpu");
    dense.embedding = "dense";
    DataFit.fitCodes(dense, "cpu", 10_000, java.util.Set.of(), notes);
    assertEquals("svd", dense.codes, "a dense model has no codes to pick");
  }

  private static String[] concat(String[] a, String[] b) {
    String[] r = java.util.Arrays.copyOf(a, a.length + b.length);
    System.arraycopy(b, 0, r, a.length, b.length);
    return r;
  }

  @Test
  void denseWarmupCodesTrainADenseTwinFirstAndAreStoredInTheCheckpoint() throws IOException {
    Path in = PairsLog.write(dir.resolve("warm.txt"), 120, u -> 8, 60, 7);
    Path out = dir.resolve("dense-pq.ckpt");
    CliTest.Run r =
        CliTest.run(
            concat(
                new String[] {
                  "train",
                  "-i",
                  in.toString(),
                  "-f",
                  "sasrec-pairs",
                  "--output",
                  out.toString(),
                  "--quiet",
                  "--max-len",
                  "10",
                  "--codes",
                  "dense-pq",
                  "--codes-warmup-epochs",
                  "2"
                },
                TINY));
    assertEquals(0, r.code(), r.err());
    assertTrue(r.out().contains("codes: dense-pq from a dense warm-up of 2 epochs"), r.out());
    Checkpoint ck = Checkpoint.read(out);
    assertTrue(ck.config().isJpq());
    assertEquals(2, ck.codes().splits());
    java.util.Set<String> distinct = new java.util.HashSet<>();
    for (int i = 0; i < ck.codes().numItems(); i++) {
      distinct.add(ck.codes().raw()[2 * i] + "," + ck.codes().raw()[2 * i + 1]);
    }
    assertEquals(ck.codes().numItems(), distinct.size(), "model-pq codes are made unique");
  }
}
