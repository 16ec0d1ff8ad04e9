package org.recjpq.serve;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Random;
import org.junit.jupiter.api.Test;
import org.recjpq.codes.ItemCodes;

/** The sub-id score table and the pair tables are the canonical arithmetic, bit for bit. */
class JpqHeadTest {

  @Test
  void subIdTableIsEachDotProductSummedInSplitOrder() {
    Random rnd = new Random(3);
    for (int sub : new int[] {1, 3, 8, 64}) {
      int m = 8;
      int n = 50;
      byte[] codes = new byte[n * m];
      rnd.nextBytes(codes);
      float[] cb = new float[m * ItemCodes.SUB_IDS * sub];
      for (int i = 0; i < cb.length; i++) {
        cb[i] = (float) rnd.nextGaussian();
      }
      JpqHead head = new JpqHead(new ItemCodes(n, m, codes), cb, sub);
      float[] h = new float[m * sub];
      for (int i = 0; i < h.length; i++) {
        h[i] = (float) rnd.nextGaussian();
      }
      float[] t = new float[head.queryFloats()];
      java.util.Arrays.fill(t, Float.NaN); // prepare must overwrite every entry
      head.prepare(h, t);
      for (int k = 0; k < m; k++) {
        for (int j = 0; j < ItemCodes.SUB_IDS; j++) {
          float acc = 0f;
          for (int s = 0; s < sub; s++) {
            acc += h[k * sub + s] * cb[(k * ItemCodes.SUB_IDS + j) * sub + s];
          }
          assertEquals(
              Float.floatToIntBits(acc),
              Float.floatToIntBits(t[k * ItemCodes.SUB_IDS + j]),
              "s " + sub + " split " + k + " sub-id " + j);
        }
      }
      float[] pairs = new float[JpqHead.PAIR_FLOATS];
      JpqHead.pairTables(t, pairs);
      for (int i = 0; i < n; i++) {
        float want = head.score(t, i);
        assertEquals(
            Float.floatToIntBits(want),
            Float.floatToIntBits(JpqHead.scorePairs(pairs, head.packed[i])),
            "item " + i);
        float[] parts = new float[m];
        for (int k = 0; k < m; k++) {
          parts[k] = t[k * ItemCodes.SUB_IDS + (codes[i * m + k] & 0xff)];
        }
        assertEquals(
            Float.floatToIntBits(head.combine(parts)),
            Float.floatToIntBits(want),
            "item " + i + " combine");
      }
    }
  }
}
