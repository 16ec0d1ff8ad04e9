package org.recjpq.model;

import java.util.Arrays;
import org.recjpq.codes.ItemCodes;

/**
 * A trained dense model and the RecJPQ codes quantised from its item table (docs/method.md §3): the
 * starting point of its RecJPQ twin. {@link #warmStart} gives the RecJPQ model every weight the two
 * share (the backbone) and, for each split, codebooks that are the means of the dense sub-vectors
 * of the items holding each sub-id: the least-squares codebooks for those codes. The RecJPQ model
 * starts where the dense model's quantisation puts it instead of from random weights.
 *
 * @param codes codes of the dense item table, split {@code k} over dimensions {@code [k·s, k·s+s)}
 *     (as {@code CodeAssigners.fromItemTable} makes them)
 * @param layout the dense model's parameter layout
 * @param params the dense model's parameters
 */
public record DenseTwin(ItemCodes codes, ParameterLayout layout, float[] params) {
  /** Checks that the parameters fill the layout and the codes cover the item table. */
  public DenseTwin {
    if (params.length != layout.size()) {
      throw new IllegalArgumentException(
          params.length + " parameters for a layout of " + layout.size());
    }
    ParameterLayout.Entry t = layout.entry("item.table");
    if (t.shape()[0] != codes.numItems()) {
      throw new IllegalArgumentException(
          "codes of " + codes.numItems() + " items for a table of " + t.shape()[0]);
    }
  }

  /**
   * Parameters for the RecJPQ model of {@code layout} (its freshly initialised parameters {@code
   * fresh}, not changed): the twin's value of every tensor both have with the same shape, and the
   * codebooks ({@code item.codebooks}, {@code output.codebooks}) as sub-vector means. A sub-id that
   * no item holds keeps its fresh value; so does every tensor the twin lacks (e.g. item biases).
   */
  public float[] warmStart(ParameterLayout layout, float[] fresh) {
    float[] p = fresh.clone();
    ParameterLayout.Entry table = this.layout.entry("item.table");
    int n = table.shape()[0];
    int d = table.shape()[1];
    for (ParameterLayout.Entry e : layout.entries()) {
      if (e.name().endsWith(".codebooks")) {
        int m = e.shape()[0];
        int sub = e.shape()[2];
        if (m != codes.splits() || (long) m * sub != d) {
          throw new IllegalArgumentException(
              e + " does not match codes of " + codes.splits() + " splits over " + d + " dims");
        }
        codebookMeans(n, d, m, sub, (int) table.offset(), p, (int) e.offset());
        continue;
      }
      if (e.name().equals("item.table") || e.name().equals("output.table")) {
        continue;
      }
      ParameterLayout.Entry twin = this.layout.find(e.name());
      if (twin != null && Arrays.equals(twin.shape(), e.shape())) {
        System.arraycopy(params, (int) twin.offset(), p, (int) e.offset(), (int) e.size());
      }
    }
    return p;
  }

  private void codebookMeans(int n, int d, int m, int sub, int tableAt, float[] p, int bookAt) {
    int b = ItemCodes.SUB_IDS;
    double[] sum = new double[m * b * sub];
    int[] count = new int[m * b];
    byte[] raw = codes.raw();
    for (int i = 0; i < n; i++) {
      for (int k = 0; k < m; k++) {
        int c = k * b + (raw[i * m + k] & 0xff);
        count[c]++;
        for (int t = 0; t < sub; t++) {
          sum[c * sub + t] += params[tableAt + i * d + k * sub + t];
        }
      }
    }
    for (int c = 0; c < m * b; c++) {
      if (count[c] > 0) {
        for (int t = 0; t < sub; t++) {
          p[bookAt + c * sub + t] = (float) (sum[c * sub + t] / count[c]);
        }
      }
    }
  }
}
