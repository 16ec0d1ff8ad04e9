package org.recjpq.codes;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.recjpq.RecjpqException;
import org.recjpq.data.DatasetBuilder;
import org.recjpq.data.SequenceDataset;

class CooccurrenceTest {

  /** C[a][b] by internal ids of external ids a and b (0 when absent). */
  static float entry(TrainingMatrix c, SequenceDataset ds, String a, String b) {
    int row = ds.items().indexOf(a);
    int col = ds.items().indexOf(b);
    for (int p = c.rowPtr[row]; p < c.rowPtr[row + 1]; p++) {
      if (c.cols[p] == col) {
        return c.vals[p];
      }
    }
    return 0f;
  }

  @Test
  void pairsWithinTheWindowOfTrainingSequencesWeighOneOverTheirDistance() {
    // Training parts (the last two items are the validation and test targets): 1 2 3 2 and 1 2.
    SequenceDataset ds =
        DatasetBuilder.fromSequences(new int[][] {{1, 2, 3, 2, 8, 9}, {1, 2, 8, 9}});
    TrainingMatrix c = Cooccurrence.of(ds, 2, 1);
    assertEquals(ds.numItems(), c.numUsers());
    assertEquals(ds.numItems(), c.numItems());
    assertEquals(6, c.interactions());
    // 1-2 at distance 1 twice (both users), 1-3 at distance 2; 2-3 at distance 1 twice (2 3, 3 2);
    // 2-2 at distance 2 (positions 1 and 3) counts once in each direction, both on the diagonal.
    assertEquals(2f, entry(c, ds, "1", "2"));
    assertEquals(2f, entry(c, ds, "2", "1"));
    assertEquals(0.5f, entry(c, ds, "1", "3"));
    assertEquals(2f, entry(c, ds, "2", "3"));
    assertEquals(2f, entry(c, ds, "3", "2"));
    assertEquals(1f, entry(c, ds, "2", "2"));
    assertEquals(0f, entry(c, ds, "1", "1"));
    assertEquals(0f, entry(c, ds, "1", "8"), "validation and test targets never count");
    // 1 and the second 2 are 3 apart: outside the window of 2 above, inside one of 3.
    assertEquals(2f + 1f / 3, entry(Cooccurrence.of(ds, 3, 1), ds, "1", "2"), 1e-6);
    for (int r = 0; r < c.numItems(); r++) { // columns ascend within each row
      for (int p = c.rowPtr[r] + 1; p < c.rowPtr[r + 1]; p++) {
        assertTrue(c.cols[p - 1] < c.cols[p]);
      }
    }
  }

  @Test
  void theSameBitsForAnyThreadCount() {
    SequenceDataset ds = CodeAssignersTest.synthetic(500, 2000, 30_000, 5);
    TrainingMatrix one = Cooccurrence.of(ds, 5, 1);
    TrainingMatrix two = Cooccurrence.of(ds, 5, 2);
    assertArrayEquals(one.rowPtr, two.rowPtr);
    assertArrayEquals(one.cols, two.cols);
    assertArrayEquals(one.vals, two.vals);
    float total = 0;
    for (float v : one.vals) {
      total += v;
    }
    assertTrue(total > 0);
  }

  @Test
  void anEmptyTrainingSetIsAClearError() {
    SequenceDataset ds = DatasetBuilder.fromSequences(new int[][] {{1, 2}, {3, 4}});
    RecjpqException e = assertThrows(RecjpqException.class, () -> Cooccurrence.of(ds, 5, 1));
    assertTrue(e.getMessage().startsWith("The training set is empty"), e.getMessage());
    assertThrows(IllegalArgumentException.class, () -> Cooccurrence.of(ds, 0, 1));
  }
}
