package org.recjpq.model;

import java.util.List;
import org.recjpq.backend.Buf;
import org.recjpq.backend.ByteBuf;
import org.recjpq.backend.CounterRng;
import org.recjpq.backend.IntBuf;
import org.recjpq.backend.ItemTable;
import org.recjpq.backend.Ops;
import org.recjpq.codes.ItemCodes;
import org.recjpq.util.SplitMix64;

/**
 * What every backbone shares: the item side (a dense table, optionally a separate output table, or
 * RecJPQ codes and codebooks), the flat parameter and gradient buffers with their {@link
 * ParameterLayout}, initialisation, and the forward/backward contract the trainer, the evaluator
 * and serving use. A subclass adds its own tensors to the layout in its constructor, then calls
 * {@link #allocate()}.
 *
 * <p>Contract of {@link #forward}: ids (batch × len, -1 = PAD, left-padded) → h (batch·len, d), the
 * representation each position's prediction is scored from, a view valid until the next forward;
 * {@link #backward} takes dH of the same shape and accumulates every parameter gradient. A RecJPQ
 * model never allocates an N × d table.
 */
public abstract class SequenceModel {
  protected final ModelConfig cfg;
  protected final Ops ops;
  protected final ByteBuf codes; // (N, m), JPQ only
  protected final ItemCodes hostCodes; // the same on the host, JPQ only
  private final ItemTable itemTable; // the kind and shape of items (input and output alike)
  protected final ParameterLayout layout;
  protected Buf params;
  protected Buf grads;
  private final ParameterLayout.Entry itemsEntry; // codebooks (m, 256, d/m) or the table (N, d)
  private final ParameterLayout.Entry outputEntry; // the scoring weights (tied: = itemsEntry)
  private final ParameterLayout.Entry biasEntry; // (N) per-item score offsets, or null
  private Buf[] paramViews; // by entry index
  private Buf[] gradViews; // by entry index; null in an inference view
  private Buf items;
  private Buf output;
  private Buf itemsGrad;
  private Buf outputGrad;
  private Buf bias;
  private Buf biasGrad;
  private Arena
      arena; // activations of the last forward; each model (or inference view) has its own
  private boolean measuring; // activationFloats is counting what carve takes
  private long measured;

  /**
   * Starts the layout with the item tensors; the subclass adds its own, then {@link #allocate()}.
   */
  protected SequenceModel(ModelConfig cfg, Ops ops, ItemCodes codes) {
    this.cfg = cfg;
    this.ops = ops;
    this.layout = new ParameterLayout();
    int d = cfg.dim();
    if (cfg.isJpq()) {
      if (codes == null || codes.numItems() != cfg.numItems() || codes.splits() != cfg.splits()) {
        throw new IllegalArgumentException(
            "RecJPQ needs codes for "
                + cfg.numItems()
                + " items x "
                + cfg.splits()
                + " splits"
                + (codes == null ? "" : ", got " + codes.numItems() + " x " + codes.splits()));
      }
      this.hostCodes = codes;
      this.codes = ops.allocBytes(codes.raw().length);
      ops.upload(this.codes, codes.raw());
      itemsEntry = layout.add("item.codebooks", cfg.splits(), ItemCodes.SUB_IDS, cfg.subDim());
      // separate output codebooks over the same codes: still no N x d tensor
      outputEntry =
          cfg.tiedOutput()
              ? itemsEntry
              : layout.add("output.codebooks", cfg.splits(), ItemCodes.SUB_IDS, cfg.subDim());
    } else {
      this.codes = null;
      this.hostCodes = null;
      itemsEntry = layout.add("item.table", cfg.numItems(), d);
      outputEntry = cfg.tiedOutput() ? itemsEntry : layout.add("output.table", cfg.numItems(), d);
    }
    this.itemTable = itemTable(cfg, ops, this.codes);
    // initialised to 0 (a ".b" name)
    biasEntry = cfg.itemBias() ? layout.add("item.bias", 1, cfg.numItems()) : null;
  }

  /** An inference view: {@code shared}'s parameters and codes, no gradients, on {@code engine}. */
  protected SequenceModel(SequenceModel shared, Ops engine) {
    this.cfg = shared.cfg;
    this.ops = engine;
    this.layout = shared.layout;
    this.codes = shared.codes;
    this.hostCodes = shared.hostCodes;
    this.itemTable = itemTable(cfg, engine, this.codes);
    this.itemsEntry = shared.itemsEntry;
    this.outputEntry = shared.outputEntry;
    this.biasEntry = shared.biasEntry;
    this.paramViews = shared.paramViews;
    this.gradViews = null;
    this.params = shared.params;
    this.items = shared.items;
    this.output = shared.output;
    this.bias = shared.bias;
    this.grads = null;
  }

  private static ItemTable itemTable(ModelConfig cfg, Ops ops, ByteBuf codes) {
    return cfg.isJpq()
        ? ops.jpqTable(codes, cfg.numItems(), cfg.splits(), cfg.subDim())
        : ops.denseTable(cfg.numItems(), cfg.dim());
  }

  /** Allocates the parameter and gradient buffers once the layout is complete. */
  protected final void allocate() {
    params = ops.alloc(layout.size());
    grads = ops.alloc(layout.size());
    List<ParameterLayout.Entry> entries = layout.entries();
    paramViews = new Buf[entries.size()];
    gradViews = new Buf[entries.size()];
    for (ParameterLayout.Entry e : entries) {
      paramViews[e.index()] = ParameterLayout.view(params, e);
      gradViews[e.index()] = ParameterLayout.view(grads, e);
    }
    items = w(itemsEntry);
    itemsGrad = g(itemsEntry);
    output = w(outputEntry);
    outputGrad = g(outputEntry);
    if (biasEntry != null) {
      bias = w(biasEntry);
      biasGrad = g(biasEntry);
    }
  }

  /** The parameters of tensor {@code e} (a view of {@link #params()}). */
  protected final Buf w(ParameterLayout.Entry e) {
    return paramViews[e.index()];
  }

  /** The gradient of tensor {@code e} (a view of {@link #grads()}); not in an inference view. */
  protected final Buf g(ParameterLayout.Entry e) {
    return gradViews[e.index()];
  }

  /** A model of {@code cfg}'s backbone; parameters start at zero: call {@link #initialize}. */
  public static SequenceModel create(ModelConfig cfg, Ops ops, ItemCodes codes) {
    return switch (cfg.backbone()) {
      case SASREC -> new SasRec(cfg, ops, codes);
      case GRU4REC -> new Gru4Rec(cfg, ops, codes);
      case BERT4REC -> new Bert4Rec(cfg, ops, codes);
    };
  }

  public ModelConfig config() {
    return cfg;
  }

  public ParameterLayout layout() {
    return layout;
  }

  /** The flat parameter buffer. */
  public Buf params() {
    return params;
  }

  /** The flat gradient buffer (same layout). */
  public Buf grads() {
    return grads;
  }

  public Ops ops() {
    return ops;
  }

  /** The item codes (RecJPQ) or null (dense). */
  public ItemCodes itemCodes() {
    return hostCodes;
  }

  /** The table that embeds and scores this model's items (input or output weights as params). */
  ItemTable itemTable() {
    return itemTable;
  }

  /** The input item embeddings (table or codebooks) and their gradient. */
  protected Buf itemWeights(boolean gradient) {
    return gradient ? itemsGrad : items;
  }

  /** The dense output item table (N, d) (the input table when tied); dense models only. */
  public Buf outputTable() {
    if (cfg.isJpq()) {
      throw new IllegalStateException(
          "a RecJPQ model has no item table; decode items from the codebooks");
    }
    return output;
  }

  /** Writes the output (scoring) embeddings of {@code ids} (n items) into {@code out} (n, d). */
  public void decodeItems(Buf out, IntBuf ids, int n) {
    itemTable.lookup(out, ids, output, n);
  }

  /** The layout name of the codebooks that score items (RecJPQ): the input ones when tied. */
  public String outputCodebooksName() {
    return cfg.tiedOutput() ? "item.codebooks" : "output.codebooks";
  }

  /** The per-item score offsets (N) added to {@code h · e_i}, or null when the model has none. */
  public Buf itemBias() {
    return bias;
  }

  /** {@link #itemBias()} or its gradient. */
  Buf itemBias(boolean gradient) {
    return gradient ? biasGrad : bias;
  }

  /** Item embeddings used to score (the input table or codebooks when tied). */
  Buf outputItems(boolean gradient) {
    return gradient ? outputGrad : output;
  }

  /**
   * Deterministic initialisation from {@code seed}: layer-norm gains 1, offsets and biases 0, item
   * embeddings and positions N(0, 1/d) (they are scaled by sqrt(d) on input), every other matrix
   * Xavier-normal.
   */
  public void initialize(long seed) {
    float[] host = new float[(int) layout.size()];
    int d = cfg.dim();
    int index = 0;
    for (ParameterLayout.Entry e : layout.entries()) {
      SplitMix64 rng = SplitMix64.keyed(seed, 0x1417L, index++);
      String n = e.name();
      double std;
      float constant = 0f;
      if (n.endsWith("gamma")) {
        std = 0;
        constant = 1f;
      } else if (n.endsWith("beta") || n.contains(".b")) {
        std = 0;
      } else if (n.startsWith("item.")
          || n.startsWith("output.")
          || n.equals("positions")
          || n.equals("mask")) {
        std = 1.0 / Math.sqrt(d);
      } else {
        std = Math.sqrt(2.0 / (e.shape()[0] + e.shape()[1]));
      }
      for (long i = 0; i < e.size(); i++) {
        host[(int) (e.offset() + i)] = std == 0 ? constant : (float) (std * rng.nextGaussian());
      }
    }
    ops.upload(params, host);
    ops.fill(grads, 0f);
  }

  /** Sets every gradient to zero (start of a step). */
  public void zeroGrad() {
    ops.fill(grads, 0f);
  }

  /**
   * {@link #forward(IntBuf, int, int, int, boolean, long, long)} on the window starting at slot 0.
   */
  public Buf forward(IntBuf ids, int batch, int len, boolean train, long seed, long step) {
    return forward(ids, batch, len, 0, train, seed, step);
  }

  /**
   * Runs the network on {@code ids} (batch × len, -1 = PAD) as the window of slots {@code
   * [firstPosition, firstPosition + len)} of {@code maxLen}, and returns h (batch·len, d). With
   * {@code train}, dropout is on, its masks drawn from (seed, step, site). A left-padded window's
   * PAD slots change nothing at the other positions, so inference on a history of L < maxLen items
   * can run on its last L slots alone ({@code firstPosition = maxLen - L}).
   */
  public abstract Buf forward(
      IntBuf ids, int batch, int len, int firstPosition, boolean train, long seed, long step);

  /**
   * Backpropagates dH (rows, d) of the last forward, accumulating every parameter gradient; dH is
   * not modified.
   */
  public abstract void backward(Buf dH);

  /**
   * A forward's activations for (batch, len), each declared once in the subclass's {@link Pass} (a
   * field that {@link #take}s its views): {@link #carve} runs once to count the floats, which sizes
   * the arena (grown when too small, reused otherwise), and once to take the views.
   */
  protected final Pass carveActivations(int batch, int len) {
    long need = activationFloats(batch, len);
    if (arena == null || arena.capacity() < need) {
      arena = new Arena(ops, need);
    }
    arena.reset();
    return carve(batch, len);
  }

  /** The activations of a forward of (batch, len): a new {@link Pass} whose fields take views. */
  protected abstract Pass carve(int batch, int len);

  /** The next {@code floats} of the arena (null while {@link #activationFloats} counts). */
  protected final Buf take(long floats) {
    if (measuring) {
      measured += floats;
      return null;
    }
    return arena.take(floats);
  }

  /** {@code n} views of {@code floats} each, one after another (one per block). */
  protected final Buf[] take(int n, long floats) {
    Buf[] out = new Buf[n];
    for (int i = 0; i < n; i++) {
      out[i] = take(floats);
    }
    return out;
  }

  /** Floats of activation memory for (batch, len): what {@link #carve} takes. */
  public final long activationFloats(int batch, int len) {
    measuring = true;
    measured = 0;
    try {
      carve(batch, len);
    } finally {
      measuring = false;
    }
    return measured;
  }

  /**
   * A model reading this one's parameters and codes (not copied) with activations of its own, on
   * {@code engine} (one that can read this model's buffers), so that several threads can run
   * inference at once, one view each. Inference only: forward with {@code train = false}.
   */
  public abstract SequenceModel inferenceView(Ops engine);

  /** What one forward remembers for its backward: the input and the dropout keys. */
  protected static class Pass {
    int batch;
    int len;
    final long rows; // batch · len

    /** A pass of (batch, len): a subclass's field initializers may read them. */
    protected Pass(int batch, int len) {
      this.batch = batch;
      this.len = len;
      this.rows = (long) batch * len;
    }

    int firstPosition;
    IntBuf ids;
    boolean train;
    long seed;
    long step;
  }

  /** Checks the window and records a forward's inputs in {@code s}. */
  protected final void begin(
      Pass s,
      IntBuf ids,
      int batch,
      int len,
      int firstPosition,
      boolean train,
      long seed,
      long step) {
    if (firstPosition < 0 || len < 1 || firstPosition + len > cfg.maxLen()) {
      throw new IllegalArgumentException(
          "window ["
              + firstPosition
              + ", "
              + (firstPosition + len)
              + ") exceeds the model's "
              + cfg.maxLen()
              + " positions");
    }
    s.batch = batch;
    s.len = len;
    s.firstPosition = firstPosition;
    s.ids = ids;
    s.train = train;
    s.seed = seed;
    s.step = step;
  }

  /** In-place dropout at {@code site} when training (masks keyed by seed, step and site). */
  protected final void dropout(Buf x, int site, Pass s) {
    if (s.train && cfg.dropout() > 0f) {
      ops.dropoutForward(x, x, cfg.dropout(), s.seed, CounterRng.stream(s.step, site));
    }
  }

  /** Backward of {@link #dropout}, in place. */
  protected final void dropoutBack(Buf dx, int site, Pass s) {
    if (s.train && cfg.dropout() > 0f) {
      ops.dropoutBackward(dx, dx, cfg.dropout(), s.seed, CounterRng.stream(s.step, site));
    }
  }

  /** The input item embeddings of {@code ids} (rows, d); PAD rows 0. */
  protected final void embedItems(Buf out, IntBuf ids, int rows) {
    itemTable.lookup(out, ids, items, rows);
  }

  /** Backward of {@link #embedItems}: accumulates into the item gradient. */
  protected final void embedItemsBackward(Buf dOut, IntBuf ids, int rows) {
    itemTable.lookupBackward(itemsGrad, dOut, ids, rows);
  }

  /**
   * The id of the MASK token that inference appends to a history and masked-item training uses
   * (BERT4Rec: N, one past the items), or -1 for models that predict the next item at every
   * position.
   */
  public int maskToken() {
    return -1;
  }

  /** {@link #inferenceView(Ops)} on this model's engine. */
  public SequenceModel inferenceView() {
    return inferenceView(ops);
  }
}
