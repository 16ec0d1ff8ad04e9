package org.recjpq.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.recjpq.backend.Buf;
import org.recjpq.backend.ByteBuf;
import org.recjpq.backend.IntBuf;
import org.recjpq.backend.LossContract;
import org.recjpq.backend.Ops;
import org.recjpq.backend.cuda.CudaFullCrossEntropy.Plan;
import org.recjpq.backend.cuda.CudaFullCrossEntropy.Result;
import org.recjpq.backend.cuda.CudaLosses.Items;

/**
 * The loss contract on the CUDA engine (deterministic mode, as {@link CudaTestEngines} opens it),
 * plus what only the CUDA engine has: its float-atomic (non-deterministic) paths checked against
 * the CPU on a second engine, bit-reproducibility of the deterministic mode, and the planner (pure
 * Java, so those tests run without a GPU too). Tagged {@code gpu}; without a GPU the engine tests
 * are skipped with the reason.
 */
@Tag("gpu")
class CudaLossContractTest extends LossContract {
  @Override
  protected Ops openEngine() {
    return CudaTestEngines.open();
  }

  @Override
  protected FullCeRun fullCrossEntropyForced(
      Ops under,
      Forced plan,
      Buf dH,
      Buf dTable,
      Buf h,
      IntBuf targets,
      Head head,
      int rows,
      int numItems) {
    Result r =
        CudaFullCrossEntropy.run(
            (CudaOps) under,
            CudaBuf.of(dH),
            CudaBuf.of(dTable),
            CudaBuf.of(h),
            CudaIntBuf.of(targets),
            items(head),
            rows,
            numItems,
            strategy(plan.strategy()),
            plan.tile(),
            plan.rowBlock());
    return new FullCeRun(r.loss(), Strategy.valueOf(r.plan().strategy().name()), r.plan().tiles());
  }

  private static Items items(Head head) {
    return head.isJpq()
        ? Items.jpq(
            CudaByteBuf.of(head.codes()),
            CudaBuf.of(head.codebooks()),
            head.splits(),
            head.subDim())
        : Items.dense(CudaBuf.of(head.table()), head.dim());
  }

  private static CudaFullCrossEntropy.Strategy strategy(Strategy s) {
    return s == null ? null : CudaFullCrossEntropy.Strategy.valueOf(s.name());
  }

  // ---- the float-atomic paths ----------------------------------------------------------------

  /**
   * The default (non-deterministic) engine: scatters by float atomics, dSub by shared float
   * atomics.
   */
  @Test
  void atomicPathsAgreeWithTheReference() {
    engine(); // skips without a GPU
    try (CudaOps atomic = CudaOps.open(0, false)) {
      checkSampledScores(atomic, false, false);
      checkSampledScores(atomic, true, false);
      checkSampledScores(
          atomic, true, true); // small integers: atomics in any order are still exact
      FullCeProblem dense = fullCeProblem(81, false, 13, 301, 4, 6, new int[] {2, 7});
      FullCeProblem jpq = fullCeProblem(82, true, 13, 301, 4, 6, new int[] {2, 7});
      checkFullCe(atomic, dense, null);
      checkFullCe(atomic, dense, new Forced(Strategy.GEMM, 37, 4));
      checkFullCe(atomic, jpq, null);
      for (Strategy s : Strategy.values()) {
        checkFullCe(atomic, jpq, new Forced(s, 37, 4));
        checkFullCe(atomic, jpq, new Forced(s, 0, 0));
      }
    }
  }

  /**
   * Many splits: the look-up kernels' shared memory passes the 48 KiB a block may use without
   * opting in (M = 48: the log-sum-exp kernel's 48 KiB table plus its 384 static bytes, which a
   * real card refuses unless the kernel is opted in; M = 75: the largest deterministic table and
   * fixed-point dSub, 225 KiB of the H100's 227).
   */
  @Test
  void lookupKernelsWithManySplitsOptInToMoreSharedMemory() {
    CudaOps ops = (CudaOps) engine();
    for (int m : new int[] {48, 75}) {
      FullCeProblem p = fullCeProblem(95 + m, true, 5, 301, m, 1, new int[] {3});
      checkFullCe(ops, p, new Forced(Strategy.LOOKUP, 0, 0));
      checkFullCe(ops, p, new Forced(Strategy.LOOKUP, 37, 2));
    }
    try (CudaOps atomic = CudaOps.open(0, false)) {
      checkFullCe(
          atomic,
          fullCeProblem(97, true, 5, 301, 48, 1, new int[] {3}),
          new Forced(Strategy.LOOKUP, 0, 0));
    }
  }

  // ---- determinism -----------------------------------------------------------------------------

  /** The deterministic engine gives the same bits twice, for every strategy and tiling. */
  @Test
  void deterministicModeIsBitReproducible() {
    CudaOps ops = (CudaOps) engine();
    assertTrue(ops.deterministic());
    FullCeProblem p = fullCeProblem(91, true, 13, 301, 4, 6, new int[] {5});
    Forced[] plans = {
      new Forced(Strategy.LOOKUP, 37, 4),
      new Forced(Strategy.LOOKUP, 0, 0),
      new Forced(Strategy.GEMM, 37, 4),
      new Forced(Strategy.GEMM, 0, 0)
    };
    for (Forced plan : plans) {
      JpqRun first = runJpq(ops, p, plan);
      JpqRun second = runJpq(ops, p, plan);
      assertEquals(first.loss(), second.loss(), 0.0, plan + ": the loss differs between two runs");
      assertArrayEquals(first.dH(), second.dH(), plan + ": dH differs between two runs");
      assertArrayEquals(
          first.dCodebooks(), second.dCodebooks(), plan + ": dCodebooks differs between two runs");
    }
  }

  private record JpqRun(double loss, float[] dH, float[] dCodebooks) {}

  /** One forced RecJPQ run on fresh buffers. */
  private JpqRun runJpq(CudaOps ops, FullCeProblem p, Forced plan) {
    int d = p.m() * p.s();
    Buf h = up(ops, p.h());
    Buf cb = up(ops, p.weights());
    IntBuf t = up(ops, p.targets());
    ByteBuf codes = up(ops, p.codes());
    Buf dh = filled(ops, p.rows() * d, Float.NaN);
    Buf dcb = up(ops, p.dWeights());
    FullCeRun run =
        fullCrossEntropyForced(
            ops, plan, dh, dcb, h, t, new Head(null, codes, cb, d, p.m(), p.s()), p.rows(), p.n());
    return new JpqRun(run.loss(), host(ops, dh), host(ops, dcb));
  }

  // ---- the planner (no GPU needed) -------------------------------------------------------------

  @Test
  void plannerBoundsTheScratchAndSplitsFewRowsIntoChunks() {
    Items dense = new Items(null, null, null, 0, 0, 512);
    Items jpq = Items.jpq(new CudaByteBuf(null, 0, 8_000_000), null, 8, 64); // shapes only
    // a training batch over a million items: (B, T) scores within 64M floats, several tiles
    Plan g = CudaFullCrossEntropy.plan(25_600, 1_000_000, dense, null, 0, 0, true);
    assertEquals(CudaFullCrossEntropy.Strategy.GEMM, g.strategy());
    assertTrue(
        (long) g.rowBlock() * g.tile() <= CudaFullCrossEntropy.SCORE_TILE_FLOATS, g.toString());
    assertTrue((long) g.tile() * 512 <= CudaFullCrossEntropy.TILE_TABLE_FLOATS, g.toString());
    assertTrue(g.tiles() > 1, g.toString());
    // one user: the look-up strategy, each row's items split over many blocks
    Plan one = CudaFullCrossEntropy.plan(1, 1_000_000, jpq, null, 0, 0, true);
    assertEquals(CudaFullCrossEntropy.Strategy.LOOKUP, one.strategy());
    assertTrue(one.tiles() > 100, one.toString());
    assertTrue((long) one.tile() * one.tiles() >= 1_000_000, one.toString());
    // a training batch: row blocks within the look-up budget
    Plan batch = CudaFullCrossEntropy.plan(25_600, 1_000_000, jpq, null, 0, 0, true);
    assertEquals(CudaFullCrossEntropy.Strategy.LOOKUP, batch.strategy());
    assertTrue(
        (long) batch.rowBlock() * batch.tiles() * 256 * 8
            <= CudaFullCrossEntropy.LOOKUP_BLOCK_FLOATS,
        batch.toString());
    // when the look-up kernels do not fit the device's shared memory, GEMM
    assertEquals(
        CudaFullCrossEntropy.Strategy.GEMM,
        CudaFullCrossEntropy.plan(25_600, 1_000_000, jpq, null, 0, 0, false).strategy());
    // forced tiles: ceil(N / tile) of them
    Plan forced =
        CudaFullCrossEntropy.plan(10, 301, jpq, CudaFullCrossEntropy.Strategy.GEMM, 37, 4, true);
    assertEquals(
        Arrays.asList(37, 4, 9), Arrays.asList(forced.tile(), forced.rowBlock(), forced.tiles()));
  }

  @Test
  void costModelPicksLookupsForTypicalShapesAndGemmForTinySubEmbeddings() {
    assertEquals(
        CudaFullCrossEntropy.Strategy.LOOKUP,
        CudaFullCrossEntropy.choose(25_600, 1_000_000, 8, 64));
    assertEquals(
        CudaFullCrossEntropy.Strategy.LOOKUP, CudaFullCrossEntropy.choose(1, 1_000_000, 8, 8));
    assertEquals(
        CudaFullCrossEntropy.Strategy.GEMM, CudaFullCrossEntropy.choose(25_600, 1_000_000, 64, 1));
  }
}
