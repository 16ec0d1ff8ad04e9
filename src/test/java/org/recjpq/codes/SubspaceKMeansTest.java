package org.recjpq.codes;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.HashSet;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;

class SubspaceKMeansTest {
  static final int N = 604;
  static final int COLS = 4;
  static final int SPLITS = 2;

  /**
   * 300 random items, three with one identical vector (300..302), 300 more random, and item 603
   * without factors.
   */
  static double[] factors() {
    Random rnd = new Random(11);
    double[] f = new double[N * COLS];
    for (int i = 0; i < N - 1; i++) {
      for (int j = 0; j < COLS; j++) {
        f[i * COLS + j] = i >= 300 && i <= 302 ? 0.25 * (j + 1) : rnd.nextGaussian();
      }
    }
    return f;
  }

  static String code(byte[] codes, int i) {
    return Arrays.toString(Arrays.copyOfRange(codes, i * SPLITS, (i + 1) * SPLITS));
  }

  @Test
  void deduplicationGivesItemsWithFactorsCodesOfTheirOwnByOneSubIdChanges() {
    double[] f = factors();
    byte[] codes = new byte[N * SPLITS];
    float[][] centroids = new float[SPLITS][];
    for (int k = 0; k < SPLITS; k++) {
      centroids[k] = SubspaceKMeans.assign(f, COLS, N, k, SPLITS, 42, 2, codes);
      assertNotNull(centroids[k]);
      assertEquals(256 * (COLS / SPLITS), centroids[k].length);
    }
    assertEquals(code(codes, 300), code(codes, 301));
    assertEquals(code(codes, 300), code(codes, 302));
    byte[] before = codes.clone();
    int moved = SubspaceKMeans.deduplicate(f, COLS, N, SPLITS, centroids, codes);
    Set<String> seen = new HashSet<>();
    for (int i = 0; i < N - 1; i++) {
      assertTrue(seen.add(code(codes, i)), "item " + i + " still shares code " + code(codes, i));
    }
    int changed = 0;
    for (int i = 0; i < N; i++) {
      int diff = 0;
      for (int k = 0; k < SPLITS; k++) {
        diff += codes[i * SPLITS + k] != before[i * SPLITS + k] ? 1 : 0;
      }
      assertTrue(diff <= 1, "item " + i + " changed " + diff + " sub-ids");
      changed += diff;
    }
    assertEquals(moved, changed);
    assertTrue(moved >= 2, "two of the three identical items must move, moved " + moved);
    // Equal errors: the lowest id keeps the code; the item without factors keeps its random code.
    assertEquals(code(before, 300), code(codes, 300));
    assertEquals(code(before, N - 1), code(codes, N - 1));
    byte[] again = before.clone();
    SubspaceKMeans.deduplicate(f, COLS, N, SPLITS, centroids, again);
    assertArrayEquals(codes, again);
  }

  @Test
  void coocPqCodesAreDistinctOnASyntheticCatalogue() {
    var ds = CodeAssignersTest.synthetic(800, 3000, 40_000, 3);
    CodeAssigners.Assignment a =
        CodeAssigners.assign(ds, CodeOptions.defaults(CodeStrategy.COOC_PQ, 8, 42));
    assertTrue(a.diagnostics().seconds().containsKey("deduplication"));
    Set<String> warm = new HashSet<>();
    int warmItems = 0;
    TrainingMatrix c = Cooccurrence.of(ds, Cooccurrence.WINDOW, 1);
    for (int i = 0; i < ds.numItems(); i++) {
      if (c.rowPtr[i + 1] > c.rowPtr[i]) {
        warmItems++;
        warm.add(Arrays.toString(Arrays.copyOfRange(a.codes().raw(), i * 8, i * 8 + 8)));
      }
    }
    assertEquals(warmItems, warm.size(), "every item with neighbours has a code of its own");
  }
}
