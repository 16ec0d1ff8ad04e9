package org.recjpq.model;

import org.recjpq.model.ModelConfig.BlockStyle;

/**
 * A plain double-precision forward of SASRec plus its loss, written independently of the engine
 * from the definitions in {@link SasRec} (no dropout), over the same flat parameter layout. The
 * whole-model gradient check differentiates it by central finite differences.
 */
final class SasRecReference {
  private final ModelConfig c;
  private final ParameterLayout layout;
  private final byte[] codes; // (N, m) or null

  SasRecReference(ModelConfig c, ParameterLayout layout, byte[] codes) {
    this.c = c;
    this.layout = layout;
    this.codes = codes;
  }

  private int off(String name) {
    return (int) layout.entry(name).offset();
  }

  /** Item i's embedding (d) from the flat parameters. */
  double[] item(double[] p, int i, boolean output) {
    int d = c.dim();
    double[] e = new double[d];
    if (c.isJpq()) {
      int s = c.subDim();
      int cb = off(output && !c.tiedOutput() ? "output.codebooks" : "item.codebooks");
      for (int k = 0; k < c.splits(); k++) {
        int sub = codes[i * c.splits() + k] & 0xff;
        for (int j = 0; j < s; j++) {
          e[k * s + j] = p[cb + (k * 256 + sub) * s + j];
        }
      }
    } else {
      int t = off(output && !c.tiedOutput() ? "output.table" : "item.table");
      System.arraycopy(p, t + i * d, e, 0, d);
    }
    return e;
  }

  /**
   * The score of item i for a representation: {@code h · e_i}, plus b_i when the model has item
   * biases.
   */
  double score(double[] p, double[] h, int i) {
    double s = dot(h, item(p, i, true));
    return c.itemBias() ? s + p[off("item.bias") + i] : s;
  }

  /** h (batch·len, d) for the given parameters. */
  double[][] forward(double[] p, int[] ids, int batch, int len) {
    int d = c.dim();
    int rows = batch * len;
    double[][] x = new double[rows][];
    int pos = off("positions");
    for (int r = 0; r < rows; r++) {
      x[r] = new double[d];
      if (ids[r] >= 0) {
        double[] e = item(p, ids[r], false);
        for (int j = 0; j < d; j++) {
          x[r][j] = Math.sqrt(d) * e[j] + p[pos + (r % len) * d + j];
        }
      }
    }
    for (int l = 0; l < c.blocks(); l++) {
      String b = "block" + l + ".";
      double[][] a = layerNorm(x, p, b + "ln1.gamma", b + "ln1.beta");
      double[][] src = c.blockStyle() == BlockStyle.PRE_LN ? a : x;
      double[][] q = linear(a, p, b + "attn.wq", b + "attn.bq", d, d);
      double[][] k = linear(src, p, b + "attn.wk", b + "attn.bk", d, d);
      double[][] v = linear(src, p, b + "attn.wv", b + "attn.bv", d, d);
      double[][] ctx = attention(q, k, v, ids, batch, len);
      double[][] att = linear(ctx, p, b + "attn.wo", b + "attn.bo", d, d);
      double[][] base = c.blockStyle() == BlockStyle.PRE_LN ? x : a;
      double[][] xm = add(base, att);
      double[][] f = layerNorm(xm, p, b + "ln2.gamma", b + "ln2.beta");
      double[][] pre = linear(f, p, b + "ffn.w1", b + "ffn.b1", d, c.ffnDim());
      for (double[] row : pre) {
        for (int j = 0; j < row.length; j++) {
          row[j] = Math.max(row[j], 0);
        }
      }
      double[][] ff = linear(pre, p, b + "ffn.w2", b + "ffn.b2", c.ffnDim(), d);
      double[][] out = add(c.blockStyle() == BlockStyle.PRE_LN ? xm : f, ff);
      for (int r = 0; r < rows; r++) {
        if (ids[r] < 0) {
          out[r] = new double[d];
        }
      }
      x = out;
    }
    return layerNorm(x, p, "final.gamma", "final.beta");
  }

  /** Mean full softmax cross-entropy over rows with targets ≥ 0. */
  double fullCrossEntropy(double[] p, double[][] h, int[] targets) {
    int n = c.numItems();
    double[][] e = new double[n][];
    for (int i = 0; i < n; i++) {
      e[i] = item(p, i, true);
    }
    double sum = 0;
    int valid = 0;
    for (int r = 0; r < h.length; r++) {
      if (targets[r] < 0) {
        continue;
      }
      double max = Double.NEGATIVE_INFINITY;
      double[] s = new double[n];
      for (int i = 0; i < n; i++) {
        s[i] = dot(h[r], e[i]) + (c.itemBias() ? p[off("item.bias") + i] : 0);
        max = Math.max(max, s[i]);
      }
      double z = 0;
      for (int i = 0; i < n; i++) {
        z += Math.exp(s[i] - max);
      }
      sum += max + Math.log(z) - s[targets[r]];
      valid++;
    }
    return sum / valid;
  }

  /** Mean (g)BCE over (positive, negatives) columns of {@code items} (rows × (1 + n)). */
  double bce(double[] p, double[][] h, int[] targets, int[] items, int negatives, double beta) {
    double sum = 0;
    int valid = 0;
    int cols = 1 + negatives;
    for (int r = 0; r < h.length; r++) {
      if (targets[r] < 0) {
        continue;
      }
      double row = beta * softplus(-score(p, h[r], items[r * cols]));
      for (int j = 1; j < cols; j++) {
        row += softplus(score(p, h[r], items[r * cols + j]));
      }
      sum += row / cols;
      valid++;
    }
    return sum / valid;
  }

  private static double softplus(double x) {
    return x > 0 ? x + Math.log1p(Math.exp(-x)) : Math.log1p(Math.exp(x));
  }

  /**
   * BERT4Rec's h (batch·len, d) from the definitions in {@link Bert4Rec}: id N is MASK (its own
   * vector), post-LN blocks, bidirectional attention, the configured activation.
   */
  double[][] forwardBert(double[] p, int[] ids, int batch, int len, int firstPosition) {
    int d = c.dim();
    int rows = batch * len;
    int n = c.numItems();
    double[][] x = new double[rows][];
    int pos = off("positions");
    int mask = off("mask");
    for (int r = 0; r < rows; r++) {
      x[r] = new double[d];
      if (ids[r] >= 0) {
        double[] e =
            ids[r] == n ? java.util.Arrays.copyOfRange(p, mask, mask + d) : item(p, ids[r], false);
        for (int j = 0; j < d; j++) {
          x[r][j] = Math.sqrt(d) * e[j] + p[pos + (firstPosition + r % len) * d + j];
        }
      }
    }
    x = maskRows(layerNorm(x, p, "emb.gamma", "emb.beta"), ids);
    for (int l = 0; l < c.blocks(); l++) {
      String b = "block" + l + ".";
      double[][] q = linear(x, p, b + "attn.wq", b + "attn.bq", d, d);
      double[][] k = linear(x, p, b + "attn.wk", b + "attn.bk", d, d);
      double[][] v = linear(x, p, b + "attn.wv", b + "attn.bv", d, d);
      double[][] att =
          linear(attention(q, k, v, ids, batch, len, false), p, b + "attn.wo", b + "attn.bo", d, d);
      double[][] m = layerNorm(add(x, att), p, b + "ln1.gamma", b + "ln1.beta");
      double[][] pre = activate(linear(m, p, b + "ffn.w1", b + "ffn.b1", d, c.ffnDim()));
      double[][] ff = linear(pre, p, b + "ffn.w2", b + "ffn.b2", c.ffnDim(), d);
      x = maskRows(layerNorm(add(m, ff), p, b + "ln2.gamma", b + "ln2.beta"), ids);
    }
    if (c.headTransform()) {
      x =
          maskRows(
              layerNorm(
                  activate(linear(x, p, "transform.w", "transform.b", d, d)),
                  p,
                  "transform.gamma",
                  "transform.beta"),
              ids);
    }
    return x;
  }

  private double[][] activate(double[][] x) {
    for (double[] row : x) {
      for (int j = 0; j < row.length; j++) {
        row[j] =
            c.activation() == org.recjpq.backend.Activation.GELU
                ? 0.5
                    * row[j]
                    * (1 + org.recjpq.backend.cpu.CpuTestAccess.erf(row[j] / Math.sqrt(2)))
                : Math.max(row[j], 0);
      }
    }
    return x;
  }

  private static double[][] maskRows(double[][] x, int[] ids) {
    for (int r = 0; r < x.length; r++) {
      if (ids[r] < 0) {
        x[r] = new double[x[r].length];
      }
    }
    return x;
  }

  private double[][] attention(
      double[][] q, double[][] k, double[][] v, int[] ids, int batch, int len) {
    return attention(q, k, v, ids, batch, len, true);
  }

  private double[][] attention(
      double[][] q, double[][] k, double[][] v, int[] ids, int batch, int len, boolean causal) {
    int d = c.dim();
    int dh = d / c.heads();
    double[][] out = new double[batch * len][d];
    for (int b = 0; b < batch; b++) {
      for (int hd = 0; hd < c.heads(); hd++) {
        for (int i = 0; i < len; i++) {
          int qi = b * len + i;
          if (ids[qi] < 0) {
            continue;
          }
          double[] w = new double[len];
          double max = Double.NEGATIVE_INFINITY;
          int last = causal ? i : len - 1;
          for (int j = 0; j <= last; j++) {
            if (ids[b * len + j] < 0) {
              w[j] = Double.NEGATIVE_INFINITY;
              continue;
            }
            double s = 0;
            for (int t = 0; t < dh; t++) {
              s += q[qi][hd * dh + t] * k[b * len + j][hd * dh + t];
            }
            w[j] = s / Math.sqrt(dh);
            max = Math.max(max, w[j]);
          }
          double z = 0;
          for (int j = 0; j <= last; j++) {
            w[j] = w[j] == Double.NEGATIVE_INFINITY ? 0 : Math.exp(w[j] - max);
            z += w[j];
          }
          for (int j = 0; j <= last; j++) {
            for (int t = 0; t < dh; t++) {
              out[qi][hd * dh + t] += w[j] / z * v[b * len + j][hd * dh + t];
            }
          }
        }
      }
    }
    return out;
  }

  private double[][] layerNorm(double[][] x, double[] p, String gamma, String beta) {
    int d = c.dim();
    int g = off(gamma);
    int bb = off(beta);
    double[][] y = new double[x.length][d];
    for (int r = 0; r < x.length; r++) {
      double mu = 0;
      for (double v : x[r]) {
        mu += v / d;
      }
      double var = 0;
      for (double v : x[r]) {
        var += (v - mu) * (v - mu) / d;
      }
      double rs = 1 / Math.sqrt(var + c.layerNormEps());
      for (int j = 0; j < d; j++) {
        y[r][j] = (x[r][j] - mu) * rs * p[g + j] + p[bb + j];
      }
    }
    return y;
  }

  private double[][] linear(double[][] x, double[] p, String weight, String bias, int in, int out) {
    int w = off(weight);
    int b = off(bias);
    double[][] y = new double[x.length][out];
    for (int r = 0; r < x.length; r++) {
      for (int j = 0; j < out; j++) {
        double s = p[b + j];
        for (int t = 0; t < in; t++) {
          s += x[r][t] * p[w + t * out + j];
        }
        y[r][j] = s;
      }
    }
    return y;
  }

  private static double[][] add(double[][] a, double[][] b) {
    double[][] y = new double[a.length][];
    for (int r = 0; r < a.length; r++) {
      y[r] = new double[a[r].length];
      for (int j = 0; j < a[r].length; j++) {
        y[r][j] = a[r][j] + b[r][j];
      }
    }
    return y;
  }

  private static double dot(double[] a, double[] b) {
    double s = 0;
    for (int i = 0; i < a.length; i++) {
      s += a[i] * b[i];
    }
    return s;
  }
}
