package org.recjpq.serve;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class ItemFilterTest {
  @Test
  void countsDistinctExclusionsAndForgetsThemOnClear() {
    ItemFilter f = new ItemFilter(10);
    f.exclude(3);
    f.exclude(3);
    f.exclude(7);
    assertEquals(2, f.excludedCount());
    assertTrue(f.excluded(3) && f.excluded(7) && !f.excluded(4));
    f.clear();
    assertEquals(0, f.excludedCount());
    assertFalse(f.excluded(3));
    f.exclude(4);
    assertEquals(1, f.excludedCount());
    assertEquals(3, ItemFilter.of(new int[] {5, 1, 5, 9}).excludedCount());
  }
}
