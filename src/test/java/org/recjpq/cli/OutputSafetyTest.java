package org.recjpq.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.recjpq.io.AtomicFiles;

/**
 * What a command writes never destroys what it reads, and what it leaves behind is whole: an output
 * that is one of the command's inputs (the same path, another spelling, a symbolic or hard link) is
 * refused with exit code 2 and the input untouched; outputs get the directory's default
 * permissions; temporary files a killed run left are removed by the next write.
 */
class OutputSafetyTest {
  @TempDir Path dir;
  private Path pairs;
  private Path dataset;

  @BeforeEach
  void data() throws IOException {
    StringBuilder b = new StringBuilder();
    for (int u = 1; u <= 40; u++) {
      for (int k = 0; k < 7; k++) {
        b.append(u).append(' ').append(1 + (u * 7 + k * 3) % 50).append('\n');
      }
    }
    pairs = Files.writeString(dir.resolve("pairs.txt"), b.toString());
    dataset = dir.resolve("data.rjd");
    CliTest.Run r =
        CliTest.run(
            "prepare",
            "--input",
            pairs.toString(),
            "--format",
            "sasrec-pairs",
            "--output",
            dataset.toString());
    assertEquals(0, r.code(), r.err());
  }

  private static void assertRefused(CliTest.Run r, String command, String fragment) {
    assertEquals(2, r.code(), r.err());
    assertTrue(
        r.err().startsWith("recjpq " + command + ": error: ") && r.err().contains(fragment),
        r.err());
    assertEquals(1, r.err().strip().lines().count(), r.err());
  }

  @Test
  void anOutputThatIsAnInputIsRefusedAndTheInputKept() throws IOException {
    byte[] rawBefore = Files.readAllBytes(pairs);
    byte[] datasetBefore = Files.readAllBytes(dataset);
    assertRefused(
        CliTest.run(
            "evaluate",
            "--input",
            pairs.toString(),
            "--format",
            "sasrec-pairs",
            "--model",
            "mostpop",
            "--per-user",
            pairs.toString()),
        "evaluate",
        "--per-user " + pairs + " is the --input file");
    assertRefused(
        CliTest.run(
            "prepare",
            "--input",
            pairs.toString(),
            "--format",
            "sasrec-pairs",
            "--output",
            dir.resolve(".").resolve("pairs.txt").toString()),
        "prepare",
        "is the --input file");
    assertRefused(
        CliTest.run("assign-codes", "--input", dataset.toString(), "--output", dataset.toString()),
        "assign-codes",
        "writing it would destroy that input");
    Path link = dir.resolve("link.rjd");
    Files.createSymbolicLink(link, dataset);
    assertRefused(
        CliTest.run("assign-codes", "--input", dataset.toString(), "--output", link.toString()),
        "assign-codes",
        "(through a symbolic link)");
    Path hard = dir.resolve("hard.txt");
    Files.createLink(hard, pairs);
    assertRefused(
        CliTest.run(
            "evaluate",
            "--input",
            pairs.toString(),
            "--format",
            "sasrec-pairs",
            "--model",
            "markov",
            "--per-user",
            hard.toString()),
        "evaluate",
        "is the --input file");

    Path codes = dir.resolve("data.codes");
    assertEquals(
        0,
        CliTest.run(
                "assign-codes",
                "--input",
                dataset.toString(),
                "--strategy",
                "random",
                "--output",
                codes.toString())
            .code());
    byte[] codesBefore = Files.readAllBytes(codes);
    assertRefused(
        CliTest.run(
            "train",
            "--input",
            dataset.toString(),
            "--codes",
            codes.toString(),
            "--dim",
            "8",
            "--epochs",
            "1",
            "--output",
            codes.toString()),
        "train",
        "--output " + codes + " is the --codes file");
    Path ckpt = dir.resolve("m.ckpt");
    CliTest.Run trained =
        CliTest.run(
            "train",
            "--input",
            dataset.toString(),
            "--dim",
            "8",
            "--max-len",
            "10",
            "--epochs",
            "1",
            "--save-optimizer",
            "--quiet",
            "--output",
            ckpt.toString());
    assertEquals(0, trained.code(), trained.err());
    byte[] ckptBefore = Files.readAllBytes(ckpt);
    assertRefused(
        CliTest.run(
            "train",
            "--input",
            dataset.toString(),
            "--resume",
            ckpt.toString(),
            "--dim",
            "8",
            "--max-len",
            "10",
            "--epochs",
            "2",
            "--output",
            ckpt.toString()),
        "train",
        "is the --resume file");
    assertRefused(
        CliTest.run(
            "evaluate",
            "--input",
            dataset.toString(),
            "--checkpoint",
            ckpt.toString(),
            "--per-user",
            ckpt.toString()),
        "evaluate",
        "is the --checkpoint file");

    assertArrayEquals(rawBefore, Files.readAllBytes(pairs));
    assertArrayEquals(datasetBefore, Files.readAllBytes(dataset));
    assertArrayEquals(codesBefore, Files.readAllBytes(codes));
    assertArrayEquals(ckptBefore, Files.readAllBytes(ckpt));
  }

  @Test
  void outputsHaveTheDirectorysDefaultPermissions() throws IOException {
    Set<PosixFilePermission> usual =
        Files.getPosixFilePermissions(Files.createFile(dir.resolve("plain")));
    assertEquals(usual, Files.getPosixFilePermissions(dataset), "a prepared dataset");
    Path perUser = dir.resolve("users.csv");
    assertEquals(
        0,
        CliTest.run(
                "evaluate",
                "--input",
                dataset.toString(),
                "--model",
                "mostpop",
                "--per-user",
                perUser.toString())
            .code());
    assertEquals(usual, Files.getPosixFilePermissions(perUser), "a per-user file");
  }

  @Test
  void temporariesLeftByAKilledRunAreRemovedByTheNextWrite() throws Exception {
    Process gone = new ProcessBuilder("true").start();
    gone.waitFor();
    long deadPid = gone.pid();
    Path stale = dir.resolve(".users.csv." + deadPid + "-1a2b.tmp");
    Files.writeString(stale, "half a file");
    Path live =
        dir.resolve(
            ".users.csv." + ProcessHandle.current().parent().orElseThrow().pid() + "-3c4d.tmp");
    Files.writeString(live, "being written");
    Path other = dir.resolve(".other.csv." + deadPid + "-5e6f.tmp");
    Files.writeString(other, "another target's");
    assertEquals(
        0,
        CliTest.run(
                "evaluate",
                "--input",
                dataset.toString(),
                "--model",
                "mostpop",
                "--per-user",
                dir.resolve("users.csv").toString())
            .code());
    assertFalse(Files.exists(stale), "the dead process's temporary file is removed");
    assertTrue(Files.exists(live), "a live process's temporary file is kept");
    assertTrue(Files.exists(other), "another target's temporary file is not touched");
    assertEquals(0, AtomicFiles.removeStale(dir.resolve("users.csv")));
    try (Stream<Path> files = Files.list(dir)) {
      assertEquals(
          0,
          files
              .filter(
                  p ->
                      p.getFileName()
                          .toString()
                          .startsWith(".users.csv." + ProcessHandle.current().pid()))
              .count(),
          "no temporary file of this process is left");
    }
  }
}
