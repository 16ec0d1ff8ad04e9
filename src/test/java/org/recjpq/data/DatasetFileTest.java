package org.recjpq.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.recjpq.RecjpqException;

class DatasetFileTest {
  @TempDir Path dir;

  private SequenceDataset textDataset() throws IOException {
    Path p = dir.resolve("log.csv");
    Files.writeString(p, "user_id,item_id\nbob,x\nbob,y\nann,y\nann,zé\nann,x\n");
    SequenceDataset ds =
        DatasetBuilder.build(
            InteractionReaders.read(p, ReadOptions.of(Format.CSV)), new FilterOptions(2, 0));
    return ds.withInfo(ds.info().withSplit(-1, 7));
  }

  private static void assertSameData(SequenceDataset a, SequenceDataset b) {
    assertEquals(a.numUsers(), b.numUsers());
    assertEquals(a.numItems(), b.numItems());
    assertArrayEquals(a.offsets(), b.offsets());
    assertArrayEquals(a.flatItems(), b.flatItems());
    for (int u = 0; u < a.numUsers(); u++) {
      assertEquals(a.users().externalId(u), b.users().externalId(u));
    }
    for (int i = 0; i < a.numItems(); i++) {
      assertEquals(a.items().externalId(i), b.items().externalId(i));
    }
  }

  @Test
  void roundTripsTextAndNumericVocabularies() throws IOException {
    SequenceDataset text = textDataset();
    Path f = dir.resolve("text.rjd");
    DatasetFile.write(text, f, "recjpq prepare ...");
    SequenceDataset back = DatasetFile.read(f);
    assertSameData(text, back);
    assertEquals(-1, back.info().validationUsers());
    assertEquals(7, back.info().splitSeed());
    assertEquals(2, back.info().filter().minUserInteractions());
    assertEquals("recjpq prepare ...", DatasetFile.header(f).get("command").asText());

    SequenceDataset numeric =
        DatasetBuilder.fromSequences(new int[][] {{10, 20, 30}, {30, 40}, {1_000_000_007, 10}});
    Path g = dir.resolve("num.rjd");
    DatasetFile.write(numeric, g, null);
    assertSameData(numeric, DatasetFile.read(g));
    assertTrue(DatasetFile.looksLikeDatasetFile(g));
    // no temporary files left behind
    try (Stream<Path> files = Files.list(dir)) {
      assertEquals(0, files.filter(x -> x.getFileName().toString().endsWith(".tmp")).count());
    }
  }

  @Test
  void everyFlippedByteIsDetected() throws IOException {
    SequenceDataset numeric = DatasetBuilder.fromSequences(new int[][] {{1, 2, 3}, {3, 4}});
    Path f = dir.resolve("d.rjd");
    DatasetFile.write(numeric, f, null);
    byte[] good = Files.readAllBytes(f);
    for (int pos = 0; pos < good.length; pos++) {
      byte[] bad = good.clone();
      bad[pos] ^= 0x10;
      Path g = dir.resolve("bad.rjd");
      Files.write(g, bad);
      int at = pos;
      RecjpqException e =
          assertThrows(RecjpqException.class, () -> DatasetFile.read(g), () -> "byte " + at);
      assertTrue(e.getMessage().startsWith(g.toString()), e.getMessage());
    }
  }

  @Test
  void truncatedWrongKindAndFutureVersionSayWhatIsWrong() throws IOException {
    SequenceDataset numeric = DatasetBuilder.fromSequences(new int[][] {{1, 2, 3}, {3, 4}});
    Path f = dir.resolve("d.rjd");
    DatasetFile.write(numeric, f, null);
    byte[] good = Files.readAllBytes(f);

    Path cut = dir.resolve("cut.rjd");
    Files.write(cut, Arrays.copyOf(good, good.length - 10));
    RecjpqException e = assertThrows(RecjpqException.class, () -> DatasetFile.read(cut));
    assertTrue(e.getMessage().contains("truncated"), e.getMessage());
    assertTrue(e.getMessage().contains("recjpq prepare"), e.getMessage());

    Path text = dir.resolve("pairs.txt");
    Files.writeString(text, "1 2\n1 3\n");
    e = assertThrows(RecjpqException.class, () -> DatasetFile.read(text));
    assertTrue(e.getMessage().contains("is not a recjpq dataset file"), e.getMessage());

    byte[] future = good.clone();
    ByteBuffer.wrap(future).putInt(8, 99);
    Path fut = dir.resolve("future.rjd");
    Files.write(fut, future);
    e = assertThrows(RecjpqException.class, () -> DatasetFile.read(fut));
    assertTrue(e.getMessage().contains("format version 99"), e.getMessage());

    Path tiny = dir.resolve("tiny.rjd");
    Files.write(tiny, new byte[] {'R', 'J'});
    e = assertThrows(RecjpqException.class, () -> DatasetFile.read(tiny));
    assertTrue(e.getMessage().contains("too short"), e.getMessage());
  }

  @Test
  void aFailedWriteLeavesNoFile() throws IOException {
    Path blocker = dir.resolve("blocker");
    Files.writeString(blocker, "a file where a directory should be");
    Path target = blocker.resolve("d.rjd");
    SequenceDataset numeric = DatasetBuilder.fromSequences(new int[][] {{1, 2}});
    assertThrows(RecjpqException.class, () -> DatasetFile.write(numeric, target, null));
    assertTrue(!Files.exists(target) && !Files.isDirectory(blocker));
  }
}
