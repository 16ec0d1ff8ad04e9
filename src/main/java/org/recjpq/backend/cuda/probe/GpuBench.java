package org.recjpq.backend.cuda.probe;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import org.recjpq.backend.CounterRng;
import org.recjpq.backend.ItemTable;
import org.recjpq.backend.cuda.CudaAvailability;
import org.recjpq.backend.cuda.CudaBuf;
import org.recjpq.backend.cuda.CudaByteBuf;
import org.recjpq.backend.cuda.CudaEmulator;
import org.recjpq.backend.cuda.CudaFullCrossEntropy;
import org.recjpq.backend.cuda.CudaIntBuf;
import org.recjpq.backend.cuda.CudaLosses;
import org.recjpq.backend.cuda.CudaOps;

/**
 * The GPU-side benchmarks of the device check (llm.c {@code dev/cuda} style): the card's measured
 * peaks (a device-to-device copy, a large SGEMM in FP32 and TF32), each hot kernel's achieved
 * bandwidth against the copy, and the exact full-softmax CE over a large catalogue: the fused
 * RecJPQ head against the chunked dense alternative (cuBLAS logits + softmax per tile), time per
 * step and device memory. Prints a markdown table and a {@code summary:} line.
 *
 * <pre>
 *   java -cp ... org.recjpq.backend.cuda.probe.GpuBench [--items N] [--rows R] [--dim D] [--splits M]
 * </pre>
 */
public final class GpuBench {
  private final CudaOps ops;
  private final List<String> rows = new ArrayList<>();
  private double copyGbps;

  private GpuBench(CudaOps ops) {
    this.ops = ops;
  }

  private static String refusal() {
    try {
      CudaEmulator.refuseToTime("GpuBench");
      return "";
    } catch (IllegalStateException e) {
      return e.getMessage();
    }
  }

  public static void main(String[] args) {
    if (CudaEmulator.selected()) {
      System.err.println("GpuBench: " + refusal());
      System.exit(2);
    }
    int items = 1_271_638;
    int rows = 128 * 200;
    int dim = 64;
    int splits = 8;
    for (int i = 0; i + 1 < args.length; i += 2) {
      int v = Integer.parseInt(args[i + 1]);
      switch (args[i]) {
        case "--items" -> items = v;
        case "--rows" -> rows = v;
        case "--dim" -> dim = v;
        case "--splits" -> splits = v;
        default -> throw new IllegalArgumentException("unknown option " + args[i]);
      }
    }
    try (CudaOps ops = CudaOps.open(0, false)) {
      if (CudaAvailability.report().emulated()) {
        throw new IllegalStateException(refusal());
      }
      GpuBench b = new GpuBench(ops);
      System.out.println("| benchmark | time per call | rate | vs peak |");
      System.out.println("|---|---|---|---|");
      b.copy();
      b.sgemm();
      b.hotKernels(rows, dim, splits);
      String ce = b.fullCe(items, rows, dim, splits);
      System.out.println(
          "summary: copy " + String.format(Locale.ROOT, "%.0f GB/s", b.copyGbps) + "; " + ce);
    }
  }

  /** Seconds per call of {@code body}, the median of 5 timed batches after one warm-up call. */
  private double time(int reps, Runnable body) {
    body.run();
    ops.synchronize();
    double[] t = new double[5];
    for (int k = 0; k < t.length; k++) {
      long t0 = System.nanoTime();
      for (int i = 0; i < reps; i++) {
        body.run();
      }
      ops.synchronize();
      t[k] = (System.nanoTime() - t0) / 1e9 / reps;
    }
    java.util.Arrays.sort(t);
    return t[2];
  }

  private void row(String name, double seconds, String rate, String vsPeak) {
    String line =
        String.format(Locale.ROOT, "| %s | %.3f ms | %s | %s |", name, seconds * 1e3, rate, vsPeak);
    rows.add(line);
    System.out.println(line);
  }

  private static String gbps(double bytes, double seconds) {
    return String.format(Locale.ROOT, "%.0f GB/s", bytes / seconds / 1e9);
  }

  private String ofCopy(double bytes, double seconds) {
    return String.format(Locale.ROOT, "%.0f%% of copy", 100 * bytes / seconds / 1e9 / copyGbps);
  }

  private void copy() {
    long n = 1L << 28; // 1 GiB of floats each way
    CudaBuf a = ops.alloc(n);
    CudaBuf b = ops.alloc(n);
    double s = time(5, () -> ops.copy(b, a));
    copyGbps = 2.0 * n * 4 / s / 1e9; // bytes read + written
    row("device-to-device copy, 1 GiB", s, gbps(2.0 * n * 4, s), "peak (read + write)");
  }

  private void sgemm() {
    int n = 8192;
    CudaBuf a = ops.alloc((long) n * n);
    CudaBuf b = ops.alloc((long) n * n);
    CudaBuf c = ops.alloc((long) n * n);
    for (boolean tf32 : new boolean[] {false, true}) {
      ops.setTf32(tf32);
      double s = time(3, () -> ops.gemm(false, false, n, n, n, 1f, a, n, b, n, 0f, c, n));
      row(
          "SGEMM 8192^3 " + (tf32 ? "TF32" : "FP32"),
          s,
          String.format(Locale.ROOT, "%.1f TFLOP/s", 2.0 * n * n * n / s / 1e12),
          "peak (" + (tf32 ? "TF32" : "FP32") + ")");
    }
    ops.setTf32(false);
  }

  private void hotKernels(int rows, int dim, int splits) {
    int sub = dim / splits;
    int items = 1_000_000;
    SplittableRandom rnd = new SplittableRandom(1);
    int[] idHost = new int[rows];
    for (int i = 0; i < rows; i++) {
      idHost[i] = rnd.nextInt(items);
    }
    CudaIntBuf ids = ops.allocInts(rows);
    ops.upload(ids, idHost);
    byte[] codeHost = new byte[items * splits];
    for (int i = 0; i < codeHost.length; i++) {
      codeHost[i] = (byte) rnd.nextInt(256);
    }
    CudaByteBuf codes = ops.allocBytes(codeHost.length);
    ops.upload(codes, codeHost);
    CudaBuf codebooks = ops.alloc((long) splits * 256 * sub);
    CudaBuf out = ops.alloc((long) rows * dim);
    ItemTable jpq = ops.jpqTable(codes, items, splits, sub);
    double s = time(20, () -> jpq.lookup(out, ids, codebooks, rows));
    double bytes =
        (double) rows * dim * 4 * 2
            + (double) rows * (4 + splits); // out + gathered rows, ids, codes
    row(
        "RecJPQ embedding forward (" + rows + " rows, d " + dim + ")",
        s,
        gbps(bytes, s),
        ofCopy(bytes, s));
    CudaBuf dCb = ops.alloc((long) splits * 256 * sub);
    s = time(20, () -> jpq.lookupBackward(dCb, out, ids, rows));
    row("RecJPQ embedding backward (atomics)", s, gbps(bytes, s), ofCopy(bytes, s));
    long n = 1L << 24;
    CudaBuf p = ops.alloc(n);
    CudaBuf g = ops.alloc(n);
    CudaBuf m = ops.alloc(n);
    CudaBuf v = ops.alloc(n);
    int[] step = {1};
    s = time(20, () -> ops.adamStep(p, g, m, v, 1e-3f, 0.9f, 0.98f, 1e-8f, 0f, step[0]++));
    bytes = 7.0 * n * 4; // read p, g, m, v; write p, m, v
    row("Adam over 16M parameters", s, gbps(bytes, s), ofCopy(bytes, s));
    CudaBuf x = ops.alloc((long) rows * dim);
    CudaBuf y = ops.alloc((long) rows * dim);
    CudaBuf mean = ops.alloc(rows);
    CudaBuf rstd = ops.alloc(rows);
    CudaBuf gamma = ops.alloc(dim);
    CudaBuf beta = ops.alloc(dim);
    ops.fill(gamma, 1f);
    s = time(20, () -> ops.layerNormForward(y, mean, rstd, x, gamma, beta, rows, dim, 1e-8f));
    bytes = (double) rows * dim * 4 * 2;
    row("layer norm forward (" + rows + " x " + dim + ")", s, gbps(bytes, s), ofCopy(bytes, s));
    s = time(20, () -> ops.dropoutForward(y, x, 0.2f, 42, CounterRng.stream(1, 1)));
    row("dropout forward", s, gbps(bytes, s), ofCopy(bytes, s));
  }

  /** The fused RecJPQ full CE against the chunked dense one; returns a summary phrase. */
  private String fullCe(int items, int rows, int dim, int splits) {
    int sub = dim / splits;
    SplittableRandom rnd = new SplittableRandom(2);
    float[] hHost = new float[rows * dim];
    for (int i = 0; i < hHost.length; i++) {
      hHost[i] = (float) (rnd.nextGaussian() * 0.1);
    }
    int[] tHost = new int[rows];
    for (int i = 0; i < rows; i++) {
      tHost[i] = rnd.nextInt(items);
    }
    CudaBuf h = ops.alloc(hHost.length);
    ops.upload(h, hHost);
    CudaIntBuf targets = ops.allocInts(rows);
    ops.upload(targets, tHost);
    CudaBuf dH = ops.alloc(hHost.length);
    byte[] codeHost = new byte[items * splits];
    for (int i = 0; i < codeHost.length; i++) {
      codeHost[i] = (byte) rnd.nextInt(256);
    }
    CudaByteBuf codes = ops.allocBytes(codeHost.length);
    ops.upload(codes, codeHost);
    CudaBuf codebooks = ops.alloc((long) splits * 256 * sub);
    CudaBuf dCodebooks = ops.alloc((long) splits * 256 * sub);
    ItemTable jpq = ops.jpqTable(codes, items, splits, sub);
    long free0 = ops.memoryInfo()[0];
    double sJpq = time(3, () -> jpq.fullCrossEntropy(dH, dCodebooks, h, targets, codebooks, rows));
    long jpqMib = (free0 - ops.memoryInfo()[0]) >> 20;
    double flops =
        2.0 * 3 * rows * (double) items * dim; // scores twice (two passes) + one gradient GEMM
    row(
        String.format(
            Locale.ROOT,
            "full CE, RecJPQ fused head (%d rows x %,d items, d %d)",
            rows,
            items,
            dim),
        sJpq,
        String.format(
            Locale.ROOT, "%.1f TFLOP/s-equiv, +%d MiB workspace", flops / sJpq / 1e12, jpqMib),
        "-");
    CudaLosses.Items jpqItems = CudaLosses.Items.jpq(codes, codebooks, splits, sub);
    for (CudaFullCrossEntropy.Strategy force : CudaFullCrossEntropy.Strategy.values()) {
      long freeF = ops.memoryInfo()[0];
      double sForced =
          time(
              3,
              () ->
                  CudaFullCrossEntropy.run(
                      ops, dH, dCodebooks, h, targets, jpqItems, rows, items, force, 0, 0));
      row(
          "full CE, RecJPQ, strategy forced to " + force,
          sForced,
          String.format(
              Locale.ROOT,
              "%.1f TFLOP/s-equiv, +%d MiB workspace",
              flops / sForced / 1e12,
              (freeF - ops.memoryInfo()[0]) >> 20),
          "-");
    }
    CudaBuf table = ops.alloc((long) items * dim);
    CudaBuf dTable = ops.alloc((long) items * dim);
    ItemTable dense = ops.denseTable(items, dim);
    long free1 = ops.memoryInfo()[0];
    double sDense = time(3, () -> dense.fullCrossEntropy(dH, dTable, h, targets, table, rows));
    long denseMib = (free1 - ops.memoryInfo()[0]) >> 20;
    long tableMib = 2L * items * dim * 4 >> 20;
    row(
        "full CE, dense table, chunked (cuBLAS logits + softmax per tile)",
        sDense,
        String.format(
            Locale.ROOT,
            "%.1f TFLOP/s, +%d MiB workspace, %d MiB table + gradient",
            flops / sDense / 1e12,
            denseMib,
            tableMib),
        "-");
    long naiveMib = (long) rows * items * 4 >> 20;
    String naive =
        String.format(
            Locale.ROOT,
            "materialised logits (PyTorch's straightforward CE) need %,d MiB for the "
                + "logits alone, %,d MiB with their gradient",
            naiveMib,
            2 * naiveMib);
    System.out.println("| " + naive + " | - | - | - |");
    return String.format(
        Locale.ROOT,
        "full CE %,d items: RecJPQ %.1f ms, dense chunked %.1f ms; %s",
        items,
        sJpq * 1e3,
        sDense * 1e3,
        naive);
  }
}
