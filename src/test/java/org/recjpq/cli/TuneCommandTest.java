package org.recjpq.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.recjpq.checkpoint.Checkpoint;

class TuneCommandTest {
  @TempDir Path dir;

  private Path data() throws IOException {
    return PairsLog.write(dir.resolve("pairs.txt"), 60, u -> 8, 40, 7);
  }

  private CliTest.Run tune(Path in, Path space, Path out, String... more) {
    List<String> a =
        new java.util.ArrayList<>(
            List.of(
                "tune",
                "-i",
                in.toString(),
                "-f",
                "sasrec-pairs",
                "--dim",
                "8",
                "--max-len",
                "6",
                "--batch-size",
                "16",
                "--ffn-dim",
                "8",
                "--blocks",
                "1",
                "--threads",
                "1",
                "--space",
                space.toString(),
                "--configs",
                "4",
                "--min-epochs",
                "1",
                "--max-epochs",
                "3",
                "--eta",
                "2",
                "--output",
                out.toString(),
                "--quiet"));
    a.addAll(List.of(more));
    return CliTest.run(a.toArray(String[]::new));
  }

  @Test
  void aPinnedPlanRunsEveryRungKeepsTheBestAndRepeatsExactly() throws IOException {
    Path in = data();
    Path space =
        Files.writeString(
            dir.resolve("space.json"),
            "{\"lr\": {\"log\": [0.001, 0.02]}, \"dropout\": [0.0, 0.2], \"splits\": [2, 4]}");
    Path a = dir.resolve("a.ckpt");
    CliTest.Run r = tune(in, space, a);
    assertEquals(0, r.code(), r.err());
    assertTrue(
        r.out().contains("Plan: 4 settings, η 2, rungs of [1, 2, 3] epochs ([4, 2, 1] settings)"),
        r.out());
    Path report = Path.of(a + ".tune");
    List<String> rows = Files.readAllLines(report.resolve("trials.csv"));
    assertEquals(1 + 4 + 2 + 1, rows.size(), String.join("\n", rows));
    for (String f : List.of("summary.md", "best-settings.json", "tune.png")) {
      assertTrue(Files.isRegularFile(report.resolve(f)), f);
    }
    assertFalse(Files.exists(report.resolve("trials")), "the trials' checkpoints are removed");
    // the winner's checkpoint holds the settings it was sampled with, and they train again with
    // train --config
    Checkpoint best = Checkpoint.read(a);
    assertEquals(3, best.state().path("epoch").asInt());
    Path again = dir.resolve("b.ckpt");
    assertEquals(0, tune(in, space, again).code());
    assertArrayEquals(
        best.params(), Checkpoint.read(again).params(), "the same seed and plan, the same result");
    CliTest.Run trained =
        CliTest.run(
            "train",
            "-i",
            in.toString(),
            "-f",
            "sasrec-pairs",
            "--config",
            report.resolve("best-settings.json").toString(),
            "--threads",
            "1",
            "--output",
            dir.resolve("t.ckpt").toString(),
            "--quiet");
    assertEquals(0, trained.code(), trained.err());
    assertArrayEquals(
        best.params(),
        Checkpoint.read(dir.resolve("t.ckpt")).params(),
        "train --config best-settings.json reproduces the winner");
  }

  @Test
  void badSpacesAndBudgetsAreClearErrors() throws IOException {
    Path in = data();
    Path unknown = Files.writeString(dir.resolve("u.json"), "{\"learningRate\": [0.1]}");
    CliTest.Run r = tune(in, unknown, dir.resolve("x.ckpt"));
    assertEquals(1, r.code(), r.err());
    assertTrue(r.err().contains("unknown setting 'learningRate'"), r.err());
    Path empty = Files.writeString(dir.resolve("e.json"), "{\"lr\": {\"log\": [0, 1]}}");
    assertEquals(1, tune(in, empty, dir.resolve("x.ckpt")).code());
    CliTest.Run b = tune(in, unknown, dir.resolve("x.ckpt"), "--budget", "soon");
    assertEquals(2, b.code(), b.err());
    assertTrue(b.err().contains("--budget must be a positive duration"), b.err());
    assertFalse(Files.exists(dir.resolve("x.ckpt")));
  }

  @Test
  void theHelpShowsTheDefaultSpace() throws Exception {
    CliTest.Run help = CliTest.run("tune", "--help");
    String shown =
        help.out().substring(help.out().indexOf("{\"lr\""), help.out().indexOf("(without"));
    com.fasterxml.jackson.databind.ObjectMapper json =
        new com.fasterxml.jackson.databind.ObjectMapper();
    assertEquals(json.readTree(TuneCommand.DEFAULT_JPQ_SPACE), json.readTree(shown));
  }
}
