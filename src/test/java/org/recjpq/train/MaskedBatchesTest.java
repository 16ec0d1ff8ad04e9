package org.recjpq.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.recjpq.data.LeaveOneOut.Phase;
import org.recjpq.data.SequenceDataset;

/** Masked-item examples: what is masked, how often, at least one per sequence, reproducibly. */
class MaskedBatchesTest {
  @Test
  void masksAboutPOfTheItemsAtLeastOneASequenceAndTheSameForTheSameStep() {
    SequenceDataset ds = TrainerTest.synthetic();
    int len = 20;
    int mask = ds.numItems();
    SequenceBatches b = new SequenceBatches(ds, len, false);
    int batch = b.size();
    int[] order = b.epochOrder(1, 0);
    int[] ids = new int[batch * len];
    int[] targets = new int[batch * len];
    b.fillMasked(order, 0, batch, ids, targets, 0.2, 7, 3, mask);
    int masked = 0;
    int items = 0;
    for (int r = 0; r < batch; r++) {
      int u = exampleUser(b, ds, order[r]);
      int train = Phase.VALIDATION.historyLength(ds, u);
      int n = Math.min(len, train);
      int inRow = 0;
      for (int t = 0; t < len; t++) {
        int at = r * len + t;
        if (t < len - n) {
          assertEquals(-1, ids[at]);
          assertEquals(-1, targets[at]);
          continue;
        }
        int item = ds.item(u, train - n + (t - (len - n)));
        items++;
        if (ids[at] == mask) {
          assertEquals(item, targets[at]);
          inRow++;
        } else {
          assertEquals(item, ids[at]);
          assertEquals(-1, targets[at]);
        }
      }
      assertTrue(inRow >= 1, "row " + r + " has no masked item");
      masked += inRow;
    }
    double rate = masked / (double) items;
    assertTrue(rate > 0.17 && rate < 0.25, "masked " + rate);
    int[] again = new int[ids.length];
    int[] againT = new int[ids.length];
    b.fillMasked(order, 0, batch, again, againT, 0.2, 7, 3, mask);
    assertArrayEquals(ids, again);
    assertArrayEquals(targets, againT);
    b.fillMasked(order, 0, batch, again, againT, 0.2, 7, 4, mask);
    assertTrue(!java.util.Arrays.equals(ids, again), "another step draws other masks");
  }

  /** The user of example e: found by matching the unmasked examples' contents. */
  private static int exampleUser(SequenceBatches b, SequenceDataset ds, int e) {
    int[] ids = new int[b.length()];
    int[] targets = new int[b.length()];
    b.fill(new int[] {e}, 0, 1, ids, targets);
    for (int u = 0; u < ds.numUsers(); u++) {
      int train = Phase.VALIDATION.historyLength(ds, u);
      if (train >= 2 && ds.item(u, train - 1) == targets[b.length() - 1]
          && ds.item(u, train - 2) == ids[b.length() - 1]) {
        int n = Math.min(b.length(), train - 1);
        boolean same = true;
        for (int t = 0; t < n && same; t++) {
          same = ids[b.length() - n + t] == ds.item(u, train - 1 - n + t);
        }
        if (same) {
          return u;
        }
      }
    }
    throw new AssertionError("no user for example " + e);
  }
}
