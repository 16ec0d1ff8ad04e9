package org.recjpq.model;

import org.recjpq.backend.Buf;
import org.recjpq.backend.IntBuf;
import org.recjpq.backend.Ops;
import org.recjpq.codes.ItemCodes;
import org.recjpq.model.ParameterLayout.Entry;

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
  private final Tensors t;
  private Saved saved;
  private IntBuf embIds; // ids with MASK mapped to PAD, for the item embedding
  private long embIdsSize;

  /** BERT4Rec's own tensors (the item side is {@link SequenceModel}'s), each declared once. */
  private final class Tensors {
    final Entry positions = layout.add("positions", cfg.maxLen(), cfg.dim());
    final Entry mask = layout.add("mask", cfg.dim());
    final Entry embGamma = layout.add("emb.gamma", cfg.dim());
    final Entry embBeta = layout.add("emb.beta", cfg.dim());
    final Block[] blocks = layout.repeated(cfg.blocks(), "block", Block::new, Block[]::new);
    final Transform transform = cfg.headTransform() ? new Transform() : null;
  }

  /** One block's tensors, in layout order. */
  private final class Block {
    final Entry wq = layout.add("attn.wq", cfg.dim(), cfg.dim());
    final Entry bq = layout.add("attn.bq", cfg.dim());
    final Entry wk = layout.add("attn.wk", cfg.dim(), cfg.dim());
    final Entry bk = layout.add("attn.bk", cfg.dim());
    final Entry wv = layout.add("attn.wv", cfg.dim(), cfg.dim());
    final Entry bv = layout.add("attn.bv", cfg.dim());
    final Entry wo = layout.add("attn.wo", cfg.dim(), cfg.dim());
    final Entry bo = layout.add("attn.bo", cfg.dim());
    final Entry ln1g = layout.add("ln1.gamma", cfg.dim());
    final Entry ln1b = layout.add("ln1.beta", cfg.dim());
    final Entry w1 = layout.add("ffn.w1", cfg.dim(), cfg.ffnDim());
    final Entry b1 = layout.add("ffn.b1", cfg.ffnDim());
    final Entry w2 = layout.add("ffn.w2", cfg.ffnDim(), cfg.dim());
    final Entry b2 = layout.add("ffn.b2", cfg.dim());
    final Entry ln2g = layout.add("ln2.gamma", cfg.dim());
    final Entry ln2b = layout.add("ln2.beta", cfg.dim());
  }

  /** BERT's prediction-head transform (only with --head-transform). */
  private final class Transform {
    final Entry w = layout.add("transform.w", cfg.dim(), cfg.dim());
    final Entry b = layout.add("transform.b", cfg.dim());
    final Entry gamma = layout.add("transform.gamma", cfg.dim());
    final Entry beta = layout.add("transform.beta", cfg.dim());
  }

  /** Activations of one forward, each declared once: views of the arena, taken in this order. */
  private final class Saved extends Pass {
    IntBuf embIds; // ids with MASK mapped to PAD (not in the arena)
    final long rd = rows * cfg.dim();
    final long rf = rows * cfg.ffnDim();
    final int blocks = cfg.blocks();
    final boolean transform = cfg.headTransform();
    final Buf emb = take(rd);
    final Buf xRaw = take(rd);
    final Buf meanE = take(rows);
    final Buf rstdE = take(rows);
    final Buf[] xIn = take(blocks + 1, rd);
    final Buf[] q = take(blocks, rd);
    final Buf[] k = take(blocks, rd);
    final Buf[] v = take(blocks, rd);
    final Buf[] probs = take(blocks, (long) batch * cfg.heads() * len * len);
    final Buf[] ctx = take(blocks, rd);
    final Buf[] s1 = take(blocks, rd);
    final Buf[] xMid = take(blocks, rd);
    final Buf[] mean1 = take(blocks, rows);
    final Buf[] rstd1 = take(blocks, rows);
    final Buf[] pre = take(blocks, rf);
    final Buf[] hdn = take(blocks, rf);
    final Buf[] s2 = take(blocks, rd);
    final Buf[] mean2 = take(blocks, rows);
    final Buf[] rstd2 = take(blocks, rows);
    // output transform: pre-activation, activation, result and its LN statistics
    final Buf oPre = transform ? take(rd) : null;
    final Buf oAct = transform ? take(rd) : null;
    final Buf oOut = transform ? take(rd) : null;
    final Buf meanO = transform ? take(rows) : null;
    final Buf rstdO = transform ? take(rows) : null;
    final Buf t1 = take(rd);
    final Buf t2 = take(rd);
    final Buf dx = take(rd);
    final Buf dq = take(rd);
    final Buf dk = take(rd);
    final Buf dv = take(rd);
    final Buf dHdn = take(rf);

    Saved(int batch, int len) {
      super(batch, len);
    }
  }

  /**
   * A model on {@code ops}; {@code codes} is required for RecJPQ. Parameters start at zero: call
   * {@link #initialize}.
   */
  public Bert4Rec(ModelConfig cfg, Ops ops, ItemCodes codes) {
    super(cfg, ops, codes);
    t = new Tensors();
    allocate();
  }

  private Bert4Rec(Bert4Rec shared, Ops engine) {
    super(shared, engine);
    t = shared.t;
  }

  @Override
  public Bert4Rec inferenceView(Ops engine) {
    return new Bert4Rec(this, engine);
  }

  @Override
  public int maskToken() {
    return cfg.numItems();
  }

  @Override
  protected Saved carve(int batch, int len) {
    return new Saved(batch, len);
  }

  private Saved activations(int batch, int len) {
    Saved s = (Saved) carveActivations(batch, len);
    if (embIds == null || embIdsSize < s.rows) {
      embIds = ops.allocInts(s.rows);
      embIdsSize = s.rows;
    }
    s.embIds = embIds.slice(0, s.rows);
    saved = s;
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
    ops.addTokenVector(s.emb, ids, maskToken(), w(t.mask), rows, d);
    ops.positionsForward(
        s.xRaw,
        s.emb,
        ids,
        w(t.positions).slice((long) firstPosition * d, (long) len * d),
        (float) Math.sqrt(d),
        batch,
        len,
        d);
    ops.layerNormForward(
        s.xIn[0], s.meanE, s.rstdE, s.xRaw, w(t.embGamma), w(t.embBeta), rows, d, eps);
    ops.maskPadRows(s.xIn[0], ids, rows, d);
    dropout(s.xIn[0], SITE_EMBEDDING, s);
    for (int l = 0; l < cfg.blocks(); l++) {
      Block p = t.blocks[l];
      Buf x = s.xIn[l];
      ops.linearForward(s.q[l], x, w(p.wq), w(p.bq), rows, d, d);
      ops.linearForward(s.k[l], x, w(p.wk), w(p.bk), rows, d, d);
      ops.linearForward(s.v[l], x, w(p.wv), w(p.bv), rows, d, d);
      ops.attentionForward(
          s.ctx[l], s.probs[l], s.q[l], s.k[l], s.v[l], ids, batch, len, d, cfg.heads(), false);
      ops.linearForward(s.t1, s.ctx[l], w(p.wo), w(p.bo), rows, d, d);
      dropout(s.t1, site(l, 0), s);
      ops.add(s.s1[l], x, s.t1);
      ops.layerNormForward(
          s.xMid[l], s.mean1[l], s.rstd1[l], s.s1[l], w(p.ln1g), w(p.ln1b), rows, d, eps);
      ops.linearForward(s.pre[l], s.xMid[l], w(p.w1), w(p.b1), rows, d, cfg.ffnDim());
      ops.activationForward(s.hdn[l], s.pre[l], cfg.activation());
      dropout(s.hdn[l], site(l, 1), s);
      ops.linearForward(s.t1, s.hdn[l], w(p.w2), w(p.b2), rows, cfg.ffnDim(), d);
      dropout(s.t1, site(l, 2), s);
      ops.add(s.s2[l], s.xMid[l], s.t1);
      ops.layerNormForward(
          s.xIn[l + 1], s.mean2[l], s.rstd2[l], s.s2[l], w(p.ln2g), w(p.ln2b), rows, d, eps);
      ops.maskPadRows(s.xIn[l + 1], ids, rows, d);
    }
    Transform tr = t.transform;
    if (tr == null) {
      return s.xIn[cfg.blocks()];
    }
    ops.linearForward(s.oPre, s.xIn[cfg.blocks()], w(tr.w), w(tr.b), rows, d, d);
    ops.activationForward(s.oAct, s.oPre, cfg.activation());
    ops.layerNormForward(s.oOut, s.meanO, s.rstdO, s.oAct, w(tr.gamma), w(tr.beta), rows, d, eps);
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
    Transform tr = t.transform;
    if (tr == null) {
      ops.copy(s.dx, dH);
    } else {
      ops.copy(s.t1, dH);
      ops.maskPadRows(s.t1, s.ids, rows, d);
      ops.fill(s.t2, 0f); // d oAct
      ops.layerNormBackward(
          s.t2, g(tr.gamma), g(tr.beta), s.t1, s.oAct, s.meanO, s.rstdO, w(tr.gamma), rows, d);
      ops.activationBackward(s.t2, s.t2, s.oPre, cfg.activation());
      ops.linearBackward(s.dx, g(tr.w), g(tr.b), s.t2, s.xIn[cfg.blocks()], w(tr.w), rows, d, d);
    }
    for (int l = cfg.blocks() - 1; l >= 0; l--) {
      Block p = t.blocks[l];
      Buf x = s.xIn[l];
      ops.maskPadRows(s.dx, s.ids, rows, d);
      ops.fill(s.t2, 0f); // d s2
      ops.layerNormBackward(
          s.t2, g(p.ln2g), g(p.ln2b), s.dx, s.s2[l], s.mean2[l], s.rstd2[l], w(p.ln2g), rows, d);
      ops.copy(s.t1, s.t2); // the FFN branch of s2 = m + ffn
      dropoutBack(s.t1, site(l, 2), s);
      ops.linearBackward(s.dHdn, g(p.w2), g(p.b2), s.t1, s.hdn[l], w(p.w2), rows, f, d);
      dropoutBack(s.dHdn, site(l, 1), s);
      ops.activationBackward(s.dHdn, s.dHdn, s.pre[l], cfg.activation());
      ops.linearBackward(s.t1, g(p.w1), g(p.b1), s.dHdn, s.xMid[l], w(p.w1), rows, d, f);
      ops.addInPlace(s.t1, s.t2); // d m: the FFN input plus the skip
      ops.fill(s.dx, 0f); // d s1
      ops.layerNormBackward(
          s.dx, g(p.ln1g), g(p.ln1b), s.t1, s.s1[l], s.mean1[l], s.rstd1[l], w(p.ln1g), rows, d);
      ops.copy(s.t1, s.dx); // the attention branch of s1 = x + att; dx keeps the skip
      dropoutBack(s.t1, site(l, 0), s);
      ops.linearBackward(s.t2, g(p.wo), g(p.bo), s.t1, s.ctx[l], w(p.wo), rows, d, d);
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
      ops.linearBackward(s.t1, g(p.wq), g(p.bq), s.dq, x, w(p.wq), rows, d, d);
      ops.addInPlace(s.dx, s.t1);
      // the key bias gets no gradient: b_k adds q·b_k to every score of a query's row, which the
      // softmax
      // ignores, so its gradient is exactly 0 (computed, it is rounding noise that Adam turns into
      // ±lr steps)
      ops.linearBackward(s.t1, g(p.wk), null, s.dk, x, w(p.wk), rows, d, d);
      ops.addInPlace(s.dx, s.t1);
      ops.linearBackward(s.t1, g(p.wv), g(p.bv), s.dv, x, w(p.wv), rows, d, d);
      ops.addInPlace(s.dx, s.t1);
    }
    dropoutBack(s.dx, SITE_EMBEDDING, s);
    ops.maskPadRows(s.dx, s.ids, rows, d);
    ops.fill(s.t1, 0f); // d xRaw
    ops.layerNormBackward(
        s.t1, g(t.embGamma), g(t.embBeta), s.dx, s.xRaw, s.meanE, s.rstdE, w(t.embGamma), rows, d);
    ops.positionsBackward(
        s.t2,
        g(t.positions).slice((long) s.firstPosition * d, (long) s.len * d),
        s.t1,
        s.ids,
        (float) Math.sqrt(d),
        s.batch,
        s.len,
        d);
    ops.addTokenVectorBackward(g(t.mask), s.t2, s.ids, maskToken(), rows, d);
    embedItemsBackward(s.t2, s.embIds, rows);
  }
}
