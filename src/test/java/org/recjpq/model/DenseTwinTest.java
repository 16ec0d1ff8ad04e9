package org.recjpq.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.recjpq.backend.Activation;
import org.recjpq.backend.Buf;
import org.recjpq.backend.cpu.CpuIntBuf;
import org.recjpq.backend.cpu.CpuOps;
import org.recjpq.codes.ItemCodes;
import org.recjpq.model.ModelConfig.BlockStyle;
import org.recjpq.model.ModelConfig.EmbeddingKind;

/** A RecJPQ model started from its dense twin computes what the twin computes when PQ is exact. */
class DenseTwinTest {
  private static final int N = 40;
  private static final int D = 8;
  private static final int M = 2;

  private static ModelConfig config(EmbeddingKind kind, boolean itemBias) {
    return new ModelConfig(
        ModelConfig.Backbone.SASREC,
        N,
        D,
        2,
        2,
        6,
        0f,
        12,
        Activation.RELU,
        kind,
        M,
        true,
        BlockStyle.PRE_LN,
        1e-5f,
        false,
        itemBias);
  }

  @Test
  void anExactlyQuantisedTableGivesTheSameHiddenStatesAndTheSameBackbone() {
    Random rnd = new Random(5);
    int sub = D / M;
    byte[] raw = new byte[N * M];
    for (int i = 0; i < raw.length; i++) {
      raw[i] = (byte) rnd.nextInt(7); // sub-ids 7..255 belong to no item
    }
    float[][] book = new float[M * 7][sub];
    for (float[] v : book) {
      for (int t = 0; t < sub; t++) {
        v[t] = (float) rnd.nextGaussian();
      }
    }
    CpuOps ops = new CpuOps(1);
    SasRec dense = new SasRec(config(EmbeddingKind.DENSE, false), ops, null);
    dense.initialize(3);
    float[] p = ops.toArray(dense.params());
    ParameterLayout.Entry table = dense.layout().entry("item.table");
    for (int i = 0; i < N; i++) {
      for (int k = 0; k < M; k++) {
        System.arraycopy(
            book[k * 7 + raw[i * M + k]], 0, p, (int) table.offset() + i * D + k * sub, sub);
      }
    }
    ops.upload(dense.params(), p);
    ItemCodes codes = new ItemCodes(N, M, raw);
    DenseTwin twin = new DenseTwin(codes, dense.layout(), p);

    SasRec jpq = new SasRec(config(EmbeddingKind.JPQ, true), ops, codes);
    jpq.initialize(9);
    float[] fresh = ops.toArray(jpq.params());
    float[] started = twin.warmStart(jpq.layout(), fresh);
    assertArrayEquals(ops.toArray(jpq.params()), fresh, "the fresh parameters are not changed");
    ops.upload(jpq.params(), started);

    for (ParameterLayout.Entry e : jpq.layout().entries()) {
      float[] got = slice(started, e);
      if (e.name().equals("item.codebooks")) {
        for (int k = 0; k < M; k++) {
          for (int c = 0; c < ItemCodes.SUB_IDS; c++) {
            float[] v =
                Arrays.copyOfRange(
                    got, (k * ItemCodes.SUB_IDS + c) * sub, (k * ItemCodes.SUB_IDS + c + 1) * sub);
            float[] want =
                c < 7
                    ? book[k * 7 + c]
                    : Arrays.copyOfRange(
                        fresh,
                        (int) e.offset() + (k * ItemCodes.SUB_IDS + c) * sub,
                        (int) e.offset() + (k * ItemCodes.SUB_IDS + c + 1) * sub);
            boolean used = false;
            for (int i = 0; i < N; i++) {
              used |= raw[i * M + k] == c;
            }
            if (used || c >= 7) {
              assertArrayEquals(want, v, 1e-6f, e.name() + " split " + k + " sub-id " + c);
            }
          }
        }
      } else if (e.name().equals("item.bias")) {
        assertArrayEquals(slice(fresh, e), got, "the twin has no biases: they stay fresh");
      } else {
        assertArrayEquals(slice(p, dense.layout().entry(e.name())), got, e.name());
      }
    }

    int[] ids = {-1, -1, 4, 7, 4, 2, 9, 1, 30, 12, 39, 0};
    Buf hd = dense.forward(CpuIntBuf.wrap(ids), 2, 6, false, 0, 0);
    float[] hDense = ops.toArray(hd);
    Buf hj = jpq.forward(CpuIntBuf.wrap(ids), 2, 6, false, 0, 0);
    assertArrayEquals(hDense, ops.toArray(hj), 1e-5f, "the same hidden states");
  }

  @Test
  void codebookMeansAverageTheItemsOfEachSubId() {
    CpuOps ops = new CpuOps(1);
    SasRec dense = new SasRec(config(EmbeddingKind.DENSE, false), ops, null);
    dense.initialize(3);
    float[] p = ops.toArray(dense.params());
    byte[] raw = new byte[N * M]; // every item holds sub-id 0 in both splits
    DenseTwin twin = new DenseTwin(new ItemCodes(N, M, raw), dense.layout(), p);
    SasRec jpq = new SasRec(config(EmbeddingKind.JPQ, false), ops, twin.codes());
    jpq.initialize(9);
    float[] started = twin.warmStart(jpq.layout(), ops.toArray(jpq.params()));
    ParameterLayout.Entry table = dense.layout().entry("item.table");
    ParameterLayout.Entry books = jpq.layout().entry("item.codebooks");
    for (int k = 0; k < M; k++) {
      for (int t = 0; t < D / M; t++) {
        double mean = 0;
        for (int i = 0; i < N; i++) {
          mean += p[(int) table.offset() + i * D + k * (D / M) + t];
        }
        mean /= N;
        int at = (int) books.offset() + k * ItemCodes.SUB_IDS * (D / M) + t;
        assertEquals(mean, started[at], 1e-6, "split " + k + " dim " + t);
      }
    }
    assertNotEquals(0f, started[(int) books.offset()]);
    assertThrows(
        IllegalArgumentException.class,
        () -> new DenseTwin(new ItemCodes(N - 1, M, new byte[(N - 1) * M]), dense.layout(), p));
  }

  private static float[] slice(float[] a, ParameterLayout.Entry e) {
    return Arrays.copyOfRange(a, (int) e.offset(), (int) (e.offset() + e.size()));
  }
}
