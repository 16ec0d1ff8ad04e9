package org.recjpq.backend.cpu;

import java.util.Arrays;
import org.recjpq.util.Parallel;

/**
 * Scoring heads and losses of the CPU engine (the specification of the "scoring heads and losses"
 * methods of {@link org.recjpq.backend.Ops}). The full-catalogue cross-entropy, the one op here
 * with real engineering in it, lives in {@link CpuFullCrossEntropy}.
 *
 * <p>Shapes: R = rows, C = cols = 1 + n (column 0 the positive, 1..n the negatives), D = dim, M =
 * splits, S = subDim (D = M·S), N = items. h (R, D); items, scores, dScores, logQ (R, C).
 *
 * <ul>
 *   <li>Ignored rows ({@code targets[r] < 0}) score 0, lose 0 and get exactly 0 gradient; the
 *       losses average over the other rows, and return 0 (with all-zero gradients) when there are
 *       none.
 *   <li>An item id below 0 in {@code items} is PAD: it scores 0 and gets no gradient.
 *   <li>Dot products, softplus, sigmoid and log-sum-exp are computed in double and rounded once;
 *       each output element is written by one thread in a fixed order, and every scatter-add into a
 *       table runs in row order (parallel over columns of the table, or over splits), so the bits
 *       do not depend on the thread count.
 * </ul>
 */
final class CpuLosses {
  private CpuLosses() {}

  /** The item embeddings a head scores against: a dense table or RecJPQ codes + codebooks. */
  record ItemTable(
      CpuBuf table, CpuByteBuf codes, CpuBuf codebooks, int splits, int subDim, int dim) {
    static ItemTable dense(CpuBuf table, int dim) {
      return new ItemTable(table, null, null, 0, 0, dim);
    }

    static ItemTable jpq(CpuByteBuf codes, CpuBuf codebooks, int splits, int subDim) {
      return new ItemTable(null, codes, codebooks, splits, subDim, splits * subDim);
    }

    boolean isJpq() {
      return codes != null;
    }

    /** How many items the table holds: its rows (dense) or its codes' rows (RecJPQ). */
    int capacity() {
      return isJpq() ? codes.data.length / splits : table.size / dim;
    }

    /**
     * Item {@code item}'s embedding (dim floats) into {@code out}: a bulk copy of the table row, or
     * of the M sub-embeddings from {@code codebooks}, a heap copy of the codebooks (RecJPQ).
     */
    void embed(int item, float[] codebooks, float[] out) {
      if (isJpq()) {
        for (int k = 0; k < splits; k++) {
          System.arraycopy(
              codebooks,
              (k * 256 + (codes.data[item * splits + k] & 0xff)) * subDim,
              out,
              k * subDim,
              subDim);
        }
      } else {
        table.data.get(table.offset + item * dim, out, 0, dim);
      }
    }

    /** A heap copy of the codebooks (256·dim floats), or null for a dense table. */
    float[] codebooksCopy() {
      return isJpq() ? codebooks.slice(0, 256L * dim).toArray() : null;
    }

    /**
     * Checks the sizes of the table (and of its gradient, when not null) for {@code items} items.
     */
    void check(CpuBuf grad, long items) {
      if (dim <= 0) {
        throw new IllegalArgumentException("the embedding size must be positive, got " + dim + ".");
      }
      if (isJpq()) {
        if (splits <= 0 || subDim <= 0) {
          throw new IllegalArgumentException(
              "RecJPQ needs at least one split and sub-embedding size, got "
                  + splits
                  + " and "
                  + subDim
                  + ".");
        }
        if (codes.data.length < items * splits) {
          throw new IllegalArgumentException(
              "codes hold "
                  + codes.data.length
                  + " bytes, expected at least "
                  + items
                  + " items × "
                  + splits
                  + " splits = "
                  + items * splits
                  + ".");
        }
        need("codebooks", codebooks, 256L * dim);
        if (grad != null) {
          need("dCodebooks", grad, 256L * dim);
        }
      } else {
        need("the item table", table, items * dim);
        if (grad != null) {
          need("dTable", grad, items * dim);
        }
      }
    }
  }

  // ---- sampled scores ----------------------------------------------------------------------

  static void sampledScores(
      CpuOps ops,
      CpuBuf scores,
      CpuBuf h,
      CpuIntBuf items,
      CpuIntBuf targets,
      ItemTable t,
      int rows,
      int cols) {
    int d = t.dim();
    checkSampled(scores, h, items, targets, t, null, rows, cols);
    float[] cb = t.codebooksCopy();
    Parallel.forRange(
        rows,
        ops.threads,
        (from, to) -> {
          float[] hr = new float[d];
          float[] e = new float[d];
          float[] out = new float[cols];
          for (int r = from; r < to; r++) {
            boolean ignored = targets.get(r) < 0;
            h.data.get(h.offset + r * d, hr, 0, d);
            for (int c = 0; c < cols; c++) {
              int item = items.get(r * cols + c);
              double s = 0;
              if (!ignored && item >= 0) {
                t.embed(item, cb, e);
                for (int j = 0; j < d; j++) {
                  s += (double) hr[j] * e[j];
                }
              }
              out[c] = (float) s;
            }
            scores.data.put(scores.offset + r * cols, out, 0, cols);
          }
        });
  }

  static void sampledScoresBackward(
      CpuOps ops,
      CpuBuf dH,
      CpuBuf dTable,
      CpuBuf dScores,
      CpuBuf h,
      CpuIntBuf items,
      CpuIntBuf targets,
      ItemTable t,
      int rows,
      int cols) {
    int d = t.dim();
    checkSampled(dScores, h, items, targets, t, dTable, rows, cols);
    need("dH", dH, (long) rows * d);
    float[] cb = t.codebooksCopy();
    // dH_r = Σ_c dScores[r][c] e(item): one row per task (overwrite; 0 on ignored rows).
    Parallel.forRange(
        rows,
        ops.threads,
        (from, to) -> {
          float[] e = new float[d];
          double[] acc = new double[d];
          float[] out = new float[d];
          for (int r = from; r < to; r++) {
            Arrays.fill(acc, 0);
            for (int c = 0; c < cols && targets.get(r) >= 0; c++) {
              int item = items.get(r * cols + c);
              if (item >= 0) {
                double g = dScores.get(r * cols + c);
                t.embed(item, cb, e);
                for (int j = 0; j < d; j++) {
                  acc[j] += g * e[j];
                }
              }
            }
            for (int j = 0; j < d; j++) {
              out[j] = (float) acc[j];
            }
            dH.data.put(dH.offset + r * d, out, 0, d);
          }
        });
    if (t.isJpq()) {
      jpqTableBackward(ops, dTable, dScores, h, items, targets, t, rows, cols);
    } else {
      denseTableBackward(ops, dTable, dScores, h, items, targets, d, rows, cols);
    }
  }

  /**
   * {@code dCodebooks[k][codes[item][k]] += dScores[r][c] h_r[k-block]} in (r, c) order, on a heap
   * copy of dCodebooks written back at the end; each thread owns whole splits, so nothing races.
   */
  private static void jpqTableBackward(
      CpuOps ops,
      CpuBuf dCodebooks,
      CpuBuf dScores,
      CpuBuf h,
      CpuIntBuf items,
      CpuIntBuf targets,
      ItemTable t,
      int rows,
      int cols) {
    int d = t.dim();
    int m = t.splits();
    int s = t.subDim();
    byte[] code = t.codes().data;
    float[] dc = dCodebooks.slice(0, 256L * d).toArray();
    Parallel.forRange(
        m,
        ops.threads,
        1,
        (from, to) -> {
          float[] hs = new float[s];
          for (int k = from; k < to; k++) {
            for (int r = 0; r < rows; r++) {
              if (targets.get(r) < 0) {
                continue;
              }
              h.data.get(h.offset + r * d + k * s, hs, 0, s);
              for (int c = 0; c < cols; c++) {
                int item = items.get(r * cols + c);
                if (item < 0) {
                  continue;
                }
                float g = dScores.get(r * cols + c);
                int base = (k * 256 + (code[item * m + k] & 0xff)) * s;
                for (int j = 0; j < s; j++) {
                  dc[base + j] += g * hs[j];
                }
              }
            }
          }
        });
    dCodebooks.slice(0, 256L * d).put(dc);
  }

  /**
   * {@code dTable[item] += dScores[r][c] h_r} in (r, c) order for every element; threads own column
   * ranges of the table (it may be too big to copy), each row segment moved in bulk.
   */
  private static void denseTableBackward(
      CpuOps ops,
      CpuBuf dTable,
      CpuBuf dScores,
      CpuBuf h,
      CpuIntBuf items,
      CpuIntBuf targets,
      int d,
      int rows,
      int cols) {
    int grain = Math.max(8, (d + 2 * ops.threads - 1) / (2 * ops.threads));
    Parallel.forRange(
        d,
        ops.threads,
        grain,
        (from, to) -> {
          int w = to - from;
          float[] hs = new float[w];
          float[] row = new float[w];
          for (int r = 0; r < rows; r++) {
            if (targets.get(r) < 0) {
              continue;
            }
            h.data.get(h.offset + r * d + from, hs, 0, w);
            for (int c = 0; c < cols; c++) {
              int item = items.get(r * cols + c);
              if (item < 0) {
                continue;
              }
              float g = dScores.get(r * cols + c);
              int base = dTable.offset + item * d + from;
              dTable.data.get(base, row, 0, w);
              for (int j = 0; j < w; j++) {
                row[j] += g * hs[j];
              }
              dTable.data.put(base, row, 0, w);
            }
          }
        });
  }

  private static void checkSampled(
      CpuBuf scores,
      CpuBuf h,
      CpuIntBuf items,
      CpuIntBuf targets,
      ItemTable t,
      CpuBuf grad,
      int rows,
      int cols) {
    if (rows < 0 || cols < 0) {
      throw new IllegalArgumentException(
          "rows and cols must not be negative, got " + rows + " and " + cols + ".");
    }
    int capacity = t.capacity();
    t.check(grad, capacity);
    need("scores", scores, (long) rows * cols);
    need("h", h, (long) rows * t.dim());
    needInts("items", items, (long) rows * cols);
    needInts("targets", targets, rows);
    for (int r = 0; r < rows; r++) {
      if (targets.get(r) < 0) {
        continue;
      }
      for (int c = 0; c < cols; c++) {
        int item = items.get(r * cols + c);
        if (item >= capacity) {
          throw new IllegalArgumentException(
              "item "
                  + item
                  + " at row "
                  + r
                  + ", column "
                  + c
                  + " is outside the item table of "
                  + capacity
                  + " items.");
        }
      }
    }
  }

  // ---- sampled losses ----------------------------------------------------------------------

  static double bce(
      CpuOps ops,
      CpuBuf dScores,
      CpuBuf scores,
      CpuIntBuf targets,
      int rows,
      int negatives,
      float beta) {
    int cols = checkLoss(dScores, scores, targets, rows, negatives);
    int valid = countValid(targets, rows);
    // d row_loss / d s, with the 1/(n+1) of the row and the 1/valid of the mean folded in.
    double norm = valid == 0 ? 0 : 1.0 / ((double) valid * cols);
    double[] rowLoss = new double[rows];
    Parallel.forRange(
        rows,
        ops.threads,
        (from, to) -> {
          for (int r = from; r < to; r++) {
            int base = r * cols;
            if (targets.get(r) < 0) {
              for (int c = 0; c < cols; c++) {
                dScores.set(base + c, 0f);
              }
              continue;
            }
            double pos = scores.get(base);
            double loss = beta * CpuMath.softplus(-pos);
            dScores.set(base, (float) (-beta * CpuMath.sigmoid(-pos) * norm));
            for (int c = 1; c < cols; c++) {
              double neg = scores.get(base + c);
              loss += CpuMath.softplus(neg);
              dScores.set(base + c, (float) (CpuMath.sigmoid(neg) * norm));
            }
            rowLoss[r] = loss / cols;
          }
        });
    return mean(rowLoss, valid);
  }

  static double sampledSoftmax(
      CpuOps ops,
      CpuBuf dScores,
      CpuBuf scores,
      CpuBuf logQ,
      CpuIntBuf targets,
      int rows,
      int negatives) {
    int cols = checkLoss(dScores, scores, targets, rows, negatives);
    need("logQ", logQ, (long) rows * cols);
    int valid = countValid(targets, rows);
    double inv = valid == 0 ? 0 : 1.0 / valid;
    double[] rowLoss = new double[rows];
    Parallel.forRange(
        rows,
        ops.threads,
        (from, to) -> {
          double[] logit = new double[cols];
          for (int r = from; r < to; r++) {
            int base = r * cols;
            if (targets.get(r) < 0) {
              for (int c = 0; c < cols; c++) {
                dScores.set(base + c, 0f);
              }
              continue;
            }
            double max = Double.NEGATIVE_INFINITY;
            for (int c = 0; c < cols; c++) {
              logit[c] = (double) scores.get(base + c) - logQ.get(base + c);
              max = Math.max(max, logit[c]);
            }
            double sum = 0;
            for (int c = 0; c < cols; c++) {
              sum += Math.exp(logit[c] - max);
            }
            double lse = max + Math.log(sum);
            rowLoss[r] = lse - logit[0];
            for (int c = 0; c < cols; c++) {
              double p = Math.exp(logit[c] - lse);
              dScores.set(base + c, (float) ((c == 0 ? p - 1 : p) * inv));
            }
          }
        });
    return mean(rowLoss, valid);
  }

  // ---- full cross-entropy ------------------------------------------------------------------

  static double fullCrossEntropy(
      CpuOps ops,
      CpuBuf dH,
      CpuBuf dTable,
      CpuBuf dBias,
      CpuBuf h,
      CpuIntBuf targets,
      ItemTable t,
      CpuBuf bias,
      int rows,
      int numItems) {
    return CpuFullCrossEntropy.run(
            ops, dH, dTable, dBias, h, targets, t, bias, rows, numItems, null, 0, 0)
        .loss();
  }

  // ---- helpers -----------------------------------------------------------------------------

  private static int checkLoss(
      CpuBuf dScores, CpuBuf scores, CpuIntBuf targets, int rows, int negatives) {
    if (rows < 0 || negatives < 0) {
      throw new IllegalArgumentException(
          "rows and negatives must not be negative, got " + rows + " and " + negatives + ".");
    }
    int cols = negatives + 1;
    need("scores", scores, (long) rows * cols);
    need("dScores", dScores, (long) rows * cols);
    needInts("targets", targets, rows);
    return cols;
  }

  static int countValid(CpuIntBuf targets, int rows) {
    int valid = 0;
    for (int r = 0; r < rows; r++) {
      if (targets.get(r) >= 0) {
        valid++;
      }
    }
    return valid;
  }

  /** Σ rowLoss in row order (independent of the thread count) / valid, or 0 without valid rows. */
  private static double mean(double[] rowLoss, int valid) {
    if (valid == 0) {
      return 0;
    }
    double sum = 0;
    for (double l : rowLoss) {
      sum += l;
    }
    return sum / valid;
  }

  static void need(String what, CpuBuf x, long n) {
    if (x == null) {
      throw new IllegalArgumentException(what + " is null.");
    }
    if (x.size < n) {
      throw new IllegalArgumentException(
          what + " holds " + x.size + " floats, expected at least " + n + ".");
    }
  }

  static void needInts(String what, CpuIntBuf x, long n) {
    if (x == null) {
      throw new IllegalArgumentException(what + " is null.");
    }
    if (x.size < n) {
      throw new IllegalArgumentException(
          what + " holds " + x.size + " ints, expected at least " + n + ".");
    }
  }
}
