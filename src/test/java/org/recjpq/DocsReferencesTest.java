package org.recjpq;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * Every "docs/X.md §N" a source file cites names a document of this repository and a section of it.
 */
class DocsReferencesTest {
  private static final Pattern CITE = Pattern.compile("docs/([a-z-]+\\.md)(?:\\s|\\*|/)*§(\\d+)");

  @Test
  void citedSectionsExist() throws IOException {
    List<String> missing = new ArrayList<>();
    int cites = 0;
    for (String root : List.of("src", "cuda", "native-build", "cuda-emulator")) {
      try (Stream<Path> files = Files.walk(Path.of(root))) {
        for (Path f : (Iterable<Path>) files.filter(Files::isRegularFile)::iterator) {
          String text;
          try {
            text = Files.readString(f);
          } catch (java.nio.charset.MalformedInputException e) {
            continue; // not text
          }
          Matcher m = CITE.matcher(text);
          while (m.find()) {
            cites++;
            Path doc = Path.of("docs", m.group(1));
            if (!Files.isRegularFile(doc)
                || !Files.readString(doc).contains("\n## " + m.group(2) + ". ")) {
              missing.add(f + ": " + m.group());
            }
          }
        }
      }
    }
    assertTrue(cites > 30, "citations found: " + cites);
    assertTrue(missing.isEmpty(), "cited but missing: " + missing);
  }
}
