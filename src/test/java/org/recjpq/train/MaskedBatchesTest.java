package org.recjpq.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.recjpq.data.LeaveOneOut.Phase;
import org.recjpq.data.SequenceDataset;

/** Masked-item examples: what is masked, how often, at least one per sequence, reproducibly. */
class MaskedBatchesTest {
  /** One batch of every example of the synthetic set, length 20, in epoch 0's order. */
  private static final class Fixture {
    final SequenceDataset ds = TrainerTest.synthetic();
    final int len = 20;
    final int mask = ds.numItems();
    final SequenceBatches b = new SequenceBatches(ds, len, false);
    final int batch = b.size();
    final int[] order = b.epochOrder(1, 0);

    /** {ids, targets} of step 3, mask probability 0.2, seed 7. */
    int[][] fill(double pLast) {
      int[] ids = new int[batch * len];
      int[] targets = new int[batch * len];
      b.fillMasked(order, 0, batch, ids, targets, 0.2, 7, 3, mask, pLast);
      return new int[][] {ids, targets};
    }
  }

  @Test
  void masksAboutPOfTheItemsAtLeastOneASequenceAndTheSameForTheSameStep() {
    Fixture f = new Fixture();
    SequenceDataset ds = f.ds;
    int len = f.len;
    int mask = f.mask;
    SequenceBatches b = f.b;
    int batch = f.batch;
    int[] order = f.order;
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

  @Test
  void maskLastMasksTheLastItemOfAboutThatShareOfSequencesAndLeavesTheOtherDrawsAlone() {
    Fixture f = new Fixture();
    final int len = f.len;
    final int batch = f.batch;
    int[] plainIds = new int[batch * len];
    int[] plainT = new int[batch * len];
    f.b.fillMasked(
        f.order, 0, batch, plainIds, plainT, 0.2, 7, 3,
        f.mask); // the 9-argument form: plain masking
    for (double pLast : new double[] {0.0, 0.5, 1.0}) {
      int[][] filled = f.fill(pLast);
      int[] ids = filled[0];
      int[] targets = filled[1];
      int lastMasked = 0;
      for (int r = 0; r < batch; r++) {
        int last = r * len + len - 1;
        for (int t = 0; t < len - 1; t++) { // every other position as plain masking drew it
          assertEquals(plainIds[r * len + t], ids[r * len + t]);
          assertEquals(plainT[r * len + t], targets[r * len + t]);
        }
        if (ids[last] == f.mask) {
          lastMasked++;
          assertEquals(plainIds[last] == f.mask ? plainT[last] : plainIds[last], targets[last]);
        } else {
          assertEquals(plainIds[last], ids[last]);
        }
      }
      double share = lastMasked / (double) batch;
      if (pLast == 0.0) {
        assertArrayEquals(plainIds, ids);
        assertArrayEquals(plainT, targets);
      } else if (pLast == 1.0) {
        assertEquals(batch, lastMasked);
      } else {
        assertTrue(
            share > 0.5 && share < 0.75,
            "last masked in " + share + " of the rows (0.5 + 0.5 x 0.2 expected)");
      }
    }
  }

  /** The user of example e: found by matching the unmasked examples' contents. */
  private static int exampleUser(SequenceBatches b, SequenceDataset ds, int e) {
    int[] ids = new int[b.length()];
    int[] targets = new int[b.length()];
    b.fill(new int[] {e}, 0, 1, ids, targets);
    for (int u = 0; u < ds.numUsers(); u++) {
      int train = Phase.VALIDATION.historyLength(ds, u);
      if (train >= 2
          && ds.item(u, train - 1) == targets[b.length() - 1]
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
