package org.recjpq.model;

import org.recjpq.backend.Buf;
import org.recjpq.backend.IntBuf;
import org.recjpq.backend.Ops;
import org.recjpq.codes.ItemCodes;
import org.recjpq.model.ParameterLayout.Entry;

/**
 * GRU4Rec (Hidasi et al. 2016) with a dense or RecJPQ item embedding (docs/method.md §6): item
 * embedding → L GRU layers (hidden size d) → a linear projection, next item at every position,
 * scored by the same item head as SASRec.
 *
 * <pre>
 * x₀ = dropout(embed(ids))                     PAD rows 0
 * y_l = GRU_l(x_l) with the PAD mask (a PAD step outputs 0 and the state restarts from 0, so a
 *       left-padded sequence computes what its unpadded self does); x_{l+1} = dropout(y_l)
 * h = (x_L W_p + b_p) · notPad
 * </pre>
 *
 * No positions: the recurrence orders the sequence, and {@code firstPosition} is ignored.
 */
public final class Gru4Rec extends SequenceModel {
  private static final int SITE_EMBEDDING = 0;
  private final Tensors t;
  private Saved saved;

  /** GRU4Rec's own tensors (the item side is {@link SequenceModel}'s), each declared once. */
  private final class Tensors {
    final Layer[] layers = layout.repeated(cfg.blocks(), "gru", Layer::new, Layer[]::new);
    final Entry proj = layout.add("proj.w", cfg.dim(), cfg.dim());
    final Entry projBias = layout.add("proj.b", cfg.dim());
  }

  /** One GRU layer's tensors, in layout order. */
  private final class Layer {
    final Entry wIh = layout.add("w_ih", 3 * cfg.dim(), cfg.dim());
    final Entry wHh = layout.add("w_hh", 3 * cfg.dim(), cfg.dim());
    final Entry bIh = layout.add("b_ih", 3 * cfg.dim());
    final Entry bHh = layout.add("b_hh", 3 * cfg.dim());
  }

  /** Activations of one forward, each declared once: views of the arena, taken in this order. */
  private final class Saved extends Pass {
    final long rd = rows * cfg.dim();
    final Buf[] x = take(cfg.blocks() + 1, rd); // inputs of each layer (R, d); x[L] feeds proj
    final Buf[] y = take(cfg.blocks(), rd); // outputs of each layer before dropout (R, d)
    final Buf[] gates = take(cfg.blocks(), 4 * rd); // (R, 4d)
    final Buf h = take(rd);
    final Buf dx = take(rd);
    final Buf dy = take(rd);

    Saved(int batch, int len) {
      super(batch, len);
    }
  }

  /**
   * A model on {@code ops}; {@code codes} is required for RecJPQ. Parameters start at zero: call
   * {@link #initialize}.
   */
  public Gru4Rec(ModelConfig cfg, Ops ops, ItemCodes codes) {
    super(cfg, ops, codes);
    t = new Tensors();
    allocate();
  }

  private Gru4Rec(Gru4Rec shared, Ops engine) {
    super(shared, engine);
    t = shared.t;
  }

  @Override
  public Gru4Rec inferenceView(Ops engine) {
    return new Gru4Rec(this, engine);
  }

  @Override
  protected Saved carve(int batch, int len) {
    return new Saved(batch, len);
  }

  @Override
  public Buf forward(
      IntBuf ids, int batch, int len, int firstPosition, boolean train, long seed, long step) {
    Saved s = (Saved) carveActivations(batch, len);
    saved = s;
    begin(s, ids, batch, len, firstPosition, train, seed, step);
    int rows = batch * len;
    int d = cfg.dim();
    embedItems(s.x[0], ids, rows);
    dropout(s.x[0], SITE_EMBEDDING, s);
    for (int l = 0; l < cfg.blocks(); l++) {
      Layer p = t.layers[l];
      ops.gruForward(
          s.y[l],
          s.gates[l],
          s.x[l],
          w(p.wIh),
          w(p.wHh),
          w(p.bIh),
          w(p.bHh),
          ids,
          batch,
          len,
          d,
          d);
      ops.copy(s.x[l + 1], s.y[l]);
      dropout(s.x[l + 1], 1 + l, s);
    }
    ops.linearForward(s.h, s.x[cfg.blocks()], w(t.proj), w(t.projBias), rows, d, d);
    ops.maskPadRows(s.h, ids, rows, d);
    return s.h;
  }

  @Override
  public void backward(Buf dH) {
    Saved s = saved;
    if (s == null || s.ids == null) {
      throw new IllegalStateException("backward before forward");
    }
    int rows = s.batch * s.len;
    int d = cfg.dim();
    int layers = cfg.blocks();
    ops.copy(s.dy, dH);
    ops.maskPadRows(s.dy, s.ids, rows, d);
    ops.linearBackward(s.dx, g(t.proj), g(t.projBias), s.dy, s.x[layers], w(t.proj), rows, d, d);
    for (int l = layers - 1; l >= 0; l--) {
      dropoutBack(s.dx, 1 + l, s); // now the gradient of y_l
      Layer p = t.layers[l];
      ops.copy(s.dy, s.dx);
      ops.gruBackward(
          s.dx,
          g(p.wIh),
          g(p.wHh),
          g(p.bIh),
          g(p.bHh),
          s.dy,
          s.x[l],
          s.y[l],
          s.gates[l],
          w(p.wIh),
          w(p.wHh),
          s.ids,
          s.batch,
          s.len,
          d,
          d);
    }
    dropoutBack(s.dx, SITE_EMBEDDING, s);
    embedItemsBackward(s.dx, s.ids, rows);
  }
}
