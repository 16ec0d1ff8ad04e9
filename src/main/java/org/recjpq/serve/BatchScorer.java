package org.recjpq.serve;

import org.recjpq.backend.cpu.Blas;
import org.recjpq.backend.cpu.CpuBuf;
import org.recjpq.util.Parallel;

/**
 * Top-K for a batch of queries at once, on all cores, by either strategy of docs/architecture.md
 * §5:
 *
 * <ul>
 *   <li>{@link Strategy#GEMM}: items in tiles of {@link #TILE}; each tile's embeddings are decoded
 *       once (RecJPQ) and scored for every query of the batch with one SGEMM (B × d)·(d × T), the
 *       tiles shared out among the threads. Exact as {@link DenseScorer} is: BLAS scores pick
 *       candidates within the rounding window, canonical scores decide; each thread keeps its own
 *       heaps, merged at the end (the tiles partition the items). Compute-bound, so the fast one
 *       for batches of more than a few queries.
 *   <li>{@link Strategy#LOOKUP}: the queries shared out among the threads, each ranked by the
 *       single-query scorer (PQTopK or pruned for RecJPQ).
 * </ul>
 *
 * Both give exactly the single-query scorers' results.
 */
public final class BatchScorer implements AutoCloseable {
  static final int TILE = 2048;
  private final ServingHead head;
  private final TopKScorer single;
  private final int threads;
  private final GpuBatchScorer gpu; // null without a GPU

  /**
   * The batch strategies: GEMM and LOOKUP on the CPU, GPU when a {@link GpuBatchScorer} is
   * attached.
   */
  public enum Strategy {
    GEMM,
    LOOKUP,
    GPU
  }

  /**
   * @param head the item head (its canonical score decides)
   * @param single the per-query scorer of the look-up strategy
   * @param threads threads to use
   */
  public BatchScorer(ServingHead head, TopKScorer single, int threads) {
    this(head, single, threads, null);
  }

  /** As above, with batches of 3 or more queries going to {@code gpu} when it is not null. */
  public BatchScorer(ServingHead head, TopKScorer single, int threads, GpuBatchScorer gpu) {
    this.head = head;
    this.single = single;
    this.threads = Math.max(1, threads);
    this.gpu = gpu;
  }

  /**
   * The device of the attached GPU batch scorer ({@link GpuBatchScorer#device()}), or null without
   * one.
   */
  public String gpuDevice() {
    return gpu == null ? null : gpu.device();
  }

  /** Closes the attached GPU batch scorer (freeing the device memory of an engine it opened). */
  @Override
  public void close() {
    if (gpu != null) {
      gpu.close();
    }
  }

  /**
   * The faster strategy for a batch, from a cost model per (query, item): a GEMM costs 2·d flops at
   * {@link #GEMM_FLOPS_PER_NS} (plus decoding each tile once, shared by the batch), a look-up scan
   * m table reads at {@link #LOOKUP_NS} each (dense tables have no look-up scan). So GEMMs win for
   * small sub-embeddings (d = 64, m = 8) and look-ups for large ones (d = 512, m = 8), and a batch
   * of one or two is not worth a GEMM. Constants from {@code benchmarks/serving.md}.
   */
  public Strategy choose(int batch) {
    if (gpu != null && batch >= 3) {
      return Strategy.GPU;
    }
    if (!(head instanceof JpqHead j)) {
      return Strategy.GEMM;
    }
    if (batch < 3) {
      return Strategy.LOOKUP;
    }
    double gemm = 2.0 * head.dim() / GEMM_FLOPS_PER_NS;
    double lookup = j.splits() * LOOKUP_NS;
    return gemm < lookup ? Strategy.GEMM : Strategy.LOOKUP;
  }

  /**
   * Batch SGEMM speed per thread, FLOP per ns, decoding included (about 5.8 ns per query-item at d
   * = 64).
   */
  static final double GEMM_FLOPS_PER_NS = 22;

  /** One table look-up of the PQTopK scan, ns per thread (about 5.4 ns per query-item at m = 8). */
  static final double LOOKUP_NS = 0.68;

  /**
   * Ranks {@code batch} queries {@code hs} (batch × d, row-major) into {@code outs} (each reset to
   * its K), leaving out what each {@code filters[b]} excludes (read only, from several threads).
   */
  public void topK(float[] hs, int batch, ItemFilter[] filters, TopK[] outs, Strategy strategy) {
    if (strategy == Strategy.GPU) {
      if (gpu == null) {
        throw new IllegalStateException("the GPU batch strategy needs a GpuBatchScorer");
      }
      gpu.topK(hs, batch, filters, outs);
    } else if (strategy == Strategy.LOOKUP) {
      int d = head.dim();
      Parallel.forRange(
          batch,
          threads,
          1,
          (from, to) -> {
            float[] h = new float[d];
            for (int b = from; b < to; b++) {
              System.arraycopy(hs, b * d, h, 0, d);
              single.topK(h, filters[b], outs[b]);
            }
          });
    } else {
      gemm(hs, batch, filters, outs);
    }
  }

  private void gemm(float[] hs, int batch, ItemFilter[] filters, TopK[] outs) {
    int d = head.dim();
    int n = head.numItems();
    int qf = head.queryFloats();
    float[] queries = new float[batch * qf];
    double[] windows = new double[batch];
    float[] h = new float[d];
    for (int b = 0; b < batch; b++) {
      System.arraycopy(hs, b * d, h, 0, d);
      float[] q = new float[qf];
      head.prepare(h, q);
      System.arraycopy(q, 0, queries, b * qf, qf);
      double norm = 0;
      for (int j = 0; j < d; j++) {
        norm += (double) h[j] * h[j];
      }
      windows[b] = head.roundingWindow(Math.sqrt(norm));
    }
    int tiles = (n + TILE - 1) / TILE;
    int workers = Math.max(1, Math.min(threads, tiles));
    TopK[][] exact = new TopK[workers][batch];
    Parallel.forRange(
        workers,
        workers,
        1,
        (wFrom, wTo) -> {
          for (int w = wFrom; w < wTo; w++) {
            CpuBuf hb = CpuBuf.allocate((long) batch * d);
            hb.write(0, hs, 0, batch * d);
            CpuBuf tile = CpuBuf.allocate((long) TILE * d);
            CpuBuf scores = CpuBuf.allocate((long) batch * TILE);
            float[] row = new float[TILE];
            float[] q = new float[qf];
            TopK[] approx = new TopK[batch];
            for (int b = 0; b < batch; b++) {
              approx[b] = new TopK(outs[b].capacity());
              exact[w][b] = new TopK(outs[b].capacity());
            }
            for (int t = w; t < tiles; t += workers) {
              int from = t * TILE;
              int nt = Math.min(TILE, n - from);
              CpuBuf e = head.embeddings(from, nt, tile);
              Blas.sgemm(false, true, batch, nt, d, 1f, hb, d, e, d, 0f, scores, nt);
              for (int b = 0; b < batch; b++) {
                scores.read(b * nt, row, 0, nt);
                TopK ap = approx[b];
                TopK ex = exact[w][b];
                double lim = ap.threshold() - windows[b];
                boolean prepared = false;
                for (int i = 0; i < nt; i++) {
                  int item = from + i;
                  float a = head.biased(row[i], item);
                  if (a >= lim) {
                    if (filters[b].excluded(item)) {
                      continue;
                    }
                    if (!prepared) {
                      System.arraycopy(queries, b * qf, q, 0, qf);
                      prepared = true;
                    }
                    ap.offer(item, a);
                    ex.offer(item, head.score(q, item));
                    lim = ap.threshold() - windows[b];
                  }
                }
              }
            }
          }
        });
    float[] sc = new float[0];
    for (int b = 0; b < batch; b++) {
      for (int w = 0; w < workers; w++) {
        TopK ex = exact[w][b];
        if (sc.length < ex.size()) {
          sc = new float[ex.size()];
        }
        int[] ids = ex.sorted(sc);
        for (int i = 0; i < ids.length; i++) {
          outs[b].offer(ids[i], sc[i]);
        }
      }
    }
  }
}
