package org.recjpq.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.recjpq.checkpoint.Checkpoint;

/**
 * {@code train --resume} continues with the settings saved in the checkpoint, never the preset's.
 */
class ResumeSettingsTest {
  @TempDir Path dir;

  private Path pairs() throws IOException {
    return PairsLog.write(dir.resolve("pairs.txt"), 40, u -> 7, 30, 5);
  }

  private static String[] args(Path in, Path out, String... more) {
    List<String> a =
        new ArrayList<>(
            List.of(
                "train",
                "-i",
                in.toString(),
                "-f",
                "sasrec-pairs",
                "--output",
                out.toString(),
                "--quiet",
                "--threads",
                "1",
                "--save-optimizer"));
    a.addAll(List.of(more));
    return a.toArray(String[]::new);
  }

  /** A BCE run with its own learning rate, none of them the preset's values. */
  private static final String[] RUN = {
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
    "--loss",
    "bce",
    "--lr",
    "0.004",
    "--schedule",
    "constant",
    "--dropout",
    "0.1"
  };

  private static String[] concat(String[] a, String... b) {
    String[] r = java.util.Arrays.copyOf(a, a.length + b.length);
    System.arraycopy(b, 0, r, a.length, b.length);
    return r;
  }

  @Test
  void resumingWithoutRetypingFlagsContinuesTheSavedRunBitExactly() throws IOException {
    Path in = pairs();
    Path first = dir.resolve("first.ckpt");
    Path resumed = dir.resolve("resumed.ckpt");
    Path straight = dir.resolve("straight.ckpt");
    // 2 epochs, then 2 more from the checkpoint with no setting retyped but the one that says when
    // to stop
    CliTest.Run a = CliTest.run(args(in, first, concat(RUN, "--epochs", "2")));
    assertEquals(0, a.code(), a.err());
    Checkpoint cut = Checkpoint.read(first);
    // the final checkpoint holds the best weights; where epoch 2 was not the best, the last iterate
    // rides along
    assertEquals(cut.state().path("bestEpoch").asInt() != 1, cut.iterate() != null);
    CliTest.Run b =
        CliTest.run(
            args(in, resumed, "--resume", first.toString(), "--lr", "0.004", "--epochs", "4"));
    assertEquals(0, b.code(), b.err());
    assertTrue(b.out().contains("with the settings saved in it:"), b.out());
    assertTrue(b.out().contains("--epochs 4 (saved: 2) replaces the saved value"), b.out());
    CliTest.Run c = CliTest.run(args(in, straight, concat(RUN, "--epochs", "4")));
    assertEquals(0, c.code(), c.err());
    Checkpoint r = Checkpoint.read(resumed);
    assertEquals("bce", r.state().path("settings").path("loss").asText());
    assertEquals(4, r.state().path("epoch").asInt());
    assertArrayEquals(Checkpoint.read(straight).params(), r.params());
    assertArrayEquals(Checkpoint.read(straight).adamV(), r.adamV());
  }

  @Test
  void aConflictingSettingIsAUsageErrorUnlessOverriddenAndTheShapeNeverChanges()
      throws IOException {
    Path in = pairs();
    Path first = dir.resolve("first.ckpt");
    assertEquals(0, CliTest.run(args(in, first, concat(RUN, "--epochs", "1"))).code());
    Path out = dir.resolve("out.ckpt");
    CliTest.Run lr = CliTest.run(args(in, out, "--resume", first.toString(), "--lr", "0.01"));
    assertEquals(2, lr.code(), lr.err());
    assertTrue(lr.err().contains("--lr 0.01 (saved: 0.004) conflicts"), lr.err());
    CliTest.Run preset =
        CliTest.run(args(in, out, "--resume", first.toString(), "--preset", "paper"));
    assertEquals(2, preset.code(), preset.err());
    assertTrue(preset.err().contains("--preset paper (saved: cpu)"), preset.err());
    CliTest.Run dim =
        CliTest.run(args(in, out, "--resume", first.toString(), "--dim", "16", "--override"));
    assertEquals(2, dim.code(), dim.err());
    assertTrue(dim.err().contains("the model's shape comes from the checkpoint"), dim.err());
    assertEquals(2, CliTest.run(args(in, out, concat(RUN, "--override"))).code());
    assertFalse(Files.exists(out), "nothing written by a refused run");
    CliTest.Run over =
        CliTest.run(
            args(
                in,
                out,
                "--resume",
                first.toString(),
                "--lr",
                "0.002",
                "--override",
                "--epochs",
                "2"));
    assertEquals(0, over.code(), over.err());
    assertTrue(
        over.out().contains("--lr 0.002 (saved: 0.004) replaces the saved value"), over.out());
    assertTrue(over.out().contains("--epochs 2 (saved: 1) replaces the saved value"), over.out());
    assertEquals(0.002, Checkpoint.read(out).state().path("settings").path("lr").asDouble(), 0);
  }

  @Test
  void infoShowsTheWeightsDigestsSoTwoRunsCanBeComparedBitForBit() throws IOException {
    Path in = pairs();
    Path a = dir.resolve("a.ckpt");
    Path b = dir.resolve("b.ckpt");
    Path c = dir.resolve("c.ckpt");
    assertEquals(0, CliTest.run(args(in, a, concat(RUN, "--epochs", "1"))).code());
    assertEquals(0, CliTest.run(args(in, b, concat(RUN, "--epochs", "1"))).code());
    assertEquals(0, CliTest.run(args(in, c, concat(RUN, "--epochs", "1", "--seed", "7"))).code());
    String da = digest(CliTest.run("info", "--checkpoint", a.toString()));
    assertEquals(
        da, digest(CliTest.run("info", "--checkpoint", b.toString())), "the same run twice");
    assertFalse(
        da.equals(digest(CliTest.run("info", "--checkpoint", c.toString()))), "another seed");
    byte[] bytes = Files.readAllBytes(a);
    bytes[bytes.length - 9] ^= 4;
    Path broken = Files.write(dir.resolve("broken.ckpt"), bytes);
    CliTest.Run r = CliTest.run("info", "--checkpoint", broken.toString());
    assertEquals(1, r.code(), r.err());
  }

  private static String digest(CliTest.Run r) {
    assertEquals(0, r.code(), r.err());
    return r.out().lines().filter(l -> l.startsWith("sha256 params")).findFirst().orElseThrow();
  }
}
