package org.recjpq.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.recjpq.RecjpqException;
import org.recjpq.data.LeaveOneOut.Phase;

class LeaveOneOutTest {
  private final SequenceDataset ds =
      DatasetBuilder.fromSequences(new int[][] {{1, 2, 3, 4}, {5, 6}, {7, 8, 9}});

  @Test
  void lastIsTestSecondToLastIsValidation() {
    assertEquals(3, Phase.TEST.historyLength(ds, 0));
    assertEquals("4", ds.items().externalId(Phase.TEST.target(ds, 0)));
    assertEquals(2, Phase.VALIDATION.historyLength(ds, 0));
    assertEquals("3", ds.items().externalId(Phase.VALIDATION.target(ds, 0)));
    assertTrue(Phase.TEST.evaluable(ds, 1));
    assertFalse(Phase.VALIDATION.evaluable(ds, 1), "a user of length 2 has no validation history");
    assertArrayEquals(new int[] {0, 1, 2}, LeaveOneOut.testUsers(ds));
    assertArrayEquals(new int[] {0, 2}, LeaveOneOut.evaluableUsers(ds, Phase.VALIDATION));
  }

  @Test
  void validationSampleIsSeededSortedAndDistinct() {
    int[][] seqs = new int[5000][];
    for (int u = 0; u < seqs.length; u++) {
      seqs[u] = new int[] {u % 50, 1000 + u % 70, 2000 + u % 30};
    }
    SequenceDataset big = DatasetBuilder.fromSequences(seqs);
    int[] a = LeaveOneOut.validationUsers(big, 1024, 42);
    int[] b = LeaveOneOut.validationUsers(big, 1024, 42);
    int[] c = LeaveOneOut.validationUsers(big, 1024, 43);
    assertArrayEquals(a, b);
    assertNotEquals(Arrays.toString(a), Arrays.toString(c));
    assertEquals(1024, a.length);
    assertEquals(1024, Arrays.stream(a).distinct().count());
    for (int i = 1; i < a.length; i++) {
      assertTrue(a[i - 1] < a[i]);
    }
    assertEquals(5000, LeaveOneOut.validationUsers(big, -1, 1).length);
    assertEquals(5000, LeaveOneOut.validationUsers(big, 99999, 1).length);
    assertThrows(RecjpqException.class, () -> LeaveOneOut.validationUsers(big, 0, 1));
  }
}
