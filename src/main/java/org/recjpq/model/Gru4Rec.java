package org.recjpq.model;

import org.recjpq.backend.Buf;
import org.recjpq.backend.IntBuf;
import org.recjpq.backend.Ops;
import org.recjpq.codes.ItemCodes;

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
  private final Weights w;
  private final Weights g;
  private Saved saved;

  private record Layer(Buf wIh, Buf wHh, Buf bIh, Buf bHh) {}

  private record Weights(Layer[] layers, Buf proj, Buf projBias) {}

  private static final class Saved extends Pass {
    Buf[] x; // inputs of each layer (R, d); x[L] feeds the projection
    Buf[] y; // outputs of each layer before dropout (R, d)
    Buf[] gates; // (R, 4d)
    Buf h;
    Buf dx;
    Buf dy;
  }

  /**
   * A model on {@code ops}; {@code codes} is required for RecJPQ. Parameters start at zero: call
   * {@link #initialize}.
   */
  public Gru4Rec(ModelConfig cfg, Ops ops, ItemCodes codes) {
    super(cfg, ops, codes);
    int d = cfg.dim();
    for (int l = 0; l < cfg.blocks(); l++) {
      String p = "gru" + l + ".";
      layout.add(p + "w_ih", 3 * d, d);
      layout.add(p + "w_hh", 3 * d, d);
      layout.add(p + "b_ih", 3 * d);
      layout.add(p + "b_hh", 3 * d);
    }
    layout.add("proj.w", d, d);
    layout.add("proj.b", d);
    allocate();
    w = views(params);
    g = views(grads);
  }

  private Gru4Rec(Gru4Rec shared, Ops engine) {
    super(shared, engine);
    w = shared.w;
    g = null;
  }

  @Override
  public Gru4Rec inferenceView(Ops engine) {
    return new Gru4Rec(this, engine);
  }

  private Weights views(Buf flat) {
    Layer[] layers = new Layer[cfg.blocks()];
    for (int l = 0; l < layers.length; l++) {
      String p = "gru" + l + ".";
      layers[l] =
          new Layer(
              layout.view(flat, p + "w_ih"),
              layout.view(flat, p + "w_hh"),
              layout.view(flat, p + "b_ih"),
              layout.view(flat, p + "b_hh"));
    }
    return new Weights(layers, layout.view(flat, "proj.w"), layout.view(flat, "proj.b"));
  }

  @Override
  public long activationFloats(int batch, int len) {
    long r = (long) batch * len;
    long d = cfg.dim();
    return (cfg.blocks() + 1) * r * d + cfg.blocks() * (r * d + 4 * r * d) + 3 * r * d;
  }

  private Saved activations(int batch, int len) {
    if (resetArena(batch, len)) {
      saved = new Saved();
    }
    Saved s = saved;
    long rd = (long) batch * len * cfg.dim();
    int layers = cfg.blocks();
    s.x = new Buf[layers + 1];
    s.y = new Buf[layers];
    s.gates = new Buf[layers];
    for (int l = 0; l <= layers; l++) {
      s.x[l] = take(rd);
    }
    for (int l = 0; l < layers; l++) {
      s.y[l] = take(rd);
      s.gates[l] = take(4 * rd);
    }
    s.h = take(rd);
    s.dx = take(rd);
    s.dy = take(rd);
    return s;
  }

  @Override
  public Buf forward(
      IntBuf ids, int batch, int len, int firstPosition, boolean train, long seed, long step) {
    Saved s = activations(batch, len);
    begin(s, ids, batch, len, firstPosition, train, seed, step);
    int rows = batch * len;
    int d = cfg.dim();
    embedItems(s.x[0], ids, rows);
    dropout(s.x[0], SITE_EMBEDDING, s);
    for (int l = 0; l < cfg.blocks(); l++) {
      Layer p = w.layers()[l];
      ops.gruForward(
          s.y[l], s.gates[l], s.x[l], p.wIh(), p.wHh(), p.bIh(), p.bHh(), ids, batch, len, d, d);
      ops.copy(s.x[l + 1], s.y[l]);
      dropout(s.x[l + 1], 1 + l, s);
    }
    ops.linearForward(s.h, s.x[cfg.blocks()], w.proj(), w.projBias(), rows, d, d);
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
    ops.linearBackward(s.dx, g.proj(), g.projBias(), s.dy, s.x[layers], w.proj(), rows, d, d);
    for (int l = layers - 1; l >= 0; l--) {
      dropoutBack(s.dx, 1 + l, s); // now the gradient of y_l
      Layer p = w.layers()[l];
      Layer gp = g.layers()[l];
      ops.copy(s.dy, s.dx);
      ops.gruBackward(
          s.dx,
          gp.wIh(),
          gp.wHh(),
          gp.bIh(),
          gp.bHh(),
          s.dy,
          s.x[l],
          s.y[l],
          s.gates[l],
          p.wIh(),
          p.wHh(),
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
