package org.recjpq.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.recjpq.RecjpqException;

class PairedSignificanceTest {
  @TempDir Path dir;

  // Reference values from SciPy 1.17.1:
  //   stats.ttest_rel(y, x) -> statistic 2.23847753420914, pvalue 0.04682598997519258
  //   stats.wilcoxon(y, x, zero_method='wilcox', correction=False, method='approx')
  //     -> statistic 4.0, pvalue 0.04938938891204152, zstatistic -1.9652147377620701
  static final double[] X = {0.0, 0.5, 0.0, 1.0, 0.3, 0.0, 0.2, 0.9, 0.0, 0.4, 0.1, 0.0};
  static final double[] Y = {0.1, 0.5, 0.0, 0.8, 0.6, 0.2, 0.2, 1.0, 0.3, 0.4, 0.5, 0.1};

  @Test
  void matchesScipy() {
    PairedSignificance.Result r = PairedSignificance.test("m", X, Y, 0, 0);
    assertEquals(2.23847753420914, r.tStatistic(), 1e-12);
    assertEquals(0.04682598997519258, r.tPValue(), 1e-9);
    assertEquals(4.0, r.wilcoxonStatistic(), 1e-12);
    assertEquals(-1.9652147377620701, r.wilcoxonZ(), 1e-12);
    assertEquals(0.04938938891204152, r.wilcoxonPValue(), 1e-9);
    assertEquals(8, r.nonZeroDifferences());
  }

  @Test
  void identicalRunsAreNotSignificant() {
    PairedSignificance.Result r = PairedSignificance.test("m", X, X, 0, 0);
    assertEquals(1.0, r.tPValue());
    assertEquals(1.0, r.wilcoxonPValue());
  }

  @Test
  void readsPerUserFilesMatchedOnUsers() throws IOException {
    StringBuilder a = new StringBuilder("user,target,rank,ndcg@10,recall@10,rr\n");
    StringBuilder b = new StringBuilder("user,target,rank,ndcg@10,recall@10,rr\n");
    for (int i = 0; i < X.length; i++) {
      a.append("u").append(i).append(",1,1,").append(X[i]).append(",1,1\n");
    }
    for (int i = Y.length - 1; i >= 0; i--) { // other order
      b.append("u").append(i).append(",1,1,").append(Y[i]).append(",1,1\n");
    }
    b.append("extra,1,1,0.5,1,1\n");
    Path pa = dir.resolve("a.csv");
    Path pb = dir.resolve("b.csv");
    Files.writeString(pa, a);
    Files.writeString(pb, b);
    PairedSignificance.Result r = PairedSignificance.compare(pa, pb, "ndcg@10");
    assertEquals(12, r.users());
    assertEquals(1, r.onlyInB());
    assertEquals(0.04682598997519258, r.tPValue(), 1e-9);
    RecjpqException e =
        assertThrows(RecjpqException.class, () -> PairedSignificance.compare(pa, pb, "ndcg@5"));
    assertTrue(e.getMessage().contains("no column 'ndcg@5'"), e.getMessage());
  }
}
