package org.recjpq.backend.cpu;

import org.recjpq.backend.cpu.CpuFullCrossEntropyPass.Scratch;
import org.recjpq.backend.cpu.CpuLosses.ItemTable;

/**
 * Exact softmax cross-entropy over all N items (docs/method.md §4, docs/architecture.md §5), never
 * holding rows × N logits: the items are streamed in tiles of fixed bounds {@code [k·T, (k+1)·T)},
 * twice.
 *
 * <pre>
 *   pass 1, per row: online log-sum-exp over the tiles (running max and sum, in double)
 *           lse_r = max_r + log(sum_r),  loss = Σ_valid (lse_r - score(r, target_r)) / V
 *   pass 2: g[r][i] = (exp(score(r, i) - lse_r) - [i = target_r]) / V, tile by tile, and
 *           dh_r = Σ_i g[r][i] e_i,  dE_i += Σ_r g[r][i] h_r
 * </pre>
 *
 * <p>With item biases, {@code score(r, i) = h_r · e_i + b_i} and {@code db_i += Σ_r g[r][i]} (the
 * GEMM strategy sums each tile's gradient columns per item task; the look-up strategy, whose tasks
 * are rows, adds an item-major pass over each row block). Both keep a fixed summation order.
 *
 * <p>Shapes: R = rows, V = rows with a target (the others are dropped up front and get dH = 0), D =
 * dim, M = splits, S = subDim, N = items, T = tile, B = row block.
 *
 * <p>Two tile strategies (docs/architecture.md §5), each in its own class; a dense table always
 * takes the second without the decode:
 *
 * <ul>
 *   <li>{@link Strategy#LOOKUP} ({@link CpuLookupCrossEntropy}, RecJPQ only): per row the sub-id
 *       score table {@code sub[r][k][j] = h_r[k-block] · codebooks[k][j]} (small GEMMs), then
 *       {@code score(r, i) = Σ_k sub[r][k][codes[i][k]]}; pass 2 accumulates {@code
 *       dSub[r][k][codes[i][k]] += g} (B × M × 256, in double per row) and GEMMs turn it into dh
 *       and dCodebooks. Cost ∝ V·N·M look-ups, and nothing proportional to N·D.
 *   <li>{@link Strategy#GEMM} ({@link CpuGemmCrossEntropy}): decode the tile's embeddings (T × D)
 *       from codes and codebooks, score it with a GEMM (B × D)·(D × T), and in pass 2 {@code dh +=
 *       G·E_t}, {@code dE_t = Gᵀ·H} (GEMMs), then scatter dE_t back into the codebooks by code.
 *       Cost ∝ N·D (decode, shared by all rows) + V·N·D at GEMM speed.
 * </ul>
 *
 * <p>{@link #choose} picks between them with a cost model measured on the 2-core AVX-512 VM of the
 * benchmarks ({@code benchmarks/full-ce-crossover.md}): look-ups for one or a few rows and for
 * large sub-embeddings, decode-then-GEMM for training batches with small S.
 *
 * <p>Determinism: tile bounds, row blocks and the per-row work units depend only on the shapes,
 * never on the thread count. Each row's running max/sum and each dSub row are computed by one task
 * in item order; every GEMM is split into tasks of fixed rows, items or splits, each output element
 * computed by one call; the codebook scatter is parallel over splits (each thread owns whole
 * codebooks) in item order. So the bits do not depend on {@link CpuOps#threads}.
 *
 * <p>Memory: O(B·T + T·D + B·M·256 + B·D) floats of scratch, never V × N (checked by the tests
 * through {@link Result#scratchBytes}). Off-heap scratch comes from one arena per calling thread
 * that grows on demand, so a training loop does not churn direct memory.
 */
final class CpuFullCrossEntropy {
  /** How a tile of items is scored. */
  enum Strategy {
    /** RecJPQ sub-id score tables and M look-ups per (row, item). */
    LOOKUP,
    /** Dense table, or RecJPQ embeddings decoded per tile, scored by GEMMs. */
    GEMM
  }

  /**
   * The shape-only decisions of one call.
   *
   * @param strategy how tiles are scored
   * @param tile items per tile (T)
   * @param rowBlock rows per block (B)
   * @param chunks look-up work units per row (the tiles split into that many contiguous groups, so
   *     a single row still keeps every thread busy); 1 for GEMM
   */
  record Plan(Strategy strategy, int tile, int rowBlock, int chunks) {}

  /** The loss, the plan that computed it, lse per valid row (in row order) and the scratch used. */
  record Result(double loss, Plan plan, double[] lse, long scratchBytes) {}

  /** Default look-up work units wanted per row block (more than any core count we expect). */
  static final int UNITS = 16;

  /**
   * Sub-score budget of the look-up strategy: B·M·256 floats of sub-scores and as many of dSub (8
   * MB each), so B = 1024 rows at M = 8. Big blocks mean few GEMM calls, and OpenBLAS's worker
   * threads busy-wait for a while after each call, taking a core from the look-up loops.
   */
  static final int LOOKUP_BLOCK_FLOATS = 1 << 21;

  /**
   * The GEMM strategy takes the whole catalogue as one tile, in a single pass, when its embeddings
   * are at most this many floats (4 MB; 16,384 items at D = 64): the decoded catalogue is then
   * scratch of that size, never an N × D array of a large catalogue.
   */
  static final int ONE_TILE_TABLE_FLOATS = 1 << 20;

  /** Score budget of one row block in the single pass: B·N floats (16 MB). */
  static final int ONE_TILE_SCORE_FLOATS = 1 << 22;

  /** Score-tile budget of the GEMM strategy: B·T floats. */
  static final int GEMM_TILE_FLOATS = 1 << 18;

  /**
   * Rows per GEMM task. OpenBLAS runs single-threaded (see {@link Blas}: its own worker threads
   * busy-wait after each call and starve the engine's threads), so the GEMMs are split into tasks
   * of fixed bounds on the engine's threads; each output element comes from one call of a fixed
   * shape, so the bits do not depend on the thread count.
   */
  static final int ROW_TASK = 64;

  /**
   * Items per task of the tile-gradient GEMM dE_t = Gᵀ·H (a reduction over rows, so split by
   * items).
   */
  static final int ITEM_TASK = 64;

  private static final ThreadLocal<CpuBuf[]> ARENA = ThreadLocal.withInitial(() -> new CpuBuf[1]);

  private CpuFullCrossEntropy() {}

  // ---- planning ------------------------------------------------------------------------------

  /**
   * The cost model: estimated wall-clock ns per call of each strategy for V valid rows, on the
   * 2-core AVX-512 VM of {@code benchmarks/full-ce-crossover.md}, whose timings fitted the
   * constants. Left out: the 2·V·N exponentials and score copies, the same in both.
   *
   * <pre>
   *   look-up  = LOOKUP_NS · V·N·M  +  3 GEMMs of 2·V·256·D flops (sub-scores, dh, dCodebooks)
   *   GEMM     = DECODE_NS · N·D    +  4 GEMMs of 2·V·N·D flops at gemmRate(V)
   * </pre>
   *
   * So look-ups win for few rows (the decode of N·D floats is not shared by enough rows), and GEMMs
   * win for many rows when M·LOOKUP_NS exceeds 8·D / GEMM rate, i.e. when the sub-embedding size S
   * = D/M is small: 2·M ns against 0.053·D ns per (row, item), so GEMMs can win only when S < 37.
   * Measured: at S = 8 (D = 64, M = 8) GEMMs win from 32 rows (16 rows still look-ups; model: 24);
   * at S = 64 (D = 512, M = 8) look-ups won at every row count measured, up to 25,600 (model: never
   * GEMM). With these constants the model picked the faster strategy in all 49 measured cells; it
   * switches at 47 rows for S = 16 and about 200–270 rows for S = 32.
   */
  static Strategy choose(int validRows, int numItems, int splits, int subDim) {
    double v = validRows;
    double n = numItems;
    double d = (double) splits * subDim;
    double lookup = LOOKUP_NS * v * n * splits + 3 * 2.0 * v * 256 * d / GEMM_FLOPS_PER_NS;
    double gemm = DECODE_NS * n * d + 4 * 2.0 * v * n * d / gemmRate(v);
    return gemm < lookup ? Strategy.GEMM : Strategy.LOOKUP;
  }

  /** Look-up cost per (row, item, split): two gathers and a scatter-add over both passes. */
  static final double LOOKUP_NS = 2.0;

  /** Decode-then-GEMM cost per catalogue embedding float: two decodes, the scatter, small GEMMs. */
  static final double DECODE_NS = 2.5;

  /** SGEMM speed of the large products on the benchmark VM, FLOP per ns (2 threads, 2 tasks). */
  static final double GEMM_FLOPS_PER_NS = 150;

  /**
   * SGEMM speed when one side has only V rows: thin products run far below peak, and fewer than
   * {@link #ROW_TASK} rows are a single task on one core.
   */
  static double gemmRate(double validRows) {
    return Math.max(12, GEMM_FLOPS_PER_NS * Math.min(1.0, validRows / 64));
  }

  /**
   * The plan of a call: strategy, tile and blocks from the shapes ({@code 0} overrides mean
   * "choose").
   */
  static Plan plan(
      int validRows,
      int numItems,
      ItemTable t,
      Strategy force,
      int tileOverride,
      int rowBlockOverride) {
    Strategy strategy =
        !t.isJpq()
            ? Strategy.GEMM
            : force != null ? force : choose(validRows, numItems, t.splits(), t.subDim());
    if (strategy == Strategy.LOOKUP && !t.isJpq()) {
      throw new IllegalArgumentException(
          "the look-up strategy needs RecJPQ items, not a dense table.");
    }
    int v = Math.max(1, validRows);
    int tile;
    int rowBlock;
    int chunks = 1;
    if (strategy == Strategy.LOOKUP) {
      rowBlock = Math.min(v, Math.max(16, LOOKUP_BLOCK_FLOATS / (256 * t.splits())));
      tile = tileOverride > 0 ? tileOverride : 256;
      tile = Math.min(tile, numItems);
      int tiles = ceilDiv(numItems, tile);
      if (v < UNITS) {
        chunks = Math.min(tiles, ceilDiv(UNITS, v));
      }
    } else if (tileOverride <= 0
        && (long) numItems * t.dim() <= ONE_TILE_TABLE_FLOATS
        && numItems <= ONE_TILE_SCORE_FLOATS / ROW_TASK) {
      // A small catalogue is one tile, done in a single pass (three GEMMs, one exponential per
      // score); blocks of rows as long as the (B, N) scores stay within their budget.
      tile = numItems;
      rowBlock =
          Math.min(v, Math.max(ROW_TASK, ONE_TILE_SCORE_FLOATS / numItems / ROW_TASK * ROW_TASK));
    } else {
      // Few rows: long tiles (fewer GEMM calls); many rows: T = 256 and blocks of B = 1024 rows,
      // so the (B, T) scores stay in cache between their GEMM and the exp loop.
      int longest = Math.max(256, Math.min(4096, roundDown((1 << 20) / t.dim(), 16)));
      tile =
          tileOverride > 0
              ? tileOverride
              : Math.max(256, Math.min(longest, roundDown(GEMM_TILE_FLOATS / v, 16)));
      tile = Math.min(tile, numItems);
      rowBlock = Math.min(v, Math.max(16, GEMM_TILE_FLOATS / tile));
    }
    if (rowBlockOverride > 0) {
      rowBlock = Math.min(v, rowBlockOverride);
    }
    return new Plan(strategy, Math.max(1, tile), rowBlock, chunks);
  }

  // ---- entry -----------------------------------------------------------------------------------

  /**
   * The full cross-entropy with an optional forced strategy ({@code force == null}: the cost model)
   * and tile size ({@code tileOverride <= 0}: the plan's); package-private for the tests and the
   * benchmark.
   */
  static Result run(
      CpuOps ops,
      CpuBuf dH,
      CpuBuf dTable,
      CpuBuf h,
      CpuIntBuf targets,
      ItemTable t,
      int rows,
      int numItems,
      Strategy force,
      int tileOverride) {
    return run(ops, dH, dTable, h, targets, t, rows, numItems, force, tileOverride, 0);
  }

  /**
   * As above, also forcing the row block ({@code rowBlockOverride <= 0}: the plan's), for tests.
   */
  static Result run(
      CpuOps ops,
      CpuBuf dH,
      CpuBuf dTable,
      CpuBuf h,
      CpuIntBuf targets,
      ItemTable t,
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
   * As above with per-item score offsets: {@code score(r, i) = h_r · e_i + bias[i]} and {@code
   * dBias[i] += Σ_r g[r][i]} (both null: no offsets).
   */
  static Result run(
      CpuOps ops,
      CpuBuf dH,
      CpuBuf dTable,
      CpuBuf dBias,
      CpuBuf h,
      CpuIntBuf targets,
      ItemTable t,
      CpuBuf bias,
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
      CpuLosses.need("bias", bias, numItems);
      CpuLosses.need("dBias", dBias, numItems);
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
    CpuLosses.need("h", h, (long) rows * d);
    CpuLosses.need("dH", dH, (long) rows * d);
    CpuLosses.needInts("targets", targets, rows);
    int[] valid = validRows(targets, rows, numItems);
    int v = valid.length;
    Plan plan = plan(v, numItems, t, force, tileOverride, rowBlockOverride);
    Scratch scratch = new Scratch();
    if (v == 0) {
      zeroRows(dH, 0, rows, d);
      return new Result(0, plan, new double[0], 0);
    }
    // Only valid rows are computed. With ignored rows, a block of h's valid rows is gathered into a
    // (B, D) scratch when needed, and dH's first V rows hold the valid rows' gradients until they
    // are moved to their places at the end.
    boolean compact = v < rows;
    long arenaFloats = (compact ? (long) plan.rowBlock() * d : 0) + arenaFloats(plan, t);
    CpuBuf arena = arena(arenaFloats, scratch);
    long[] at = {0};
    CpuBuf hBlock = compact ? carve(arena, at, (long) plan.rowBlock() * d) : null;
    int[] tgt = new int[v];
    for (int i = 0; i < v; i++) {
      tgt[i] = targets.get(valid[i]);
    }
    scratch.heap(4L * v);
    CpuFullCrossEntropyPass pass =
        new CpuFullCrossEntropyPass(
            ops,
            t,
            h,
            compact ? valid : null,
            hBlock,
            dH.slice(0, (long) v * d),
            dTable,
            tgt,
            v,
            numItems,
            plan,
            arena.slice(at[0], arena.size - at[0]),
            scratch);
    if (bias != null) {
      pass.bias = bias.slice(0, numItems).toArray();
      pass.dBias = dBias;
      scratch.heap(4L * numItems);
    }
    if (plan.strategy() == Strategy.LOOKUP) {
      CpuLookupCrossEntropy.run(pass);
    } else {
      CpuGemmCrossEntropy.run(pass);
    }
    if (compact) {
      spreadRows(dH, valid, rows, d);
    }
    double sum = 0;
    for (int i = 0; i < v; i++) {
      sum += pass.lse[i] - pass.targetScore[i];
    }
    return new Result(sum / v, plan, pass.lse, scratch.bytes.get());
  }

  // ---- shared by both strategies ---------------------------------------------------------------

  /** Off-heap scratch floats of a plan, beyond the compacted rows. */
  private static long arenaFloats(Plan p, ItemTable t) {
    int d = t.dim();
    if (p.strategy() == Strategy.LOOKUP) {
      return 2L * p.rowBlock() * t.splits() * 256; // sub-scores and dSub of one row block
    }
    long scores = (long) p.rowBlock() * p.tile();
    return scores + (t.isJpq() ? 2L * p.tile() * d : 0); // decoded tile and its gradient
  }

  // ---- helpers -------------------------------------------------------------------------------

  /** Row indices with a target, checking every target is an item. */
  private static int[] validRows(CpuIntBuf targets, int rows, int numItems) {
    int[] valid = new int[CpuLosses.countValid(targets, rows)];
    int v = 0;
    for (int r = 0; r < rows; r++) {
      int tg = targets.get(r);
      if (tg >= numItems) {
        throw new IllegalArgumentException(
            "target "
                + tg
                + " of row "
                + r
                + " is outside the catalogue of "
                + numItems
                + " items.");
      }
      if (tg >= 0) {
        valid[v++] = r;
      }
    }
    return valid;
  }

  /**
   * Moves the valid rows' gradients from dH's first V rows to their own rows, last first (valid row
   * i goes to row valid[i] ≥ i, so nothing is overwritten before it moves), and zeroes the ignored
   * rows.
   */
  private static void spreadRows(CpuBuf dH, int[] valid, int rows, int d) {
    float[] row = new float[d];
    for (int i = valid.length - 1; i >= 0; i--) {
      if (valid[i] != i) {
        dH.data.get(dH.offset + i * d, row, 0, d);
        dH.data.put(dH.offset + valid[i] * d, row, 0, d);
      }
    }
    int next = 0;
    for (int r = 0; r < rows; r++) {
      if (next < valid.length && valid[next] == r) {
        next++;
      } else {
        zeroRows(dH, r, r + 1, d);
      }
    }
  }

  private static void zeroRows(CpuBuf x, int from, int to, int d) {
    for (long i = (long) from * d, end = (long) to * d; i < end; i++) {
      x.data.put(x.offset + (int) i, 0f);
    }
  }

  /** The calling thread's off-heap arena, grown to at least {@code floats}. */
  private static CpuBuf arena(long floats, Scratch scratch) {
    CpuBuf[] holder = ARENA.get();
    if (holder[0] == null || holder[0].size < floats) {
      holder[0] = null; // let the old arena go before allocating the new one
      holder[0] = CpuBuf.allocate(Math.max(floats, 1024));
    }
    scratch.bytes.addAndGet(4 * floats);
    return holder[0].slice(0, floats);
  }

  static CpuBuf carve(CpuBuf arena, long[] at, long floats) {
    CpuBuf x = arena.slice(at[0], floats);
    at[0] += floats;
    return x;
  }

  static int ceilDiv(int a, int b) {
    return (a + b - 1) / b;
  }

  private static int roundDown(int a, int multiple) {
    return Math.max(multiple, a / multiple * multiple);
  }
}
