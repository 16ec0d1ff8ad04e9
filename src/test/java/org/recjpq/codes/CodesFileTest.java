package org.recjpq.codes;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.recjpq.RecjpqException;
import org.recjpq.data.DatasetBuilder;
import org.recjpq.data.SequenceDataset;

class CodesFileTest {
  @TempDir Path dir;

  private final SequenceDataset ds =
      DatasetBuilder.fromSequences(new int[][] {{1, 2, 3, 4, 5}, {2, 3, 4, 6, 7}, {5, 1, 2, 8, 9}});

  private Path written() {
    CodeOptions o = CodeOptions.defaults(CodeStrategy.SVD, 4, 42);
    CodeAssigners.Assignment a = CodeAssigners.assign(ds, o);
    Path p = dir.resolve("d.codes");
    CodesFile.write(p, a.codes(), ds, o, a.diagnostics(), "recjpq assign-codes ...");
    return p;
  }

  @Test
  void roundTripsWithProvenance() {
    Path p = written();
    CodesFile.Loaded back = CodesFile.readFor(p, ds);
    assertEquals("svd", back.strategy());
    assertEquals(42, back.seed());
    assertEquals(4, back.codes().splits());
    assertEquals(ds.numItems(), back.codes().numItems());
    assertArrayEquals(
        CodeAssigners.assign(ds, CodeOptions.defaults(CodeStrategy.SVD, 4, 42)).codes().raw(),
        back.codes().raw());
    assertEquals(256, back.header().get("subIds").asInt());
    assertTrue(back.header().get("diagnostics").has("distinct_codes"));
    assertEquals(ds.items().fingerprint(), back.header().get("itemVocabulary").asText());
  }

  @Test
  void codesForAnotherVocabularyAreRefused() {
    Path p = written();
    SequenceDataset same = DatasetBuilder.fromSequences(new int[][] {{1, 2, 3, 4, 5, 6, 7, 8, 9}});
    CodesFile.readFor(p, same); // same item ids: accepted whatever the users
    SequenceDataset other =
        DatasetBuilder.fromSequences(new int[][] {{1, 2, 3, 4, 5, 6, 7, 8, 10}});
    RecjpqException e = assertThrows(RecjpqException.class, () -> CodesFile.readFor(p, other));
    assertTrue(
        e.getMessage().startsWith(p + " holds codes for another item vocabulary (9 items"),
        e.getMessage());
    assertTrue(e.getMessage().contains("recjpq assign-codes"), e.getMessage());
  }

  @Test
  void truncatedOrCorruptedFilesAreClearErrors() throws IOException {
    Path p = written();
    byte[] good = Files.readAllBytes(p);
    Path cut = dir.resolve("cut.codes");
    Files.write(cut, Arrays.copyOf(good, good.length - 5));
    RecjpqException e = assertThrows(RecjpqException.class, () -> CodesFile.read(cut));
    assertTrue(e.getMessage().contains("truncated"), e.getMessage());
    byte[] bad = good.clone();
    bad[bad.length - 10] ^= 1; // a code byte
    Path flipped = dir.resolve("flipped.codes");
    Files.write(flipped, bad);
    e = assertThrows(RecjpqException.class, () -> CodesFile.read(flipped));
    assertTrue(
        e.getMessage().contains("checksum of section 'codes' does not match"), e.getMessage());
    Path notCodes = dir.resolve("x.rjd");
    org.recjpq.data.DatasetFile.write(ds, notCodes, null);
    e = assertThrows(RecjpqException.class, () -> CodesFile.read(notCodes));
    assertTrue(e.getMessage().contains("is not a recjpq codes file"), e.getMessage());
  }
}
