package org.recjpq.model;

import org.recjpq.backend.Buf;
import org.recjpq.backend.IntBuf;
import org.recjpq.backend.Ops;
import org.recjpq.codes.ItemCodes;

/**
 * BERT4Rec (Sun et al. 2019) with a dense or RecJPQ item embedding (docs/method.md §6): a
 * bidirectional Transformer of post-LN BERT blocks, trained to recover masked items; at inference
 * the history gets a MASK appended and the last position is read.
 *
 * <pre>
 * e = embed(ids) (MASK rows: the learned "mask" vector, never a code; PAD rows 0)
 * x = dropout(LN_e(sqrt(d)·e + pos))                          PAD rows 0
 * per block:  s1 = x + dropout(Attn(x Wq, x Wk, x Wv) Wo)       bidirectional, PAD keys masked
 *             m = LN1(s1)
 *             s2 = m + dropout(dropout(act(m W1)) W2)           act: GELU in the presets
 *             x = LN2(s2) · notPad
 * h = x, or with the output transform: h = LN_o(act(x Wo' + bo')) · notPad
 * </pre>
 *
 * The MASK token is id N (one past the items): attention sees it as a real position, the item
 * embedding as PAD, and {@link #maskToken} tells trainers and scorers to use it.
 */
public final class Bert4Rec extends SequenceModel {
  private static final int SITE_EMBEDDING = 0;
  private final Weights w;
  private final Weights g;
  private Saved saved;
  private IntBuf embIds; // ids with MASK mapped to PAD, for the item embedding
  private long embIdsSize;

  private record Block(
      Buf wq,
      Buf bq,
      Buf wk,
      Buf bk,
      Buf wv,
      Buf bv,
      Buf wo,
      Buf bo,
      Buf ln1g,
      Buf ln1b,
      Buf w1,
      Buf b1,
      Buf w2,
      Buf b2,
      Buf ln2g,
      Buf ln2b) {}

  /** BERT's prediction-head transform; null when the configuration has none. */
  private record Transform(Buf w, Buf b, Buf gamma, Buf beta) {}

  private record Weights(
      Buf positions, Buf mask, Buf embGamma, Buf embBeta, Block[] blocks, Transform transform) {}

  private static final class Saved extends Pass {
    IntBuf embIds;
    Buf emb;
    Buf xRaw;
    Buf meanE;
    Buf rstdE;
    Buf[] xIn;
    Buf[] q;
    Buf[] k;
    Buf[] v;
    Buf[] probs;
    Buf[] ctx;
    Buf[] s1;
    Buf[] xMid;
    Buf[] mean1;
    Buf[] rstd1;
    Buf[] pre;
    Buf[] hdn;
    Buf[] s2;
    Buf[] mean2;
    Buf[] rstd2;
    Buf oPre; // output transform: pre-activation, activation, result and its LN statistics
    Buf oAct;
    Buf oOut;
    Buf meanO;
    Buf rstdO;
    Buf t1;
    Buf t2;
    Buf dx;
    Buf dq;
    Buf dk;
    Buf dv;
    Buf dHdn;
  }

  /**
   * A model on {@code ops}; {@code codes} is required for RecJPQ. Parameters start at zero: call
   * {@link #initialize}.
   */
  public Bert4Rec(ModelConfig cfg, Ops ops, ItemCodes codes) {
    super(cfg, ops, codes);
    int d = cfg.dim();
    layout.add("positions", cfg.maxLen(), d);
    layout.add("mask", d);
    layout.add("emb.gamma", d);
    layout.add("emb.beta", d);
    for (int l = 0; l < cfg.blocks(); l++) {
      String p = "block" + l + ".";
      for (String proj : new String[] {"q", "k", "v", "o"}) {
        layout.add(p + "attn.w" + proj, d, d);
        layout.add(p + "attn.b" + proj, d);
      }
      layout.add(p + "ln1.gamma", d);
      layout.add(p + "ln1.beta", d);
      layout.add(p + "ffn.w1", d, cfg.ffnDim());
      layout.add(p + "ffn.b1", cfg.ffnDim());
      layout.add(p + "ffn.w2", cfg.ffnDim(), d);
      layout.add(p + "ffn.b2", d);
      layout.add(p + "ln2.gamma", d);
      layout.add(p + "ln2.beta", d);
    }
    if (cfg.headTransform()) {
      layout.add("transform.w", d, d);
      layout.add("transform.b", d);
      layout.add("transform.gamma", d);
      layout.add("transform.beta", d);
    }
    allocate();
    w = views(params);
    g = views(grads);
  }

  private Bert4Rec(Bert4Rec shared, Ops engine) {
    super(shared, engine);
    w = shared.w;
    g = null;
  }

  @Override
  public Bert4Rec inferenceView(Ops engine) {
    return new Bert4Rec(this, engine);
  }

  @Override
  public int maskToken() {
    return cfg.numItems();
  }

  private Weights views(Buf flat) {
    Block[] blocks = new Block[cfg.blocks()];
    for (int l = 0; l < blocks.length; l++) {
      String p = "block" + l + ".";
      blocks[l] =
          new Block(
              v(flat, p + "attn.wq"),
              v(flat, p + "attn.bq"),
              v(flat, p + "attn.wk"),
              v(flat, p + "attn.bk"),
              v(flat, p + "attn.wv"),
              v(flat, p + "attn.bv"),
              v(flat, p + "attn.wo"),
              v(flat, p + "attn.bo"),
              v(flat, p + "ln1.gamma"),
              v(flat, p + "ln1.beta"),
              v(flat, p + "ffn.w1"),
              v(flat, p + "ffn.b1"),
              v(flat, p + "ffn.w2"),
              v(flat, p + "ffn.b2"),
              v(flat, p + "ln2.gamma"),
              v(flat, p + "ln2.beta"));
    }
    Transform t =
        cfg.headTransform()
            ? new Transform(
                v(flat, "transform.w"),
                v(flat, "transform.b"),
                v(flat, "transform.gamma"),
                v(flat, "transform.beta"))
            : null;
    return new Weights(
        v(flat, "positions"),
        v(flat, "mask"),
        v(flat, "emb.gamma"),
        v(flat, "emb.beta"),
        blocks,
        t);
  }

  private Buf v(Buf flat, String name) {
    return layout.view(flat, name);
  }

  @Override
  public long activationFloats(int batch, int len) {
    long r = (long) batch * len;
    long d = cfg.dim();
    long f = cfg.ffnDim();
    long perBlock = 8 * r * d + 4 * r + 2 * r * f + (long) batch * cfg.heads() * len * len;
    long transform = cfg.headTransform() ? 3 * r * d + 2 * r : 0;
    return 2 * r * d
        + 2 * r
        + (cfg.blocks() + 1) * r * d
        + cfg.blocks() * perBlock
        + transform
        + 6 * r * d
        + r * f;
  }

  private Saved activations(int batch, int len) {
    if (resetArena(batch, len)) {
      saved = new Saved();
    }
    long rows = (long) batch * len;
    if (embIds == null || embIdsSize < rows) {
      embIds = ops.allocInts(rows);
      embIdsSize = rows;
    }
    Saved s = saved;
    int blocks = cfg.blocks();
    long rd = rows * cfg.dim();
    long rf = rows * cfg.ffnDim();
    s.embIds = embIds.slice(0, rows);
    s.emb = take(rd);
    s.xRaw = take(rd);
    s.meanE = take(rows);
    s.rstdE = take(rows);
    s.xIn = new Buf[blocks + 1];
    for (int l = 0; l <= blocks; l++) {
      s.xIn[l] = take(rd);
    }
    s.q = new Buf[blocks];
    s.k = new Buf[blocks];
    s.v = new Buf[blocks];
    s.probs = new Buf[blocks];
    s.ctx = new Buf[blocks];
    s.s1 = new Buf[blocks];
    s.xMid = new Buf[blocks];
    s.mean1 = new Buf[blocks];
    s.rstd1 = new Buf[blocks];
    s.pre = new Buf[blocks];
    s.hdn = new Buf[blocks];
    s.s2 = new Buf[blocks];
    s.mean2 = new Buf[blocks];
    s.rstd2 = new Buf[blocks];
    for (int l = 0; l < blocks; l++) {
      s.q[l] = take(rd);
      s.k[l] = take(rd);
      s.v[l] = take(rd);
      s.probs[l] = take((long) batch * cfg.heads() * len * len);
      s.ctx[l] = take(rd);
      s.s1[l] = take(rd);
      s.xMid[l] = take(rd);
      s.mean1[l] = take(rows);
      s.rstd1[l] = take(rows);
      s.pre[l] = take(rf);
      s.hdn[l] = take(rf);
      s.s2[l] = take(rd);
      s.mean2[l] = take(rows);
      s.rstd2[l] = take(rows);
    }
    if (cfg.headTransform()) {
      s.oPre = take(rd);
      s.oAct = take(rd);
      s.oOut = take(rd);
      s.meanO = take(rows);
      s.rstdO = take(rows);
    }
    s.t1 = take(rd);
    s.t2 = take(rd);
    s.dx = take(rd);
    s.dq = take(rd);
    s.dk = take(rd);
    s.dv = take(rd);
    s.dHdn = take(rf);
    return s;
  }

  private static int site(int block, int which) {
    return 1 + 3 * block + which;
  }

  @Override
  public Buf forward(
      IntBuf ids, int batch, int len, int firstPosition, boolean train, long seed, long step) {
    Saved s = activations(batch, len);
    begin(s, ids, batch, len, firstPosition, train, seed, step);
    int rows = batch * len;
    int d = cfg.dim();
    float eps = cfg.layerNormEps();
    ops.mapIds(s.embIds, ids, rows, maskToken(), -1);
    embedItems(s.emb, s.embIds, rows);
    ops.addTokenVector(s.emb, ids, maskToken(), w.mask(), rows, d);
    ops.positionsForward(
        s.xRaw,
        s.emb,
        ids,
        w.positions().slice((long) firstPosition * d, (long) len * d),
        (float) Math.sqrt(d),
        batch,
        len,
        d);
    ops.layerNormForward(
        s.xIn[0], s.meanE, s.rstdE, s.xRaw, w.embGamma(), w.embBeta(), rows, d, eps);
    ops.maskPadRows(s.xIn[0], ids, rows, d);
    dropout(s.xIn[0], SITE_EMBEDDING, s);
    for (int l = 0; l < cfg.blocks(); l++) {
      Block p = w.blocks()[l];
      Buf x = s.xIn[l];
      ops.linearForward(s.q[l], x, p.wq(), p.bq(), rows, d, d);
      ops.linearForward(s.k[l], x, p.wk(), p.bk(), rows, d, d);
      ops.linearForward(s.v[l], x, p.wv(), p.bv(), rows, d, d);
      ops.attentionForward(
          s.ctx[l], s.probs[l], s.q[l], s.k[l], s.v[l], ids, batch, len, d, cfg.heads(), false);
      ops.linearForward(s.t1, s.ctx[l], p.wo(), p.bo(), rows, d, d);
      dropout(s.t1, site(l, 0), s);
      ops.add(s.s1[l], x, s.t1);
      ops.layerNormForward(
          s.xMid[l], s.mean1[l], s.rstd1[l], s.s1[l], p.ln1g(), p.ln1b(), rows, d, eps);
      ops.linearForward(s.pre[l], s.xMid[l], p.w1(), p.b1(), rows, d, cfg.ffnDim());
      ops.activationForward(s.hdn[l], s.pre[l], cfg.activation());
      dropout(s.hdn[l], site(l, 1), s);
      ops.linearForward(s.t1, s.hdn[l], p.w2(), p.b2(), rows, cfg.ffnDim(), d);
      dropout(s.t1, site(l, 2), s);
      ops.add(s.s2[l], s.xMid[l], s.t1);
      ops.layerNormForward(
          s.xIn[l + 1], s.mean2[l], s.rstd2[l], s.s2[l], p.ln2g(), p.ln2b(), rows, d, eps);
      ops.maskPadRows(s.xIn[l + 1], ids, rows, d);
    }
    Transform t = w.transform();
    if (t == null) {
      return s.xIn[cfg.blocks()];
    }
    ops.linearForward(s.oPre, s.xIn[cfg.blocks()], t.w(), t.b(), rows, d, d);
    ops.activationForward(s.oAct, s.oPre, cfg.activation());
    ops.layerNormForward(s.oOut, s.meanO, s.rstdO, s.oAct, t.gamma(), t.beta(), rows, d, eps);
    ops.maskPadRows(s.oOut, ids, rows, d);
    return s.oOut;
  }

  @Override
  public void backward(Buf dH) {
    Saved s = saved;
    if (s == null || s.ids == null) {
      throw new IllegalStateException("backward before forward");
    }
    int rows = s.batch * s.len;
    int d = cfg.dim();
    int f = cfg.ffnDim();
    Transform t = w.transform();
    if (t == null) {
      ops.copy(s.dx, dH);
    } else {
      Transform gt = g.transform();
      ops.copy(s.t1, dH);
      ops.maskPadRows(s.t1, s.ids, rows, d);
      ops.fill(s.t2, 0f); // d oAct
      ops.layerNormBackward(
          s.t2, gt.gamma(), gt.beta(), s.t1, s.oAct, s.meanO, s.rstdO, t.gamma(), rows, d);
      ops.activationBackward(s.t2, s.t2, s.oPre, cfg.activation());
      ops.linearBackward(s.dx, gt.w(), gt.b(), s.t2, s.xIn[cfg.blocks()], t.w(), rows, d, d);
    }
    for (int l = cfg.blocks() - 1; l >= 0; l--) {
      Block p = w.blocks()[l];
      Block gp = g.blocks()[l];
      Buf x = s.xIn[l];
      ops.maskPadRows(s.dx, s.ids, rows, d);
      ops.fill(s.t2, 0f); // d s2
      ops.layerNormBackward(
          s.t2, gp.ln2g(), gp.ln2b(), s.dx, s.s2[l], s.mean2[l], s.rstd2[l], p.ln2g(), rows, d);
      ops.copy(s.t1, s.t2); // the FFN branch of s2 = m + ffn
      dropoutBack(s.t1, site(l, 2), s);
      ops.linearBackward(s.dHdn, gp.w2(), gp.b2(), s.t1, s.hdn[l], p.w2(), rows, f, d);
      dropoutBack(s.dHdn, site(l, 1), s);
      ops.activationBackward(s.dHdn, s.dHdn, s.pre[l], cfg.activation());
      ops.linearBackward(s.t1, gp.w1(), gp.b1(), s.dHdn, s.xMid[l], p.w1(), rows, d, f);
      ops.addInPlace(s.t1, s.t2); // d m: the FFN input plus the skip
      ops.fill(s.dx, 0f); // d s1
      ops.layerNormBackward(
          s.dx, gp.ln1g(), gp.ln1b(), s.t1, s.s1[l], s.mean1[l], s.rstd1[l], p.ln1g(), rows, d);
      ops.copy(s.t1, s.dx); // the attention branch of s1 = x + att; dx keeps the skip
      dropoutBack(s.t1, site(l, 0), s);
      ops.linearBackward(s.t2, gp.wo(), gp.bo(), s.t1, s.ctx[l], p.wo(), rows, d, d);
      ops.attentionBackward(
          s.dq,
          s.dk,
          s.dv,
          s.t2,
          s.probs[l],
          s.q[l],
          s.k[l],
          s.v[l],
          s.ids,
          s.batch,
          s.len,
          d,
          cfg.heads(),
          false);
      ops.linearBackward(s.t1, gp.wq(), gp.bq(), s.dq, x, p.wq(), rows, d, d);
      ops.addInPlace(s.dx, s.t1);
      // the key bias gets no gradient: b_k adds q·b_k to every score of a query's row, which the
      // softmax
      // ignores, so its gradient is exactly 0 (computed, it is rounding noise that Adam turns into
      // ±lr steps)
      ops.linearBackward(s.t1, gp.wk(), null, s.dk, x, p.wk(), rows, d, d);
      ops.addInPlace(s.dx, s.t1);
      ops.linearBackward(s.t1, gp.wv(), gp.bv(), s.dv, x, p.wv(), rows, d, d);
      ops.addInPlace(s.dx, s.t1);
    }
    dropoutBack(s.dx, SITE_EMBEDDING, s);
    ops.maskPadRows(s.dx, s.ids, rows, d);
    ops.fill(s.t1, 0f); // d xRaw
    ops.layerNormBackward(
        s.t1, g.embGamma(), g.embBeta(), s.dx, s.xRaw, s.meanE, s.rstdE, w.embGamma(), rows, d);
    ops.positionsBackward(
        s.t2,
        g.positions().slice((long) s.firstPosition * d, (long) s.len * d),
        s.t1,
        s.ids,
        (float) Math.sqrt(d),
        s.batch,
        s.len,
        d);
    ops.addTokenVectorBackward(g.mask(), s.t2, s.ids, maskToken(), rows, d);
    embedItemsBackward(s.t2, s.embIds, rows);
  }
}
