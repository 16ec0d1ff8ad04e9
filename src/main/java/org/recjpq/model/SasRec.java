package org.recjpq.model;

import org.recjpq.backend.Buf;
import org.recjpq.backend.IntBuf;
import org.recjpq.backend.Ops;
import org.recjpq.codes.ItemCodes;
import org.recjpq.model.ModelConfig.BlockStyle;
import org.recjpq.model.ParameterLayout.Entry;

/**
 * SASRec (Kang & McAuley 2018) with a dense or RecJPQ item embedding, as two straight-line scripts
 * over {@link Ops}: {@link #forward} and {@link #backward}.
 *
 * <p>Shapes: B batch, T length, R = B·T rows, d dim, F ffn dim, H heads, N items. Input ids (R) are
 * left-padded with -1. The output h (R, d) is the sequence representation at every position; {@link
 * ItemHead} scores items against it. Forward:
 *
 * <pre>
 * x = dropout(sqrt(d)·embed(ids) + pos)            PAD rows 0
 * per block (PRE_LN):  a = LN1(x); x = x + dropout(Attn(a Wq, a Wk, a Wv) Wo)
 *                      f = LN2(x); x = x + dropout(dropout(act(f W1)) W2); x *= notPad
 *   (SASREC style: keys and values from x, residuals add a and f instead of x)
 * h = LNf(x)
 * </pre>
 *
 * Parameters live in one flat buffer ({@link #layout()}), gradients in another of the same layout;
 * {@link #backward} accumulates into the gradients. Activations of the last forward are kept in an
 * {@link Arena} sized for the largest (batch, length) seen. A RecJPQ model never allocates an N × d
 * table: its item parameters are the (m, 256, d/m) codebooks, whatever N is.
 */
public final class SasRec extends SequenceModel {
  private static final int SITE_EMBEDDING = 0;

  private final Tensors t;

  private Saved saved;

  /** SASRec's own tensors (the item side is {@link SequenceModel}'s), each declared once. */
  private final class Tensors {
    final Entry positions = layout.add("positions", cfg.maxLen(), cfg.dim());
    final Block[] blocks = layout.repeated(cfg.blocks(), "block", Block::new, Block[]::new);
    final Entry finalGamma = layout.add("final.gamma", cfg.dim());
    final Entry finalBeta = layout.add("final.beta", cfg.dim());
  }

  /** One block's tensors, in layout order. */
  private final class Block {
    final Entry ln1g = layout.add("ln1.gamma", cfg.dim());
    final Entry ln1b = layout.add("ln1.beta", cfg.dim());
    final Entry wq = layout.add("attn.wq", cfg.dim(), cfg.dim());
    final Entry bq = layout.add("attn.bq", cfg.dim());
    final Entry wk = layout.add("attn.wk", cfg.dim(), cfg.dim());
    final Entry bk = layout.add("attn.bk", cfg.dim());
    final Entry wv = layout.add("attn.wv", cfg.dim(), cfg.dim());
    final Entry bv = layout.add("attn.bv", cfg.dim());
    final Entry wo = layout.add("attn.wo", cfg.dim(), cfg.dim());
    final Entry bo = layout.add("attn.bo", cfg.dim());
    final Entry ln2g = layout.add("ln2.gamma", cfg.dim());
    final Entry ln2b = layout.add("ln2.beta", cfg.dim());
    final Entry w1 = layout.add("ffn.w1", cfg.dim(), cfg.ffnDim());
    final Entry b1 = layout.add("ffn.b1", cfg.ffnDim());
    final Entry w2 = layout.add("ffn.w2", cfg.ffnDim(), cfg.dim());
    final Entry b2 = layout.add("ffn.b2", cfg.dim());
  }

  /** Activations of one forward, each declared once: views of the arena, taken in this order. */
  private final class Saved extends Pass {
    final long rd = rows * cfg.dim();
    final long rf = rows * cfg.ffnDim();
    final int blocks = cfg.blocks();
    final Buf emb = take(rd); // (R, d) raw item embeddings
    final Buf[] xIn = take(blocks + 1, rd); // per block (R, d); xIn[L] is the last block's output
    final Buf[] aIn = take(blocks, rd);
    final Buf[] mean1 = take(blocks, rows);
    final Buf[] rstd1 = take(blocks, rows);
    final Buf[] q = take(blocks, rd);
    final Buf[] k = take(blocks, rd);
    final Buf[] v = take(blocks, rd);
    final Buf[] probs = take(blocks, (long) batch * cfg.heads() * len * len); // (B, H, T, T)
    final Buf[] ctx = take(blocks, rd);
    final Buf[] xMid = take(blocks, rd);
    final Buf[] fIn = take(blocks, rd);
    final Buf[] mean2 = take(blocks, rows);
    final Buf[] rstd2 = take(blocks, rows);
    final Buf[] pre = take(blocks, rf); // (R, F)
    final Buf[] hdn = take(blocks, rf); // (R, F), after activation and dropout: the input of W2
    final Buf meanF = take(rows);
    final Buf rstdF = take(rows);
    final Buf h = take(rd); // (R, d)
    // backward scratch
    final Buf dx = take(rd);
    final Buf t1 = take(rd);
    final Buf t2 = take(rd);
    final Buf dq = take(rd);
    final Buf dk = take(rd);
    final Buf dv = take(rd);
    final Buf dHdn = take(rf); // (R, F)

    Saved(int batch, int len) {
      super(batch, len);
    }
  }

  /**
   * A model on {@code ops}; {@code codes} is required for RecJPQ (N × m, matching the config) and
   * ignored for dense. Parameters start at zero: call {@link #initialize}.
   */
  public SasRec(ModelConfig cfg, Ops ops, ItemCodes codes) {
    super(cfg, ops, codes);
    this.t = new Tensors();
    allocate();
  }

  private SasRec(SasRec shared, Ops ops) {
    super(shared, ops);
    this.t = shared.t;
  }

  @Override
  public SasRec inferenceView(Ops engine) {
    return new SasRec(this, engine);
  }

  // ---- forward -------------------------------------------------------------------------------

  @Override
  public Buf forward(
      IntBuf ids, int batch, int len, int firstPosition, boolean train, long seed, long step) {
    Saved s = (Saved) carveActivations(batch, len);
    saved = s;
    begin(s, ids, batch, len, firstPosition, train, seed, step);
    int rows = batch * len;
    int d = cfg.dim();
    embedItems(s.emb, ids, rows);
    Buf positions = w(t.positions).slice((long) firstPosition * d, (long) len * d);
    ops.positionsForward(s.xIn[0], s.emb, ids, positions, (float) Math.sqrt(d), batch, len, d);
    dropout(s.xIn[0], SITE_EMBEDDING, s);
    for (int l = 0; l < cfg.blocks(); l++) {
      blockForward(l, s);
    }
    ops.layerNormForward(
        s.h,
        s.meanF,
        s.rstdF,
        s.xIn[cfg.blocks()],
        w(t.finalGamma),
        w(t.finalBeta),
        rows,
        d,
        cfg.layerNormEps());
    return s.h;
  }

  private void blockForward(int l, Saved s) {
    Block p = t.blocks[l];
    int rows = s.batch * s.len;
    int d = cfg.dim();
    int f = cfg.ffnDim();
    boolean preLn = cfg.blockStyle() == BlockStyle.PRE_LN;
    Buf x = s.xIn[l];
    ops.layerNormForward(
        s.aIn[l], s.mean1[l], s.rstd1[l], x, w(p.ln1g), w(p.ln1b), rows, d, cfg.layerNormEps());
    Buf kvSource = preLn ? s.aIn[l] : x;
    ops.linearForward(s.q[l], s.aIn[l], w(p.wq), w(p.bq), rows, d, d);
    ops.linearForward(s.k[l], kvSource, w(p.wk), w(p.bk), rows, d, d);
    ops.linearForward(s.v[l], kvSource, w(p.wv), w(p.bv), rows, d, d);
    ops.attentionForward(
        s.ctx[l], s.probs[l], s.q[l], s.k[l], s.v[l], s.ids, s.batch, s.len, d, cfg.heads(), true);
    Buf att = s.t1; // (R, d) scratch
    ops.linearForward(att, s.ctx[l], w(p.wo), w(p.bo), rows, d, d);
    dropout(att, site(l, 0), s);
    ops.add(s.xMid[l], preLn ? x : s.aIn[l], att);
    ops.layerNormForward(
        s.fIn[l],
        s.mean2[l],
        s.rstd2[l],
        s.xMid[l],
        w(p.ln2g),
        w(p.ln2b),
        rows,
        d,
        cfg.layerNormEps());
    ops.linearForward(s.pre[l], s.fIn[l], w(p.w1), w(p.b1), rows, d, f);
    ops.activationForward(s.hdn[l], s.pre[l], cfg.activation());
    dropout(s.hdn[l], site(l, 1), s);
    Buf ffn = s.t1;
    ops.linearForward(ffn, s.hdn[l], w(p.w2), w(p.b2), rows, f, d);
    dropout(ffn, site(l, 2), s);
    Buf out = s.xIn[l + 1];
    ops.add(out, preLn ? s.xMid[l] : s.fIn[l], ffn);
    ops.maskPadRows(out, s.ids, rows, d);
  }

  private static int site(int block, int which) {
    return 1 + 3 * block + which;
  }

  // ---- backward ------------------------------------------------------------------------------

  /**
   * Backpropagates {@code dH} (rows, d), the gradient of the loss with respect to the last
   * forward's output, accumulating every parameter gradient. {@code dH} is not modified.
   */
  @Override
  public void backward(Buf dH) {
    Saved s = saved;
    if (s == null) {
      throw new IllegalStateException("backward before forward");
    }
    int rows = s.batch * s.len;
    int d = cfg.dim();
    ops.fill(s.dx, 0f);
    ops.layerNormBackward(
        s.dx,
        g(t.finalGamma),
        g(t.finalBeta),
        dH,
        s.xIn[cfg.blocks()],
        s.meanF,
        s.rstdF,
        w(t.finalGamma),
        rows,
        d);
    for (int l = cfg.blocks() - 1; l >= 0; l--) {
      blockBackward(l, s);
    }
    dropoutBack(s.dx, SITE_EMBEDDING, s);
    Buf dEmb = s.t1;
    Buf dPositions = g(t.positions).slice((long) s.firstPosition * d, (long) s.len * d);
    ops.positionsBackward(dEmb, dPositions, s.dx, s.ids, (float) Math.sqrt(d), s.batch, s.len, d);
    embedItemsBackward(dEmb, s.ids, rows);
  }

  /** Turns s.dx from the gradient of block l's output into that of its input. */
  private void blockBackward(int l, Saved s) {
    Block p = t.blocks[l];
    int rows = s.batch * s.len;
    int d = cfg.dim();
    int f = cfg.ffnDim();
    boolean preLn = cfg.blockStyle() == BlockStyle.PRE_LN;
    Buf dx = s.dx;
    ops.maskPadRows(dx, s.ids, rows, d);
    // out = base2 + dropout(W2 · hdn): the FFN branch
    Buf dF = s.t1;
    ops.copy(dF, dx);
    dropoutBack(dF, site(l, 2), s);
    ops.linearBackward(s.dHdn, g(p.w2), g(p.b2), dF, s.hdn[l], w(p.w2), rows, f, d);
    dropoutBack(s.dHdn, site(l, 1), s);
    ops.activationBackward(s.dHdn, s.dHdn, s.pre[l], cfg.activation());
    Buf dFin = s.t2;
    ops.linearBackward(dFin, g(p.w1), g(p.b1), s.dHdn, s.fIn[l], w(p.w1), rows, d, f);
    if (preLn) {
      // xMid receives the skip gradient (dx) plus LN2's backward: dx becomes d xMid.
      ops.layerNormBackward(
          dx, g(p.ln2g), g(p.ln2b), dFin, s.xMid[l], s.mean2[l], s.rstd2[l], w(p.ln2g), rows, d);
    } else {
      ops.addInPlace(dFin, dx); // out = fIn + FFN(fIn)
      ops.fill(dx, 0f);
      ops.layerNormBackward(
          dx, g(p.ln2g), g(p.ln2b), dFin, s.xMid[l], s.mean2[l], s.rstd2[l], w(p.ln2g), rows, d);
    }
    // xMid = base + dropout(Wo · ctx): the attention branch
    Buf dAtt = s.t1;
    ops.copy(dAtt, dx);
    dropoutBack(dAtt, site(l, 0), s);
    Buf dCtx = s.t2;
    ops.linearBackward(dCtx, g(p.wo), g(p.bo), dAtt, s.ctx[l], w(p.wo), rows, d, d);
    ops.attentionBackward(
        s.dq,
        s.dk,
        s.dv,
        dCtx,
        s.probs[l],
        s.q[l],
        s.k[l],
        s.v[l],
        s.ids,
        s.batch,
        s.len,
        d,
        cfg.heads(),
        true);
    Buf dAin = s.t1;
    Buf tmp = s.t2;
    ops.linearBackward(dAin, g(p.wq), g(p.bq), s.dq, s.aIn[l], w(p.wq), rows, d, d);
    if (preLn) {
      // the key bias gets no gradient: b_k adds q·b_k to every score of a query's row, which the
      // softmax
      // ignores, so its gradient is exactly 0 (computed, it is rounding noise that Adam turns into
      // ±lr steps)
      ops.linearBackward(tmp, g(p.wk), null, s.dk, s.aIn[l], w(p.wk), rows, d, d);
      ops.addInPlace(dAin, tmp);
      ops.linearBackward(tmp, g(p.wv), g(p.bv), s.dv, s.aIn[l], w(p.wv), rows, d, d);
      ops.addInPlace(dAin, tmp);
      // x receives the skip gradient (dx = d xMid) plus LN1's backward.
      ops.layerNormBackward(
          dx, g(p.ln1g), g(p.ln1b), dAin, s.xIn[l], s.mean1[l], s.rstd1[l], w(p.ln1g), rows, d);
    } else {
      ops.addInPlace(dAin, dx); // xMid = aIn + attention
      Buf x = s.xIn[l];
      ops.linearBackward(
          dx, g(p.wk), null, s.dk, x, w(p.wk), rows, d, d); // no key-bias gradient (above)
      ops.linearBackward(tmp, g(p.wv), g(p.bv), s.dv, x, w(p.wv), rows, d, d);
      ops.addInPlace(dx, tmp);
      ops.layerNormBackward(
          dx, g(p.ln1g), g(p.ln1b), dAin, x, s.mean1[l], s.rstd1[l], w(p.ln1g), rows, d);
    }
  }

  // ---- activation memory ---------------------------------------------------------------------

  @Override
  protected Saved carve(int batch, int len) {
    return new Saved(batch, len);
  }
}
