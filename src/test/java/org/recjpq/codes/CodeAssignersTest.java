package org.recjpq.codes;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashSet;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.recjpq.RecjpqException;
import org.recjpq.data.DatasetBuilder;
import org.recjpq.data.FilterOptions;
import org.recjpq.data.Format;
import org.recjpq.data.InteractionLog;
import org.recjpq.data.SequenceDataset;
import org.recjpq.data.synth.SynthConfig;
import org.recjpq.data.synth.SyntheticGenerator;

class CodeAssignersTest {

  static SequenceDataset synthetic(int users, int items, long interactions, long seed) {
    SynthConfig config = SynthConfig.defaults(users, items, interactions, seed);
    InteractionLog.Builder b =
        new InteractionLog.Builder(Path.of("(synth)"), Format.SASREC_PAIRS, true, true, false);
    SyntheticGenerator.generate(config, (u, i) -> b.add(b.userCode(u), b.itemCode(i), 0));
    return DatasetBuilder.build(b.build(), FilterOptions.DEFAULT);
  }

  static CodeOptions options(CodeStrategy s, int m, long seed, int threads) {
    return CodeOptions.defaults(s, m, seed).withThreads(threads);
  }

  private final SequenceDataset ds = synthetic(800, 3000, 40_000, 3);

  @ParameterizedTest
  @EnumSource(value = CodeStrategy.class, names = "MODEL_PQ", mode = EnumSource.Mode.EXCLUDE)
  void bucketsAreBalancedPerSplitForSvdAndBpr(CodeStrategy s) {
    CodeAssigners.Assignment a = CodeAssigners.assign(ds, options(s, 8, 42, 2));
    ItemCodes c = a.codes();
    assertEquals(ds.numItems(), c.numItems());
    for (int k = 0; k < 8; k++) {
      int[] count = new int[256];
      for (int i = 0; i < c.numItems(); i++) {
        count[c.code(i, k)]++;
      }
      int min = Arrays.stream(count).min().orElseThrow();
      int max = Arrays.stream(count).max().orElseThrow();
      assertEquals(min, a.diagnostics().minOccupancy()[k]);
      assertEquals(max, a.diagnostics().maxOccupancy()[k]);
      if (s == CodeStrategy.SVD
          || s == CodeStrategy.BPR) { // quantiles; k-means and random are not balanced
        assertTrue(max - min <= 1, s + " split " + k + ": bucket sizes " + min + ".." + max);
      }
    }
  }

  @ParameterizedTest
  @EnumSource(value = CodeStrategy.class, names = "MODEL_PQ", mode = EnumSource.Mode.EXCLUDE)
  void sameSeedSameBytesDifferentSeedDifferentCodes(CodeStrategy s) {
    byte[] a = CodeAssigners.assign(ds, options(s, 8, 42, 1)).codes().raw();
    byte[] b = CodeAssigners.assign(ds, options(s, 8, 42, 1)).codes().raw();
    byte[] c = CodeAssigners.assign(ds, options(s, 8, 43, 1)).codes().raw();
    assertArrayEquals(a, b);
    assertFalse(Arrays.equals(a, c), s + ": another seed must give other codes");
    if (s != CodeStrategy.BPR) { // BPR with several threads is Hogwild!, not reproducible
      assertArrayEquals(
          a,
          CodeAssigners.assign(ds, options(s, 8, 42, 2)).codes().raw(),
          s + ": the thread count must not change the codes");
    }
  }

  @ParameterizedTest
  @EnumSource(
      value = CodeStrategy.class,
      names = {"SVD", "SVD_PQ", "COOC_PQ", "NSVD_PQ"})
  void itemsUnseenInTrainingSpreadOverBuckets(CodeStrategy strategy) {
    // 300 users: three items from a pool of 100, then two items of their own, which are the
    // validation and test targets and so never occur in training.
    Random rnd = new Random(1);
    int[][] seqs = new int[300][];
    for (int u = 0; u < seqs.length; u++) {
      seqs[u] =
          new int[] {
            rnd.nextInt(100), rnd.nextInt(100), rnd.nextInt(100), 1000 + 2 * u, 1001 + 2 * u
          };
    }
    SequenceDataset d = DatasetBuilder.fromSequences(seqs);
    ItemCodes c = CodeAssigners.assign(d, options(strategy, 4, 42, 2)).codes();
    int n = d.numItems();
    Set<String> unseenCodes = new HashSet<>();
    for (int k = 0; k < 4; k++) {
      Set<Integer> buckets = new HashSet<>();
      int unseen = 0;
      for (int i = 0; i < n; i++) {
        if (Integer.parseInt(d.items().externalId(i)) >= 1000) {
          buckets.add(c.code(i, k));
          unseen++;
        }
      }
      assertEquals(600, unseen);
      // 600 of 700 items share the value 0: under SVD their ranks fill 600/700 of the 256 buckets;
      // under SVD-PQ, COOC-PQ and NSVD-PQ they get random sub-ids (about 232 of 256 buckets
      // expected).
      assertTrue(
          buckets.size() >= 600 * 256 / n - 1,
          "split " + k + ": unseen items in " + buckets.size() + " buckets");
    }
    for (int i = 0; i < n; i++) {
      if (Integer.parseInt(d.items().externalId(i)) >= 1000) {
        unseenCodes.add(
            c.code(i, 0) + "," + c.code(i, 1) + "," + c.code(i, 2) + "," + c.code(i, 3));
      }
    }
    assertTrue(
        unseenCodes.size() > 590,
        "unseen items must not share codes: " + unseenCodes.size() + " distinct");
  }

  @Test
  void anEmptyTrainingSetIsAClearErrorExceptForRandomCodes() {
    SequenceDataset d = DatasetBuilder.fromSequences(new int[][] {{1, 2}, {3, 4}});
    RecjpqException e =
        assertThrows(
            RecjpqException.class,
            () -> CodeAssigners.assign(d, options(CodeStrategy.SVD, 2, 1, 1)));
    assertTrue(e.getMessage().startsWith("The training set is empty"), e.getMessage());
    assertThrows(
        RecjpqException.class, () -> CodeAssigners.assign(d, options(CodeStrategy.BPR, 2, 1, 1)));
    assertThrows(
        RecjpqException.class,
        () -> CodeAssigners.assign(d, options(CodeStrategy.SVD_PQ, 2, 1, 1)));
    assertThrows(
        RecjpqException.class,
        () -> CodeAssigners.assign(d, options(CodeStrategy.COOC_PQ, 2, 1, 1)));
    assertThrows(
        RecjpqException.class,
        () -> CodeAssigners.assign(d, options(CodeStrategy.NSVD_PQ, 2, 1, 1)));
    assertEquals(
        4, CodeAssigners.assign(d, options(CodeStrategy.RANDOM, 2, 1, 1)).codes().numItems());
  }

  @Test
  void modelPqCodesQuantiseAnItemTableAndAreUnique() {
    // 300 groups of items with near-identical embeddings (d = 16): a group's items share most
    // sub-ids.
    int n = ds.numItems();
    int d = 16;
    float[] table = new float[n * d];
    Random rnd = new Random(5);
    float[][] centre = new float[300][d];
    for (float[] c : centre) {
      for (int j = 0; j < d; j++) {
        c[j] = (float) rnd.nextGaussian();
      }
    }
    for (int i = 0; i < n; i++) {
      for (int j = 0; j < d; j++) {
        table[i * d + j] = centre[i % 300][j] + 0.01f * (float) rnd.nextGaussian();
      }
    }
    CodeAssigners.Assignment a =
        CodeAssigners.fromItemTable(ds, table, d, options(CodeStrategy.MODEL_PQ, 8, 42, 2));
    assertEquals(n, a.diagnostics().distinctCodes(), "every item gets a code of its own");
    long agree = 0;
    long pairs = 0;
    for (int i = 0; i < 1200; i++) {
      for (int j = i + 300; j < 1200; j += 300) {
        pairs++;
        for (int k = 0; k < 8; k++) {
          agree += a.codes().code(i, k) == a.codes().code(j, k) ? 1 : 0;
        }
      }
    }
    assertTrue(
        agree > 6.0 * pairs,
        "same-group items agree on " + (double) agree / pairs + " of 8 splits");
    assertArrayEquals(
        a.codes().raw(),
        CodeAssigners.fromItemTable(ds, table, d, options(CodeStrategy.MODEL_PQ, 8, 42, 1))
            .codes()
            .raw());
    RecjpqException e =
        assertThrows(
            RecjpqException.class,
            () -> CodeAssigners.assign(ds, options(CodeStrategy.MODEL_PQ, 8, 42, 1)));
    assertTrue(
        e.getMessage().contains("assign-codes --strategy model-pq --checkpoint"), e.getMessage());
    assertThrows(
        IllegalArgumentException.class,
        () ->
            CodeAssigners.fromItemTable(
                ds, new float[3], d, options(CodeStrategy.MODEL_PQ, 8, 42, 1)));
  }

  @Test
  void splitsAndDimensionAreChecked() {
    assertTrue(
        assertThrows(RecjpqException.class, () -> CodeOptions.defaults(CodeStrategy.SVD, 0, 1))
            .getMessage()
            .contains("between 1 and 256, found 0"));
    assertThrows(RecjpqException.class, () -> CodeOptions.defaults(CodeStrategy.SVD, 257, 1));
    RecjpqException e =
        assertThrows(
            RecjpqException.class,
            () -> new CodeOptions(CodeStrategy.SVD, 8, 100, 1, 10, 5, 20, 0.05, 0.001, 1));
    assertTrue(
        e.getMessage()
            .startsWith(
                "The embedding size d = 100 is not divisible by the number of splits m = 8"),
        e.getMessage());
    new CodeOptions(CodeStrategy.SVD, 8, 64, 1, 10, 5, 20, 0.05, 0.001, 1); // 8 divides 64
  }

  @Test
  void diagnosticsCountDistinctCodesAndTheLargestGroup() {
    byte[] raw = {1, 2, 1, 2, 3, 4, 1, 2, 5, 5};
    CodeDiagnostics d =
        CodeDiagnostics.of(
            "random", new ItemCodes(5, 2, raw), 0, 0, null, new java.util.LinkedHashMap<>(), 0);
    assertEquals(3, d.distinctCodes());
    assertEquals(3, d.largestGroup());
    assertTrue(d.exactDistinct());
  }
}
