package org.recjpq.serve;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.recjpq.backend.cpu.CpuBuf;

class DenseHeadChunkTest {
  @Test
  void chunksOfWideTablesStayWithinOneBuffer() {
    // d = 512 once asked for 2^20 rows = 2^29 floats, 16 past a buffer's limit (bench scoring, 1.1M items).
    assertEquals(1 << 20, DenseHead.chunkItems(64));
    assertEquals(1 << 19, DenseHead.chunkItems(512));
    assertEquals(1 << 18, DenseHead.chunkItems(1024));
    for (int d : new int[] {1, 8, 64, 100, 511, 512, 513, 768, 1024, 4096, 1 << 20}) {
      int c = DenseHead.chunkItems(d);
      assertEquals(1, Integer.bitCount(c), "d " + d + ": chunk " + c + " is not a power of two");
      assertTrue((long) c * d <= CpuBuf.MAX_FLOATS, "d " + d + ": " + c + " rows pass one buffer");
      assertTrue(2L * c * d > CpuBuf.MAX_FLOATS || c == DenseHead.CHUNK, "d " + d + ": chunk " + c + " is needlessly small");
    }
  }

  @Test
  void rowsAcrossTheTableReadBack() {
    int n = 3000;
    int d = 16;
    float[] table = new float[n * d];
    for (int i = 0; i < table.length; i++) {
      table[i] = (i % 977) * 0.25f - 100f;
    }
    DenseHead head = DenseHead.of(table, n, d);
    float[] h = new float[d];
    h[3] = 1f;
    for (int item : new int[] {0, 1, 1499, 2999}) {
      assertEquals(table[item * d + 3], head.score(h, item), 0f);
    }
  }
}
