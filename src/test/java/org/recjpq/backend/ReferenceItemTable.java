package org.recjpq.backend;

import static org.recjpq.backend.ReferenceBufs.read;
import static org.recjpq.backend.ReferenceBufs.write;

import org.recjpq.backend.ReferenceBufs.Bytes;

/**
 * The item tables of {@link ReferenceOps}, dense or RecJPQ, written around two primitives: {@link
 * #embed} (item i's embedding from the parameters) and {@link #scatter} (adding a multiple of a
 * d-vector into item i's parameters' gradient). Everything else follows the {@link ItemTable}
 * javadoc literally, in double; the full cross-entropy computes all N logits of a row at once.
 */
final class ReferenceItemTable implements ItemTable {
  private final int numItems;
  private final int dim;
  private final Bytes codes; // null for a dense table
  private final int splits;
  private final int subDim;

  private ReferenceItemTable(int numItems, int dim, Bytes codes, int splits, int subDim) {
    this.numItems = numItems;
    this.dim = dim;
    this.codes = codes;
    this.splits = splits;
    this.subDim = subDim;
  }

  static ReferenceItemTable dense(int numItems, int dim) {
    return new ReferenceItemTable(numItems, dim, null, 0, 0);
  }

  static ReferenceItemTable jpq(Bytes codes, int numItems, int splits, int subDim) {
    if (codes.data.length < (long) numItems * splits) {
      throw new IllegalArgumentException(
          "codes hold " + codes.data.length + " bytes, need " + numItems + " × " + splits);
    }
    return new ReferenceItemTable(numItems, splits * subDim, codes, splits, subDim);
  }

  @Override
  public int numItems() {
    return numItems;
  }

  @Override
  public int dim() {
    return dim;
  }

  /** The number of parameter floats: N·d (dense) or splits·256·subDim = 256·d (RecJPQ). */
  private long paramSize() {
    return codes == null ? (long) numItems * dim : 256L * dim;
  }

  /**
   * Item {@code item}'s embedding: its row (dense), or the concatenation over k of {@code
   * codebooks[k][codes[item][k]]} (RecJPQ).
   */
  private double[] embed(double[] params, int item) {
    double[] e = new double[dim];
    for (int j = 0; j < dim; j++) {
      e[j] = params[index(item, j)];
    }
    return e;
  }

  /** {@code grad[item's parameters] += coef · vec}. */
  private void scatter(double[] grad, int item, double coef, double[] vec, int vecOffset) {
    for (int j = 0; j < dim; j++) {
      grad[index(item, j)] += coef * vec[vecOffset + j];
    }
  }

  /** Where dimension j of item i's embedding lives in the parameters. */
  private int index(int item, int j) {
    if (item < 0 || item >= numItems) {
      throw new IllegalArgumentException(
          "item " + item + " is outside the table of " + numItems + " items");
    }
    if (codes == null) {
      return item * dim + j;
    }
    int k = j / subDim;
    int code = codes.unsigned((long) item * splits + k);
    return (k * 256 + code) * subDim + j % subDim;
  }

  @Override
  public void lookup(Buf out, IntBuf ids, Buf params, int rows) {
    double[] p = read(params, paramSize());
    int[] id = ReferenceBufs.read(ids, rows);
    double[] o = new double[rows * dim];
    for (int r = 0; r < rows; r++) {
      if (id[r] >= 0) { // PAD rows stay 0
        System.arraycopy(embed(p, id[r]), 0, o, r * dim, dim);
      }
    }
    write(out, o);
  }

  @Override
  public void lookupBackward(Buf dParams, Buf dOut, IntBuf ids, int rows) {
    double[] g = read(dParams, paramSize());
    double[] d = read(dOut, (long) rows * dim);
    int[] id = ReferenceBufs.read(ids, rows);
    for (int r = 0; r < rows; r++) {
      if (id[r] >= 0) {
        scatter(g, id[r], 1, d, r * dim);
      }
    }
    write(dParams, g);
  }

  @Override
  public void sampledScores(
      Buf scores, Buf h, IntBuf items, IntBuf targets, Buf params, int rows, int cols) {
    double[] p = read(params, paramSize());
    double[] hs = read(h, (long) rows * dim);
    int[] it = ReferenceBufs.read(items, (long) rows * cols);
    int[] tg = ReferenceBufs.read(targets, rows);
    double[] s = new double[rows * cols];
    for (int r = 0; r < rows; r++) {
      for (int c = 0; c < cols; c++) {
        int item = it[r * cols + c];
        if (tg[r] >= 0 && item >= 0) { // ignored rows and PAD items score 0
          s[r * cols + c] = dot(hs, r * dim, embed(p, item));
        }
      }
    }
    write(scores, s);
  }

  @Override
  public void sampledScoresBackward(
      Buf dH,
      Buf dParams,
      Buf dScores,
      Buf h,
      IntBuf items,
      IntBuf targets,
      Buf params,
      int rows,
      int cols) {
    double[] p = read(params, paramSize());
    double[] g = read(dParams, paramSize());
    double[] hs = read(h, (long) rows * dim);
    double[] ds = read(dScores, (long) rows * cols);
    int[] it = ReferenceBufs.read(items, (long) rows * cols);
    int[] tg = ReferenceBufs.read(targets, rows);
    double[] dh = new double[rows * dim];
    for (int r = 0; r < rows; r++) {
      for (int c = 0; c < cols; c++) {
        int item = it[r * cols + c];
        if (tg[r] < 0 || item < 0) {
          continue;
        }
        double gs = ds[r * cols + c];
        double[] e = embed(p, item);
        for (int j = 0; j < dim; j++) {
          dh[r * dim + j] += gs * e[j];
        }
        scatter(g, item, gs, hs, r * dim);
      }
    }
    write(dH, dh);
    write(dParams, g);
  }

  /**
   * For each row with a target: {@code s_i = h · e_i (+ bias_i)} for all N items, {@code lse = log
   * Σ_i exp s_i}, loss {@code lse - s_target}; with {@code g_i = (softmax_i - [i = target]) / V}:
   * {@code dH = Σ_i g_i e_i}, {@code dE_i += g_i h}, {@code dBias_i += g_i}.
   */
  @Override
  public double fullCrossEntropy(
      Buf dH, Buf dParams, Buf dBias, Buf h, IntBuf targets, Buf params, Buf bias, int rows) {
    if ((bias == null) != (dBias == null)) {
      throw new IllegalArgumentException("bias and dBias are both given or both null");
    }
    double[] p = read(params, paramSize());
    double[] g = read(dParams, paramSize());
    double[] b = bias == null ? new double[numItems] : read(bias, numItems);
    double[] gb = dBias == null ? new double[numItems] : read(dBias, numItems);
    double[] hs = read(h, (long) rows * dim);
    int[] tg = ReferenceBufs.read(targets, rows);
    int valid = ReferenceLosses.validRows(tg);
    double[][] e = new double[numItems][];
    for (int i = 0; i < numItems; i++) {
      e[i] = embed(p, i);
    }
    double[] dh = new double[rows * dim];
    double total = 0;
    double[] s = new double[numItems];
    for (int r = 0; r < rows; r++) {
      if (tg[r] < 0) {
        continue; // dH stays 0
      }
      if (tg[r] >= numItems) {
        throw new IllegalArgumentException("target " + tg[r] + " is not an item");
      }
      double max = Double.NEGATIVE_INFINITY;
      for (int i = 0; i < numItems; i++) {
        s[i] = dot(hs, r * dim, e[i]) + b[i];
        max = Math.max(max, s[i]);
      }
      double sum = 0;
      for (int i = 0; i < numItems; i++) {
        sum += Math.exp(s[i] - max);
      }
      double lse = max + Math.log(sum);
      total += lse - s[tg[r]];
      for (int i = 0; i < numItems; i++) {
        double gi = (Math.exp(s[i] - lse) - (i == tg[r] ? 1 : 0)) / valid;
        for (int j = 0; j < dim; j++) {
          dh[r * dim + j] += gi * e[i][j];
        }
        scatter(g, i, gi, hs, r * dim);
        gb[i] += gi;
      }
    }
    write(dH, dh);
    write(dParams, g);
    if (dBias != null) {
      write(dBias, gb);
    }
    return valid == 0 ? 0 : total / valid;
  }

  private double dot(double[] h, int offset, double[] e) {
    double s = 0;
    for (int j = 0; j < dim; j++) {
      s += h[offset + j] * e[j];
    }
    return s;
  }
}
