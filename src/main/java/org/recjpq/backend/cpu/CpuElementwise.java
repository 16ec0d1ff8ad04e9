package org.recjpq.backend.cpu;

import static org.recjpq.backend.cpu.CpuBuf.of;

import org.recjpq.backend.Activation;
import org.recjpq.backend.Buf;
import org.recjpq.backend.CounterRng;
import org.recjpq.util.Parallel;

/**
 * The element-wise ops of {@link CpuOps}: scaling, norms and finiteness checks, activations, sums
 * and dropout.
 */
final class CpuElementwise {
  private final CpuOps ops;

  CpuElementwise(CpuOps ops) {
    this.ops = ops;
  }

  void scale(Buf x, float alpha) {
    CpuBuf b = of(x);
    ops.forChunks(
        b.size,
        (from, to) -> {
          for (int i = from; i < to; i++) {
            b.data.put(b.offset + i, alpha * b.data.get(b.offset + i));
          }
        });
  }

  double sumOfSquares(Buf x) {
    CpuBuf b = of(x);
    int chunk = 1 << 16;
    int chunks = (b.size + chunk - 1) / chunk;
    double[] part = new double[chunks];
    Parallel.forRange(
        chunks,
        ops.threads,
        1,
        (from, to) -> {
          for (int c = from; c < to; c++) {
            double s = 0;
            for (int i = c * chunk, end = Math.min(b.size, i + chunk); i < end; i++) {
              double v = b.data.get(b.offset + i);
              s += v * v;
            }
            part[c] = s;
          }
        });
    double sum = 0;
    for (double p : part) {
      sum += p; // fixed order: independent of the thread count
    }
    return sum;
  }

  boolean hasNonFinite(Buf x) {
    CpuBuf b = of(x);
    for (int i = 0; i < b.size; i++) {
      if (!Float.isFinite(b.data.get(b.offset + i))) {
        return true;
      }
    }
    return false;
  }

  void activationForward(Buf out, Buf in, Activation act) {
    CpuBuf o = of(out);
    CpuBuf x = of(in);
    CpuBuf.sameSize(o, x);
    ops.forChunks(
        o.size,
        (from, to) -> {
          for (int i = from; i < to; i++) {
            float u = x.data.get(x.offset + i);
            o.data.put(o.offset + i, act == Activation.RELU ? Math.max(u, 0f) : CpuMath.gelu(u));
          }
        });
  }

  void activationBackward(Buf dIn, Buf dOut, Buf in, Activation act) {
    CpuBuf di = of(dIn);
    CpuBuf d = of(dOut);
    CpuBuf x = of(in);
    CpuBuf.sameSize(di, x);
    ops.forChunks(
        di.size,
        (from, to) -> {
          for (int i = from; i < to; i++) {
            float u = x.data.get(x.offset + i);
            float g = d.data.get(d.offset + i);
            di.data.put(
                di.offset + i,
                act == Activation.RELU ? (u > 0f ? g : 0f) : g * CpuMath.geluGrad(u));
          }
        });
  }

  void add(Buf out, Buf a, Buf b) {
    CpuBuf o = of(out);
    CpuBuf x = of(a);
    CpuBuf y = of(b);
    CpuBuf.sameSize(o, x);
    CpuBuf.sameSize(o, y);
    ops.forChunks(
        o.size,
        (from, to) -> {
          for (int i = from; i < to; i++) {
            o.data.put(o.offset + i, x.data.get(x.offset + i) + y.data.get(y.offset + i));
          }
        });
  }

  /** Dropout forward ({@code o, x} = out, in) or backward ({@code o, x} = dIn, dOut). */
  void dropout(CpuBuf o, CpuBuf x, float p, long seed, long stream) {
    CpuBuf.sameSize(o, x);
    if (!(p >= 0f && p < 1f)) {
      throw new IllegalArgumentException("dropout probability must be in [0, 1), got " + p);
    }
    float keepScale = 1f / (1f - p);
    long key = CounterRng.key(seed, stream);
    // uniform >= p  <=>  (bits >>> 40) >= p · 2^24 (both exact), compared as integers
    long threshold = (long) Math.ceil(p * (double) (1 << 24));
    float[] factor = {keepScale, 0f}; // indexed by the drop bit: no unpredictable branch
    ops.forChunks(
        o.size,
        (from, to) -> {
          float[] v = new float[to - from];
          x.data.get(x.offset + from, v, 0, v.length);
          for (int i = 0; i < v.length; i++) {
            int drop = (int) (((CounterRng.bitsAt(key, from + i) >>> 40) - threshold) >>> 63);
            v[i] *= factor[drop];
          }
          o.data.put(o.offset + from, v, 0, v.length);
        });
  }
}
