package org.recjpq.backend.cuda;

import static jcuda.driver.JCudaDriver.cuCtxGetDevice;
import static jcuda.driver.JCudaDriver.cuDeviceGetAttribute;

import jcuda.driver.CUdevice;
import jcuda.driver.CUdevice_attribute;
import org.recjpq.backend.cuda.CudaLosses.Items;

/**
 * Exact softmax cross-entropy over all N items on the GPU (docs/method.md §4, docs/architecture.md
 * §5), never holding rows × N logits; the CPU specification is {@code CpuFullCrossEntropy}.
 * Kernels: {@code cuda/full_ce.cu}; GEMMs: cuBLAS.
 *
 * <pre>
 *   pass 1, per row: online log-sum-exp over the items, tile by tile (running max, sum in double)
 *           lse_r = max_r + log(sum_r),  loss = Σ_valid (lse_r − score(r, target_r)) / V
 *   pass 2: g[r][i] = (exp(score(r, i) − lse_r) − [i = target_r]) / V, recomputed tile by tile,
 *           dh_r = Σ_i g[r][i] e_i (overwrite),  dE_i += Σ_r g[r][i] h_r (into the table or codebooks)
 * </pre>
 *
 * <p>Shapes: R = rows, V = rows with a target (gathered into a compact (V, D) copy of h first, so
 * ignored rows cost nothing; their dH rows are written as 0 at the end), D = dim, M = splits, S =
 * subDim, W = M·256, N = items, T = tile, B = row block.
 *
 * <h2>Two tile strategies</h2>
 *
 * <ul>
 *   <li>{@link Strategy#LOOKUP} ({@link CudaFullCrossEntropyLookup}, RecJPQ only): per block of B
 *       rows, the sub-id score tables {@code sub = h_k · C_kᵀ} (B, M, 256) by one strided-batched
 *       GEMM over the M splits; then one thread block per (row, chunk of items) holds the row's
 *       table in shared memory and scores each item with M look-ups, pass 1 folding the scores into
 *       an online log-sum-exp, pass 2 adding g into the row's dSub (W entries, shared memory) at
 *       the item's codes. Two more batched GEMMs give {@code dh_k = dSub_k · C_k} and {@code dC_k
 *       += dSub_kᵀ · h_k}. Cost ∝ V·N·M look-ups at shared-memory speed plus 3·2·V·256·D GEMM
 *       flops; nothing proportional to N·D, and the codes (N·M bytes) are the only per-item reads.
 *   <li>{@link Strategy#GEMM} ({@link CudaFullCrossEntropyGemm}): per tile of T items, decode the
 *       tile's embeddings (T, D) from codes and codebooks (a dense table is used in place), and per
 *       block of rows: scores = H_b·E_tᵀ (GEMM), the softmax kernel, then {@code dh_b (+)= G·E_t}
 *       and {@code dE_t (+)= Gᵀ·H_b} (GEMMs); the dense table's gradient is that last GEMM with
 *       beta = 1 straight into dTable, a RecJPQ tile's gradient is scattered into dCodebooks by
 *       code. Cost ∝ N·D (decode, shared by all rows) + 8·V·N·D GEMM flops + the (B, T) scores'
 *       trips through memory. When the whole catalogue fits one tile, lse and g come from one pass
 *       (3 GEMMs).
 * </ul>
 *
 * <h2>The choice ({@link #choose})</h2>
 *
 * A dense table always takes GEMM. For RecJPQ, a cost model in picoseconds:
 *
 * <pre>
 *   look-up = LOOKUP_PS · V·N·M  +  3 · 2·V·256·D / GEMM_FLOPS_PER_PS
 *   GEMM    = DECODE_PS · N·D    +  V·N · (SCORE_PS + 8·D / GEMM_FLOPS_PER_PS)
 * </pre>
 *
 * and look-ups need the row's table and dSub in one block's shared memory (W·(4 + 8) bytes in the
 * deterministic mode, W·8 otherwise, at most the device's opt-in limit: 227 KB on an H100, so up to
 * M = 75 deterministic and M = 113 otherwise); beyond it GEMM is taken. <b>The constants are first
 * guesses from the H100's data sheet (FP32 GEMMs without TF32 at about 40 TFLOP/s, shared-memory
 * look-ups at about 7·10¹² per second, HBM at about 3 TB/s), not measurements: they must be
 * measured on a GPU</b>, as the CPU's were ({@code benchmarks/full-ce-crossover.md}), and TF32
 * GEMMs would move the crossover towards GEMM. With them, GEMM wins only where M > 8 + 0.2·D per
 * (row, item), i.e. for tiny sub-embeddings (large batches: S = 1 from M = 11, S = 2 from M = 14, S
 * = 4 from M = 41, never for S ≥ 5): a GEMM does 8·D flops per (row, item) and moves the scores
 * through memory several times, while look-ups do a few shared-memory operations per split.
 *
 * <h2>Memory bounds (device scratch, named workspaces "loss.fce.*", kept between calls)</h2>
 *
 * <ul>
 *   <li>Always: the compacted rows (2·V·D floats, only when some rows are ignored) and a few
 *       per-row values (about 9·V floats).
 *   <li>GEMM: the (B, T) scores, B·T ≤ {@link #SCORE_TILE_FLOATS} (64M floats, 256 MB); for RecJPQ
 *       the decoded tile and its gradient, 2·T·D with T·D ≤ {@link #TILE_TABLE_FLOATS} (16M
 *       floats).
 *   <li>LOOKUP: sub and dSub, 2·B·W with B·W ≤ {@link #LOOKUP_BLOCK_FLOATS} (16M floats), and when
 *       a row is split into several chunks their partial dSub (units·W, bounded by the same
 *       budget).
 * </ul>
 *
 * <h2>Determinism</h2>
 *
 * Tiles, row blocks and chunks depend only on the shapes (and on the engine's mode), reductions
 * have fixed shapes and GEMMs are cuBLAS's (deterministic for a given device and configuration).
 * The two scatters are float atomics by default; with {@link CudaOps#deterministic()} the look-up
 * pass accumulates dSub in 64-bit fixed point (integer atomics, order-independent) and the RecJPQ
 * tile scatter adds each output element's items in order (one owner thread per element), so results
 * are bit-reproducible.
 */
public final class CudaFullCrossEntropy {
  /** How a tile of items is scored. */
  public enum Strategy {
    /** RecJPQ sub-id score tables and M look-ups per (row, item). */
    LOOKUP,
    /** Dense table, or RecJPQ embeddings decoded per tile, scored by GEMMs. */
    GEMM
  }

  /**
   * The shape-only decisions of one call.
   *
   * @param strategy how tiles are scored
   * @param tile items per tile (GEMM) or per chunk (LOOKUP: one thread block's items of one row)
   * @param rowBlock rows per block (B)
   * @param tiles number of tiles (GEMM) or chunks per row (LOOKUP)
   */
  record Plan(Strategy strategy, int tile, int rowBlock, int tiles) {}

  /** The loss and the plan that computed it. */
  record Result(double loss, Plan plan) {}

  /** Score-tile budget of the GEMM strategy: B·T floats (256 MB). */
  static final long SCORE_TILE_FLOATS = 1L << 26;

  /** Budget of a decoded tile (and of its gradient): T·D floats (64 MB each). */
  static final long TILE_TABLE_FLOATS = 1L << 24;

  /** Smallest tile of the GEMM strategy unless N is smaller (thinner GEMMs waste the GPU). */
  static final int MIN_TILE = 256;

  /**
   * Budget of the look-up strategy's sub-score table of a row block: B·W floats (64 MB; dSub the
   * same).
   */
  static final long LOOKUP_BLOCK_FLOATS = 1L << 24;

  /**
   * Thread blocks wanted per pass of the look-up strategy: rows are split into chunks until there
   * are this many.
   */
  static final int LOOKUP_UNITS = 1024;

  /** Smallest chunk of the look-up strategy when rows are split (items per thread block). */
  static final int MIN_CHUNK = 2048;

  /**
   * Cost of one (row, item, split) over both look-up passes: two shared loads, a shared atomic,
   * code bytes.
   */
  static final double LOOKUP_PS = 1.0;

  /** FP32 GEMM speed (no TF32), flops per picosecond. */
  static final double GEMM_FLOPS_PER_PS = 40;

  /**
   * The (B, T) scores' trips through memory per (row, item) over both passes (~24 bytes at ~3
   * TB/s).
   */
  static final double SCORE_PS = 8;

  /** Decoding one embedding float in both passes, plus its share of the scatter. */
  static final double DECODE_PS = 6;

  private CudaFullCrossEntropy() {}

  // ---- planning ------------------------------------------------------------------------------

  /** The cost model of the class comment: LOOKUP or GEMM for V valid rows of RecJPQ items. */
  static Strategy choose(int validRows, int numItems, int splits, int subDim) {
    double v = validRows;
    double n = numItems;
    double d = (double) splits * subDim;
    double lookup = LOOKUP_PS * v * n * splits + 3 * 2.0 * v * 256 * d / GEMM_FLOPS_PER_PS;
    double gemm = DECODE_PS * n * d + v * n * (SCORE_PS + 8 * d / GEMM_FLOPS_PER_PS);
    return gemm < lookup ? Strategy.GEMM : Strategy.LOOKUP;
  }

  /**
   * The plan of a call ({@code force == null}: the cost model; overrides {@code <= 0}: the plan's
   * own). {@code lookupFits}: whether the look-up kernels' shared memory fits the device.
   */
  static Plan plan(
      int validRows,
      int numItems,
      Items t,
      Strategy force,
      int tileOverride,
      int rowBlockOverride,
      boolean lookupFits) {
    Strategy strategy;
    if (!t.isJpq()) {
      if (force == Strategy.LOOKUP) {
        throw new IllegalArgumentException(
            "the look-up strategy needs RecJPQ items, not a dense table.");
      }
      strategy = Strategy.GEMM;
    } else if (force != null) {
      strategy = force;
    } else {
      strategy = lookupFits ? choose(validRows, numItems, t.splits(), t.subDim()) : Strategy.GEMM;
    }
    if (strategy == Strategy.LOOKUP && !lookupFits) {
      throw new IllegalArgumentException(
          "the look-up strategy needs "
              + t.splits()
              + " splits × 256 sub-scores and their gradients in one block's shared memory, more than the device has.");
    }
    int v = Math.max(1, validRows);
    return strategy == Strategy.LOOKUP
        ? lookupPlan(v, numItems, t.splits(), tileOverride, rowBlockOverride)
        : gemmPlan(v, numItems, t.dim(), tileOverride, rowBlockOverride);
  }

  private static Plan lookupPlan(int v, int n, int splits, int tileOverride, int rowBlockOverride) {
    long width = 256L * splits;
    int rowBlock = (int) Math.min(v, Math.max(1, LOOKUP_BLOCK_FLOATS / width));
    if (rowBlockOverride > 0) {
      rowBlock = Math.min(v, rowBlockOverride);
    }
    int chunkLen;
    if (tileOverride > 0) {
      chunkLen = Math.min(n, tileOverride);
    } else {
      // few rows: split each row's items over several blocks so that the GPU is full; the partial
      // dSub of the units stay within the look-up budget
      int chunks = Math.max(1, Math.min(ceilDiv(LOOKUP_UNITS, rowBlock), ceilDiv(n, MIN_CHUNK)));
      chunks = (int) Math.max(1, Math.min(chunks, LOOKUP_BLOCK_FLOATS / ((long) rowBlock * width)));
      chunkLen = ceilDiv(n, chunks);
    }
    return new Plan(Strategy.LOOKUP, chunkLen, rowBlock, ceilDiv(n, chunkLen));
  }

  private static Plan gemmPlan(int v, int n, int d, int tileOverride, int rowBlockOverride) {
    int tile;
    if (tileOverride > 0) {
      tile = Math.min(n, tileOverride);
    } else {
      long byScores =
          SCORE_TILE_FLOATS / v / MIN_TILE * MIN_TILE; // many rows: T·V within the score budget
      long byTable =
          TILE_TABLE_FLOATS / d / MIN_TILE * MIN_TILE; // the decoded tile within its budget
      tile = (int) Math.min(n, Math.max(MIN_TILE, Math.min(byScores, byTable)));
    }
    int rowBlock = (int) Math.min(v, Math.max(1, SCORE_TILE_FLOATS / tile));
    if (rowBlockOverride > 0) {
      rowBlock = Math.min(v, rowBlockOverride);
    }
    return new Plan(Strategy.GEMM, tile, rowBlock, ceilDiv(n, tile));
  }

  // ---- entry ---------------------------------------------------------------------------------

  /**
   * The full cross-entropy with an optional forced strategy ({@code force == null}: the cost
   * model), tile ({@code <= 0}: the plan's) and row block ({@code <= 0}: the plan's);
   * package-private for the tests, which use small tiles to exercise several tiles on small
   * catalogues.
   */
  public static Result run(
      CudaOps ops,
      CudaBuf dH,
      CudaBuf dTable,
      CudaBuf h,
      CudaIntBuf targets,
      Items t,
      int rows,
      int numItems,
      Strategy force,
      int tileOverride,
      int rowBlockOverride) {
    return run(
        ops,
        dH,
        dTable,
        null,
        h,
        targets,
        t,
        null,
        rows,
        numItems,
        force,
        tileOverride,
        rowBlockOverride);
  }

  /**
   * As above with per-item score offsets ({@code bias}, {@code dBias +=}; both null or both given).
   * Offsets take the GEMM strategy whatever the cost model says: each tile's scores get {@code 1 ·
   * biasᵀ} added by a rank-1 GEMM, and {@code dBias += Gᵀ · 1} by another (the look-up kernels have
   * no offsets).
   */
  public static Result run(
      CudaOps ops,
      CudaBuf dH,
      CudaBuf dTable,
      CudaBuf dBias,
      CudaBuf h,
      CudaIntBuf targets,
      Items t,
      CudaBuf bias,
      int rows,
      int numItems,
      Strategy force,
      int tileOverride,
      int rowBlockOverride) {
    int d = t.dim();
    if ((bias == null) != (dBias == null)) {
      throw new IllegalArgumentException(
          "item biases and their gradient come together (one of them is null).");
    }
    if (bias != null) {
      CudaLosses.need("bias", bias, numItems);
      CudaLosses.need("dBias", dBias, numItems);
      if (force == Strategy.LOOKUP) {
        throw new IllegalArgumentException("item biases need the GEMM strategy.");
      }
      force = Strategy.GEMM;
    }
    if (rows < 0 || numItems <= 0) {
      throw new IllegalArgumentException(
          "full cross-entropy needs rows >= 0 and at least one item, got "
              + rows
              + " and "
              + numItems
              + ".");
    }
    t.check(dTable, numItems);
    CudaLosses.need("h", h, (long) rows * d);
    CudaLosses.need("dH", dH, (long) rows * d);
    CudaLosses.needInts("targets", targets, rows);
    int[] host = CudaLosses.hostTargets(ops, targets, rows);
    int[] valid = CudaLosses.validRows(host, numItems);
    int v = valid.length;
    boolean fits =
        t.isJpq()
            && CudaFullCrossEntropyLookup.sharedBytes(t.splits(), ops.deterministic())
                <= maxSharedBytes(ops);
    Plan plan = plan(v, numItems, t, force, tileOverride, rowBlockOverride, fits);
    if (v == 0) {
      if (rows > 0) {
        ops.fill(dH.slice(0, (long) rows * d), 0f);
      }
      return new Result(0, plan);
    }
    CudaFullCrossEntropyPass p =
        new CudaFullCrossEntropyPass(ops, t, h, dH, dTable, host, valid, rows, numItems, plan);
    if (bias != null) {
      p.bias = bias;
      p.dBias = dBias;
      p.ones = ops.workspace("loss.fce.ones", plan.rowBlock());
      ops.fill(p.ones, 1f);
    }
    if (plan.strategy() == Strategy.LOOKUP) {
      CudaFullCrossEntropyLookup.run(p);
    } else {
      CudaFullCrossEntropyGemm.run(p);
    }
    p.finishRows();
    double[] rowLoss = CudaLosses.downloadDoubles(ops, p.rowLoss, v);
    double sum = 0;
    for (double l : rowLoss) {
      sum += l;
    }
    return new Result(sum / v, plan);
  }

  /** The device's opt-in shared memory per block (bytes), the limit of the look-up kernels. */
  static int maxSharedBytes(CudaOps ops) {
    CUdevice device = new CUdevice();
    CudaException.check(cuCtxGetDevice(device), "cuCtxGetDevice()");
    int[] value = new int[1];
    CudaException.check(
        cuDeviceGetAttribute(
            value,
            CUdevice_attribute.CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_BLOCK_OPTIN,
            device),
        "cuDeviceGetAttribute(MAX_SHARED_MEMORY_PER_BLOCK_OPTIN)");
    return value[0];
  }

  static int ceilDiv(int a, int b) {
    return (a + b - 1) / b;
  }
}
