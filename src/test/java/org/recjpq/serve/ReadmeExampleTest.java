package org.recjpq.serve;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.tools.JavaCompiler;
import javax.tools.ToolProvider;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.recjpq.backend.cpu.CpuOps;
import org.recjpq.checkpoint.Checkpoint;
import org.recjpq.model.SasRec;

/**
 * The README's Java service example, taken from README.md as written, compiled and run on a
 * checkpoint.
 */
class ReadmeExampleTest {
  @TempDir Path dir;

  @Test
  void theReadmeJavaExampleCompilesAndRuns() throws Exception {
    String readme = Files.readString(Path.of("README.md"));
    Matcher m =
        Pattern.compile("```java\\n(.*?public class RecommendExample.*?)```", Pattern.DOTALL)
            .matcher(readme);
    assertTrue(m.find(), "README.md has no RecommendExample java block");
    Path src = dir.resolve("RecommendExample.java");
    Files.writeString(src, m.group(1));
    JavaCompiler javac = ToolProvider.getSystemJavaCompiler();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    int rc =
        javac.run(
            null,
            null,
            err,
            "-d",
            dir.toString(),
            "-cp",
            System.getProperty("java.class.path"),
            src.toString());
    assertEquals(0, rc, err.toString(StandardCharsets.UTF_8));

    Checkpoint ck = RecommenderTest.checkpoint(true, 4);
    Path file = dir.resolve("m.ckpt");
    ck.write(file, new SasRec(ck.config(), new CpuOps(1), ck.codes()).layout());
    PrintStream old = System.out;
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try (URLClassLoader cl =
        new URLClassLoader(new URL[] {dir.toUri().toURL()}, getClass().getClassLoader())) {
      System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
      cl.loadClass("RecommendExample")
          .getMethod("main", String[].class)
          .invoke(null, (Object) new String[] {file.toString()});
    } finally {
      System.setOut(old);
    }
    // the test model's ids are 1000, 1003, ...: none of the example's ids is known, so popularity
    // answers
    String printed = out.toString(StandardCharsets.UTF_8).trim();
    List<String> want =
        Recommender.of(ck, Recommender.Scoring.AUTO, 1).recommend(List.of(), 10).items();
    assertEquals("popularity " + want + " (unknown: [1193, 661, 914])", printed);
  }
}
