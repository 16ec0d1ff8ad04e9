package org.recjpq.serve;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.recjpq.backend.cpu.CpuBuf;

class DenseHeadChunkTest {
  @Test
  void chunksOfWideTablesStayWithinOneBuffer() {
    // d = 512 once asked for 2^20 rows = 2^29 floats, 16 past a buffer's limit (bench scoring, 1.1M
    // items).
    assertEquals(1 << 20, DenseHead.chunkItems(64));
    assertEquals(1 << 19, DenseHead.chunkItems(512));
    assertEquals(1 << 18, DenseHead.chunkItems(1024));
    for (int d : new int[] {1, 8, 64, 100, 511, 512, 513, 768, 1024, 4096, 1 << 20}) {
      int c = DenseHead.chunkItems(d);
      assertEquals(1, Integer.bitCount(c), "d " + d + ": chunk " + c + " is not a power of two");
      assertTrue((long) c * d <= CpuBuf.MAX_FLOATS, "d " + d + ": " + c + " rows pass one buffer");
      assertTrue(
          2L * c * d > CpuBuf.MAX_FLOATS || c == DenseHead.CHUNK,
          "d " + d + ": chunk " + c + " is needlessly small");
    }
  }

  @Test
  void rowsAndRangesReadBackAcrossChunkBoundaries() {
    int n = 3000;
    int d = 16;
    int chunk = 512; // six chunks, the last one short
    float[] table = new float[n * d];
    for (int i = 0; i < table.length; i++) {
      table[i] = (i % 977) * 0.25f - 100f;
    }
    DenseHead head =
        new DenseHead(n, d, chunk, (i, out) -> System.arraycopy(table, i * d, out, 0, d));
    float[] h = new float[d];
    h[3] = 1f;
    for (int item : new int[] {0, 1, 511, 512, 1499, 2559, 2560, 2999}) {
      assertEquals(table[item * d + 3], head.score(h, item), 0f, "item " + item);
    }
    CpuBuf scratch = CpuBuf.allocate(64L * d);
    // {from, count}: inside one chunk (a view), across a boundary (copied), and the short last
    // chunk.
    for (int[] r : new int[][] {{512, 64}, {500, 24}, {2550, 20}, {2944, 56}}) {
      CpuBuf e = head.embeddings(r[0], r[1], scratch);
      float[] got = new float[r[1] * d];
      e.read(0, got, 0, got.length);
      for (int k = 0; k < got.length; k++) {
        assertEquals(table[r[0] * d + k], got[k], 0f, "range " + r[0] + "+" + r[1] + " at " + k);
      }
    }
  }
}
