package org.recjpq.serve;

import org.recjpq.backend.Buf;
import org.recjpq.backend.IntBuf;
import org.recjpq.backend.Ops;
import org.recjpq.backend.cpu.CpuBuf;
import org.recjpq.backend.cuda.CudaOps;

/**
 * Exact top-K for batches of queries on a GPU: the GEMM strategy of {@link BatchScorer} with the
 * scoring and the candidate selection on the device, and the same answers bit for bit.
 *
 * <p>The item embeddings (RecJPQ decoded once, or the dense table) are kept on the device when they
 * fit {@link #CATALOGUE_FLOATS}; otherwise each batch uploads them tile by tile. Per batch of up to
 * {@link #MAX_ROWS} queries and per tile of {@link #TILE} items: cuBLAS forms the scores in FP32
 * (TF32 off), then the kernels of {@code cuda/topk.cu} ({@link TileSelector}) keep, per query, a
 * running lower bound of the k'-th largest BLAS score (k' = K + the items the query excludes, so at
 * least K of the k' best are allowed) and collect the items within {@link
 * ServingHead#roundingWindow} of it. Every item of the true top-K is among them: its BLAS score is
 * at least its canonical score minus half the window, which is at least the K-th best allowed BLAS
 * score minus the window, which is at least the bound minus the window. The host then re-scores the
 * candidates canonically (a few times K per tile), which decides the ranking and the ties, exactly
 * as the CPU scorers do.
 *
 * <p>A query whose k' exceeds {@link #MAX_KPRIME} (a long exclusion or allow list) or whose
 * candidate list overflows goes to the CPU scorer given at construction. Calls from any number of
 * threads are serialised (the engine makes its context current on each calling thread). {@link
 * #close()} frees the device memory of a scorer made by {@link #open}, which owns its engine.
 *
 * <p>Everything but the GEMM and the selection runs on the host, and both go through interfaces
 * ({@link Ops}, {@link TileSelector}), so the algorithm also runs, and is tested, on the CPU engine
 * with the selection's host specification.
 */
public final class GpuBatchScorer implements AutoCloseable {
  /** Items per tile. */
  static final int TILE = 1 << 16;

  /** Queries per device pass. */
  static final int MAX_ROWS = 256;

  /** Largest k' handled on the device. */
  static final int MAX_KPRIME = 8192;

  /**
   * Largest item table kept on the device, in floats ({@code recjpq.gpu.catalogueFloats}; 4 GiB).
   */
  static final long CATALOGUE_FLOATS = Long.getLong("recjpq.gpu.catalogueFloats", 1L << 30);

  private final ServingHead head;
  private final Ops ops;
  private final TileSelector selector;
  private final int tile;
  private final TopKScorer fallback;
  private CudaOps owned; // the engine this scorer opened itself (closed with it), or null
  private boolean closed;
  private final Buf catalogue; // (N, w) on the device, or null (tiles uploaded per batch)
  private final int
      w; // columns of the device rows: d, or d + 1 with item offsets (a 1 in h, b_i in e_i)
  private long fallbackRows;
  // device scratch, grown on demand and kept: queries, k', windows, bounds, counts, candidates,
  // one tile's scores, one tile's embeddings (when the catalogue is not kept)
  private Buf hAll;
  private IntBuf kpAll;
  private Buf winAll;
  private Buf runAll;
  private IntBuf countAll;
  private IntBuf idAll;
  private Buf scoreAll;
  private Buf tileAll;
  private int rowsCap;
  private long idsCap;

  /**
   * @param head the item head (its canonical score decides)
   * @param ops the CUDA engine (its TF32 setting is turned off: the window assumes FP32 products)
   * @param fallback the CPU scorer for queries the device path leaves out
   */
  public GpuBatchScorer(ServingHead head, CudaOps ops, TopKScorer fallback) {
    this(head, ops, TileSelector.cuda(ops), fallback, TILE, CATALOGUE_FLOATS);
    ops.setTf32(false);
  }

  /**
   * The scorer on any engine and selection: {@code tile} items per tile; the item table is kept on
   * the engine when it has at most {@code catalogueFloats} floats.
   */
  GpuBatchScorer(
      ServingHead head,
      Ops ops,
      TileSelector selector,
      TopKScorer fallback,
      int tile,
      long catalogueFloats) {
    if (tile < 1) {
      throw new IllegalArgumentException("tile of " + tile + " items");
    }
    this.head = head;
    this.ops = ops;
    this.selector = selector;
    this.tile = tile;
    this.fallback = fallback;
    int n = head.numItems();
    int d = head.dim();
    this.w = head.hasItemBias() ? d + 1 : d;
    if ((long) n * w <= catalogueFloats) {
      catalogue = ops.alloc((long) n * w);
      CpuBuf scratch = CpuBuf.allocate((long) Math.min(n, tile) * d);
      float[] host = new float[Math.min(n, tile) * w];
      for (int from = 0; from < n; from += tile) {
        int nt = Math.min(tile, n - from);
        uploadTile(catalogue.slice((long) from * w, (long) nt * w), from, nt, scratch, host);
      }
    } else {
      catalogue = null;
    }
  }

  /**
   * A scorer on a CUDA engine of its own (device 0), or a {@link org.recjpq.RecjpqException} that
   * starts with {@code what} and says why CUDA cannot run.
   */
  public static GpuBatchScorer open(ServingHead head, TopKScorer fallback, String what) {
    org.recjpq.backend.Availability a = org.recjpq.backend.cuda.CudaAvailability.check();
    if (!a.available()) {
      throw new org.recjpq.RecjpqException(
          what + ", but there is no usable GPU: " + a.description());
    }
    CudaOps ops = CudaOps.open(0, false);
    try {
      GpuBatchScorer scorer = new GpuBatchScorer(head, ops, fallback);
      scorer.owned = ops;
      return scorer;
    } catch (RuntimeException | Error e) {
      ops.close();
      throw e;
    }
  }

  /** The device the batches run on, as reported: a GPU's name, or "CUDA emulator (CPU)". */
  public String device() {
    org.recjpq.backend.cuda.CudaAvailability.Report r =
        org.recjpq.backend.cuda.CudaAvailability.report();
    if (r.emulated()) {
      return org.recjpq.backend.cuda.CudaEmulator.LABEL;
    }
    return r.devices().isEmpty() ? "cuda" : r.devices().get(0).name();
  }

  /**
   * Frees the device memory of the engine this scorer opened ({@link #open}); later calls throw.
   */
  @Override
  public synchronized void close() {
    if (!closed) {
      closed = true;
      if (owned != null) {
        owned.close();
        owned = null;
      }
    }
  }

  /**
   * Uploads items [from, from + nt) as (nt, w) rows: their embeddings, then their offsets when
   * there are any.
   */
  private void uploadTile(Buf dst, int from, int nt, CpuBuf scratch, float[] host) {
    int d = head.dim();
    float[] buf = host.length == nt * w ? host : new float[nt * w]; // the last tile may be shorter
    CpuBuf e = head.embeddings(from, nt, scratch);
    if (w == d) {
      e.read(0, buf, 0, nt * d);
    } else {
      for (int i = 0; i < nt; i++) {
        e.read(i * d, buf, i * w, d);
        buf[i * w + d] = head.bias[from + i];
      }
    }
    ops.upload(dst, buf);
  }

  private void ensure(int rows, int cap, int tileItems) {
    if (rows > rowsCap) {
      rowsCap = Math.max(rows, Math.min(MAX_ROWS, 2 * rowsCap));
      hAll = ops.alloc((long) rowsCap * w);
      kpAll = ops.allocInts(rowsCap);
      winAll = ops.alloc(rowsCap);
      runAll = ops.alloc(rowsCap);
      countAll = ops.allocInts(rowsCap);
      scoreAll = ops.alloc((long) rowsCap * tileItems);
      idsCap = 0;
    }
    if ((long) rows * cap > idsCap) {
      idsCap = Math.max((long) rows * cap, (long) rowsCap * cap);
      idAll = ops.allocInts(idsCap);
    }
    if (catalogue == null && tileAll == null) {
      tileAll = ops.alloc((long) tileItems * w);
    }
  }

  /**
   * Queries answered by the CPU fallback so far (long exclusion lists, overflowing candidate
   * lists).
   */
  public synchronized long fallbackRows() {
    return fallbackRows;
  }

  /**
   * Ranks {@code batch} queries {@code hs} (batch × d) into {@code outs} (each reset to its K),
   * leaving out what each {@code filters[b]} excludes.
   */
  public synchronized void topK(float[] hs, int batch, ItemFilter[] filters, TopK[] outs) {
    if (closed) {
      throw new IllegalStateException("This GPU batch scorer was closed.");
    }
    for (int r0 = 0; r0 < batch; r0 += MAX_ROWS) {
      chunk(hs, r0, Math.min(MAX_ROWS, batch - r0), filters, outs);
    }
  }

  private void chunk(float[] hs, int r0, int rows, ItemFilter[] filters, TopK[] outs) {
    int d = head.dim();
    int n = head.numItems();
    int tiles = (n + tile - 1) / tile;
    int[] kprime = new int[rows];
    float[] window = new float[rows];
    boolean[] onDevice = new boolean[rows];
    int maxKprime = 1;
    float[] h = new float[d];
    for (int r = 0; r < rows; r++) {
      int b = r0 + r;
      outs[b].reset(outs[b].capacity());
      long kp = (long) outs[b].capacity() + filters[b].excludedCount();
      onDevice[r] = outs[b].capacity() > 0 && kp <= MAX_KPRIME;
      kprime[r] = onDevice[r] ? (int) kp : 0; // 0: the select kernel leaves the row alone
      double norm = 0;
      for (int j = 0; j < d; j++) {
        double v = hs[b * d + j];
        norm += v * v;
      }
      window[r] = (float) (head.roundingWindow(Math.sqrt(norm)) * 1.001);
      if (onDevice[r]) {
        maxKprime = Math.max(maxKprime, kprime[r]);
      }
    }
    int cap = (int) Math.min((long) n, (long) (tiles + 4) * maxKprime + 256);
    int tileItems = Math.min(n, tile);
    ensure(rows, cap, tileItems);
    Buf hBuf = hAll.slice(0, (long) rows * w);
    float[] hChunk = new float[rows * w];
    for (int r = 0; r < rows; r++) {
      System.arraycopy(hs, (r0 + r) * d, hChunk, r * w, d);
      if (w > d) {
        hChunk[r * w + d] = 1f; // times the item's offset in its last column
      }
    }
    ops.upload(hBuf, hChunk);
    IntBuf kpBuf = kpAll.slice(0, rows);
    ops.upload(kpBuf, kprime);
    Buf winBuf = winAll.slice(0, rows);
    ops.upload(winBuf, window);
    Buf running = runAll.slice(0, rows);
    ops.fill(running, Float.NEGATIVE_INFINITY);
    IntBuf counts = countAll.slice(0, rows);
    ops.upload(counts, new int[rows]);
    IntBuf ids = idAll.slice(0, (long) rows * cap);
    CpuBuf scratch = catalogue == null ? CpuBuf.allocate((long) tileItems * d) : null;
    float[] host = catalogue == null ? new float[tileItems * w] : null;
    for (int from = 0; from < n; from += tile) {
      int nt = Math.min(tile, n - from);
      Buf e;
      if (catalogue != null) {
        e = catalogue.slice((long) from * w, (long) nt * w);
      } else {
        e = tileAll.slice(0, (long) nt * w);
        uploadTile(e, from, nt, scratch, host);
      }
      Buf s = scoreAll.slice(0, (long) rows * nt);
      ops.matmulTransposed(s, hBuf, e, rows, nt, w);
      selector.selectAndCollect(s, rows, nt, from, kpBuf, running, winBuf, counts, ids, cap);
    }
    int[] count = new int[rows];
    ops.download(count, counts);
    int[] cand = new int[rows * cap];
    ops.download(cand, ids);
    float[] q = new float[head.queryFloats()];
    for (int r = 0; r < rows; r++) {
      int b = r0 + r;
      System.arraycopy(hs, b * d, h, 0, d);
      if (!onDevice[r] || count[r] > cap) {
        fallbackRows++;
        fallback.topK(h, filters[b], outs[b]);
        continue;
      }
      head.prepare(h, q);
      TopK out = outs[b];
      for (int c = 0; c < count[r]; c++) {
        int item = cand[r * cap + c];
        if (!filters[b].excluded(item)) {
          float sc = head.score(q, item);
          if (out.accepts(item, sc)) {
            out.offer(item, sc);
          }
        }
      }
    }
  }
}
