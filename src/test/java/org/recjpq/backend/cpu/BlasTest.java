package org.recjpq.backend.cpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.util.Random;
import org.junit.jupiter.api.Test;
import org.recjpq.backend.Availability;

/** Checks {@link Blas#sgemm} against a naive triple loop in double precision. */
class BlasTest {

  private static void requireBlas() {
    Availability status = Blas.status();
    assumeTrue(status.available(), status.description());
  }

  @Test
  void sgemvOnAStridedTileMatchesADoubleLoop() {
    assumeTrue(Blas.isAvailable(), "OpenBLAS is not available here");
    Random rnd = new Random(4);
    int m = 37;
    int n = 9;
    int lda = 12;
    float[] a = new float[m * lda];
    float[] x = new float[n];
    for (int i = 0; i < a.length; i++) {
      a[i] = (float) rnd.nextGaussian();
    }
    for (int j = 0; j < n; j++) {
      x[j] = (float) rnd.nextGaussian();
    }
    CpuBuf ab = CpuBuf.allocate(a.length + 5);
    CpuBuf av = ab.slice(5, a.length);
    av.put(a);
    CpuBuf xb = CpuBuf.allocate(n);
    xb.put(x);
    CpuBuf y = CpuBuf.allocate(m);
    Blas.sgemv(m, n, av, lda, xb, y);
    for (int r = 0; r < m; r++) {
      double want = 0;
      for (int j = 0; j < n; j++) {
        want += (double) a[r * lda + j] * x[j];
      }
      assertEquals(want, y.get(r), 1e-5 * (1 + Math.abs(want)));
    }
    assertThrows(
        IllegalArgumentException.class,
        () -> Blas.sgemv(m, n, av, lda, xb, CpuBuf.allocate(m - 1)));
  }

  @Test
  void statusNeverThrowsAndDescribesItself() {
    Availability status = Blas.status();
    assertFalse(status.description().isBlank());
    System.out.println("Blas.status(): " + status);
  }

  @Test
  void randomShapesAllTransposesOffsetsAndPaddedLeadingDimensions() {
    requireBlas();
    Random random = new Random(20240611L);
    for (int trial = 0; trial < 40; trial++) {
      int m = 1 + random.nextInt(70);
      int n = 1 + random.nextInt(70);
      int k = 1 + random.nextInt(90);
      boolean transA = random.nextBoolean();
      boolean transB = random.nextBoolean();
      int padding = trial % 2 == 0 ? 0 : random.nextInt(5);
      int offset = trial % 3 == 0 ? 0 : random.nextInt(17);
      float alpha = trial % 4 == 0 ? 1f : (float) random.nextGaussian();
      float beta = trial % 5 == 0 ? 0f : (float) random.nextGaussian();
      checkOne(random, transA, transB, m, n, k, alpha, beta, padding, offset);
    }
  }

  @Test
  void everyTransposeCombinationOnOddSizes() {
    requireBlas();
    Random random = new Random(7L);
    for (boolean transA : new boolean[] {false, true}) {
      for (boolean transB : new boolean[] {false, true}) {
        checkOne(random, transA, transB, 257, 129, 65, 1f, 0f, 0, 0);
        checkOne(random, transA, transB, 33, 17, 300, 0.5f, 2f, 3, 11);
      }
    }
  }

  @Test
  void betaZeroDoesNotReadC() {
    requireBlas();
    float[] a = {1, 2, 3, 4};
    float[] b = {5, 6, 7, 8};
    float[] c = {Float.NaN, Float.NaN, Float.NaN, Float.NaN};
    Blas.sgemm(2, 2, 2, a, b, c);
    assertArrayEquals(new float[] {19, 22, 43, 50}, c);
  }

  @Test
  void elementsOutsideTheOutputAreUntouched() {
    requireBlas();
    float[] a = {1, 2, 3, 4, 5, 6};
    float[] b = {1, 0, 0, 1, 1, 1};
    // C is 2 x 2 at offset 3 with leading dimension 4: indices 3,4 and 7,8 are written.
    float[] c = new float[12];
    java.util.Arrays.fill(c, -1f);
    Blas.sgemm(false, false, 2, 2, 3, 1f, a, 0, 3, b, 0, 2, 0f, c, 3, 4);
    assertArrayEquals(new float[] {-1, -1, -1, 4, 5, -1, -1, 10, 11, -1, -1, -1}, c);
  }

  @Test
  void rejectsShapesThatDoNotFitTheArrays() {
    float[] small = new float[5];
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class,
            () -> Blas.sgemm(false, false, 2, 2, 3, 1f, small, 0, 3, small, 0, 2, 0f, small, 0, 2));
    assertTrue(e.getMessage().contains("needs 6 elements"), e.getMessage());
    assertThrows(
        IllegalArgumentException.class,
        () -> Blas.sgemm(false, false, 1, 1, 2, 1f, small, 0, 1, small, 0, 1, 0f, small, 0, 1));
    assertThrows(
        IllegalArgumentException.class,
        () -> Blas.sgemm(false, false, -1, 1, 1, 1f, small, 0, 1, small, 0, 1, 0f, small, 0, 1));
  }

  @Test
  void describeJoinsCauses() {
    String text = Blas.describe(new RuntimeException("outer", new IllegalStateException("inner")));
    assertEquals("RuntimeException: outer Caused by: IllegalStateException: inner.", text);
  }

  private static void checkOne(
      Random random,
      boolean transA,
      boolean transB,
      int m,
      int n,
      int k,
      float alpha,
      float beta,
      int padding,
      int offset) {
    int aRows = transA ? k : m;
    int aCols = transA ? m : k;
    int bRows = transB ? n : k;
    int bCols = transB ? k : n;
    int lda = aCols + padding;
    int ldb = bCols + padding;
    int ldc = n + padding;
    float[] a = randomArray(random, offset + aRows * lda + 3);
    float[] b = randomArray(random, offset + bRows * ldb + 3);
    float[] c = randomArray(random, offset + m * ldc + 3);
    float[] before = c.clone();
    Blas.sgemm(
        transA, transB, m, n, k, alpha, a, offset, lda, b, offset, ldb, beta, c, offset, ldc);
    for (int i = 0; i < m; i++) {
      for (int j = 0; j < n; j++) {
        double sum = 0;
        double magnitude = 0;
        for (int p = 0; p < k; p++) {
          double av = transA ? a[offset + p * lda + i] : a[offset + i * lda + p];
          double bv = transB ? b[offset + j * ldb + p] : b[offset + p * ldb + j];
          sum += av * bv;
          magnitude += Math.abs(av * bv);
        }
        double old = before[offset + i * ldc + j];
        double expected = alpha * sum + (beta == 0f ? 0 : beta * old);
        // Float32 dot product of length k: |error| <= k * 2^-24 * sum|a*b| (+ the scaling steps).
        double bound =
            (k + 2) * 0x1p-24 * (Math.abs(alpha) * magnitude + Math.abs(beta * old)) + 1e-30;
        double actual = c[offset + i * ldc + j];
        if (Math.abs(actual - expected) > bound) {
          throw new AssertionError(
              String.format(
                  "sgemm(transA=%s, transB=%s, m=%d, n=%d, k=%d, offset=%d, padding=%d) differs at "
                      + "(%d, %d): got %s, expected %s, bound %s.",
                  transA, transB, m, n, k, offset, padding, i, j, actual, expected, bound));
        }
      }
      for (int j = n; j < ldc && i < m; j++) {
        assertEquals(
            before[offset + i * ldc + j],
            c[offset + i * ldc + j],
            "padding of C must be untouched");
      }
    }
    for (int idx = 0; idx < offset; idx++) {
      assertEquals(before[idx], c[idx], "elements before C's offset must be untouched");
    }
  }

  private static float[] randomArray(Random random, int length) {
    float[] values = new float[length];
    for (int i = 0; i < length; i++) {
      values[i] = random.nextFloat() * 2f - 1f;
    }
    return values;
  }
}
