package org.recjpq.train;

import org.recjpq.backend.Buf;
import org.recjpq.backend.IntBuf;
import org.recjpq.backend.Ops;
import org.recjpq.eval.HistoryBatch;
import org.recjpq.eval.Scorer;
import org.recjpq.model.ModelConfig;
import org.recjpq.model.SequenceModel;

/**
 * A trained sequence model (any backbone) as an evaluation {@link Scorer}: each batch runs the
 * network once (no dropout) on the last {@code maxLen} items of every history and keeps the
 * representation at the last position; each tile of items is then scored with one GEMM against the
 * tile's item embeddings (the dense table's rows, or RecJPQ embeddings decoded from codes and
 * codebooks first: docs/architecture.md §5 strategy (b), the fast one for batches), plus each
 * item's score offset when the model has item biases (added on the host to the downloaded tile).
 * The model's activation memory is shared, so batches run one at a time (evaluate with one thread;
 * the engine's ops are themselves parallel).
 *
 * <p>RecJPQ items are decoded once per scorer when the whole catalogue fits {@link
 * #DECODE_CACHE_FLOATS} floats (256 MiB: a million items at d = 64), instead of once per tile per
 * batch of users; larger catalogues are decoded tile by tile. A scorer therefore assumes the
 * model's parameters do not change while it is used (each evaluation makes its own).
 */
public final class ModelScorer implements Scorer {
  private final SequenceModel model;
  private final Ops ops;
  private final IntBuf allItems; // 0..N-1, sliced per tile for RecJPQ decoding
  private final int tile;

  /**
   * Largest decoded catalogue kept for the scorer's life, in floats ({@code
   * recjpq.eval.decodeCacheFloats}).
   */
  static final long DECODE_CACHE_FLOATS = Long.getLong("recjpq.eval.decodeCacheFloats", 64L << 20);

  private Buf decoded; // the whole decoded catalogue, when it fits
  private Buf items; // one decoded tile otherwise
  private Buf scores;
  private float[]
      host; // the last tile's scores when the caller's array is larger (the catalogue's last tile)
  private IntBuf idBuf;
  private float[]
      bias; // the items' score offsets on the host (added to each downloaded tile), or null

  public ModelScorer(SequenceModel model, int tile) {
    this.model = model;
    this.ops = model.ops();
    this.tile = tile;
    ModelConfig c = model.config();
    int[] ids = new int[c.numItems()];
    for (int i = 0; i < ids.length; i++) {
      ids[i] = i;
    }
    this.allItems = ops.allocInts(ids.length);
    ops.upload(allItems, ids);
    if (model.itemBias() != null) {
      bias = new float[c.numItems()];
      ops.download(bias, model.itemBias());
    }
  }

  @Override
  public String name() {
    return model.config().backbone().name().toLowerCase(java.util.Locale.ROOT)
        + "-"
        + model.config().embedding().name().toLowerCase(java.util.Locale.ROOT);
  }

  @Override
  public int numItems() {
    return model.config().numItems();
  }

  @Override
  public int preferredTileSize() {
    return tile;
  }

  @Override
  public synchronized ScoreBatch batch(HistoryBatch histories) {
    ModelConfig c = model.config();
    int rows = histories.rows();
    int len = c.maxLen();
    int d = c.dim();
    int[] ids = new int[rows * len];
    SequenceBatches.fillHistories(
        histories.items(),
        histories.starts(),
        histories.lengths(),
        rows,
        len,
        ids,
        model.maskToken());
    if (idBuf == null || idBuf.size() < ids.length) {
      idBuf = ops.allocInts(ids.length);
      scores = ops.alloc((long) rows * tile); // used only inside the synchronized tile scoring
    }
    IntBuf idView = idBuf.slice(0, ids.length);
    ops.upload(idView, ids);
    Buf h = model.forward(idView, rows, len, false, 0, 0);
    Buf last =
        ops.alloc((long) rows * d); // per batch: a batch's rows outlive the next batch() call
    for (int r = 0; r < rows; r++) {
      ops.copy(last.slice((long) r * d, d), h.slice(((long) r * len + len - 1) * d, d));
    }
    int n0 = c.numItems();
    if (c.isJpq() && decoded == null && items == null) {
      if ((long) n0 * d <= DECODE_CACHE_FLOATS) {
        decoded = ops.alloc((long) n0 * d);
        for (int from = 0; from < n0; from += tile) {
          int n = Math.min(tile, n0 - from);
          model.decodeItems(
              decoded.slice((long) from * d, (long) n * d), allItems.slice(from, n), n);
        }
      } else {
        items = ops.alloc((long) tile * d);
      }
    }
    return (from, to, out) -> {
      synchronized (ModelScorer.this) {
        int n = to - from;
        Buf e;
        if (c.isJpq() && decoded == null) {
          e = items.slice(0, (long) n * d);
          model.decodeItems(e, allItems.slice(from, n), n);
        } else {
          e = (c.isJpq() ? decoded : model.outputTable()).slice((long) from * d, (long) n * d);
        }
        Buf s = scores.slice(0, (long) rows * n);
        ops.matmulTransposed(s, last, e, rows, n, d);
        if (out.length == rows * n) {
          ops.download(out, s); // straight into the caller's tile
        } else {
          if (host == null || host.length != rows * n) {
            host = new float[rows * n];
          }
          ops.download(host, s);
          System.arraycopy(host, 0, out, 0, host.length);
        }
        if (bias != null) {
          for (int r = 0; r < rows; r++) {
            for (int i = 0, o = r * n; i < n; i++) {
              out[o + i] += bias[from + i];
            }
          }
        }
      }
    };
  }
}
