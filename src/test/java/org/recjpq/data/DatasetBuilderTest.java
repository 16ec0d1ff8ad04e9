package org.recjpq.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.recjpq.RecjpqException;

class DatasetBuilderTest {

  private static InteractionLog log(long[][] rows, boolean timed) {
    InteractionLog.Builder b =
        new InteractionLog.Builder(Path.of("t.txt"), Format.MOVIELENS, true, true, timed);
    for (long[] r : rows) {
      b.add(b.userCode(r[0]), b.itemCode(r[1]), timed ? r[2] : 0);
    }
    return b.build();
  }

  @Test
  void dropsShortUsersAndTheItemsOnlyTheyHad() {
    long[][] rows = {
      {1, 100}, {1, 101}, {1, 102}, {2, 103}, {2, 100}, {3, 100}, {3, 104}, {3, 101}
    };
    SequenceDataset ds = DatasetBuilder.build(log(rows, false), new FilterOptions(3, 0));
    assertEquals(2, ds.numUsers());
    assertEquals(-1, ds.users().indexOf("2"));
    assertEquals(4, ds.numItems());
    assertEquals(-1, ds.items().indexOf("103"));
    assertEquals(6, ds.numInteractions());
    assertEquals(8, ds.info().rawInteractions());
  }

  @Test
  void itemMinimumIteratesToAFixedPoint() {
    // Item 9 is rare; dropping it makes user 2 too short, which makes item 8 rare in turn.
    long[][] rows = {
      {1, 7}, {1, 8}, {1, 7}, {2, 8}, {2, 9}, {2, 7}, {3, 7}, {3, 7}, {3, 7}, {4, 8}, {4, 7}, {4, 7}
    };
    SequenceDataset ds = DatasetBuilder.build(log(rows, false), new FilterOptions(3, 3));
    // round 1: item 9 (1) dropped -> user 2 has 2 -> dropped -> item 8 has 2 -> dropped
    // -> users 1 and 4 have 2 -> dropped -> only user 3 with item 7 x3 remains
    assertEquals(1, ds.numUsers());
    assertEquals("3", ds.users().externalId(0));
    assertEquals(1, ds.numItems());
    for (int u = 0; u < ds.numUsers(); u++) {
      assertTrue(ds.length(u) >= 3);
    }
  }

  @Test
  void nothingLeftAfterFilteringIsAnError() {
    long[][] rows = {{1, 1}, {1, 2}, {2, 1}};
    RecjpqException e =
        assertThrows(
            RecjpqException.class,
            () -> DatasetBuilder.build(log(rows, false), FilterOptions.DEFAULT));
    assertTrue(
        e.getMessage().startsWith("No interaction is left after filtering t.txt"), e.getMessage());
    assertTrue(e.getMessage().contains("--min-user-interactions"), e.getMessage());
  }

  @Test
  void noUserWithTwoInteractionsIsAnError() {
    long[][] rows = {{1, 1}, {2, 2}, {3, 1}};
    RecjpqException e =
        assertThrows(
            RecjpqException.class,
            () -> DatasetBuilder.build(log(rows, false), FilterOptions.NONE));
    assertTrue(
        e.getMessage().startsWith("No user of t.txt has 2 or more interactions after filtering"),
        e.getMessage());
  }

  @Test
  void stableSortByTimeMatchesAReferenceOnRandomLogs() {
    Random rnd = new Random(7);
    for (int trial = 0; trial < 20; trial++) {
      int n = 1 + rnd.nextInt(400);
      long[][] rows = new long[n][];
      for (int k = 0; k < n; k++) {
        rows[k] =
            new long[] {
              rnd.nextInt(5), k, rnd.nextInt(6)
            }; // item = file position, few distinct times
      }
      SequenceDataset ds;
      try {
        ds = DatasetBuilder.build(log(rows, true), FilterOptions.NONE);
      } catch (RecjpqException e) {
        continue; // no user with two interactions
      }
      for (int u = 0; u < ds.numUsers(); u++) {
        long user = Long.parseLong(ds.users().externalId(u));
        long prevTime = Long.MIN_VALUE;
        long prevPos = -1;
        for (int k = 0; k < ds.length(u); k++) {
          long pos = Long.parseLong(ds.items().externalId(ds.item(u, k)));
          long[] r = rows[(int) pos];
          assertEquals(user, r[0]);
          assertTrue(
              r[2] > prevTime || (r[2] == prevTime && pos > prevPos), "not a stable time order");
          prevTime = r[2];
          prevPos = pos;
        }
      }
    }
  }

  @Test
  void fromSequencesKeepsOrder() {
    SequenceDataset ds = DatasetBuilder.fromSequences(new int[][] {{5, 3, 5}, {3, 1}});
    assertEquals(3, ds.numItems());
    assertArrayEquals(new int[] {2, 1, 2}, ds.sequence(0));
    assertArrayEquals(new int[] {1, 0}, ds.sequence(1));
  }
}
