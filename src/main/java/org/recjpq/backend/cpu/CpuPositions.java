package org.recjpq.backend.cpu;

import static org.recjpq.backend.cpu.CpuBuf.of;

import org.recjpq.backend.Buf;
import org.recjpq.backend.IntBuf;
import org.recjpq.util.Parallel;

/**
 * The embedding-position ops of {@link CpuOps}: positional embeddings, id mapping, special-token
 * vectors and PAD-row masking.
 */
final class CpuPositions {
  private final CpuOps ops;

  CpuPositions(CpuOps ops) {
    this.ops = ops;
  }

  void forward(
      Buf out, Buf in, IntBuf ids, Buf positions, float inScale, int batch, int len, int dim) {
    CpuBuf o = of(out);
    CpuBuf x = of(in);
    CpuBuf p = of(positions);
    CpuIntBuf id = CpuIntBuf.of(ids);
    Parallel.forRange(
        batch * len,
        ops.threads,
        (from, to) -> {
          for (int r = from; r < to; r++) {
            int t = r % len;
            boolean pad = id.get(r) < 0;
            for (int j = 0; j < dim; j++) {
              float v =
                  pad
                      ? 0f
                      : inScale * x.data.get(x.offset + r * dim + j)
                          + p.data.get(p.offset + t * dim + j);
              o.data.put(o.offset + r * dim + j, v);
            }
          }
        });
  }

  void backward(
      Buf dIn, Buf dPositions, Buf dOut, IntBuf ids, float inScale, int batch, int len, int dim) {
    CpuBuf di = of(dIn);
    CpuBuf dp = of(dPositions);
    CpuBuf d = of(dOut);
    CpuIntBuf id = CpuIntBuf.of(ids);
    Parallel.forRange(
        batch * len,
        ops.threads,
        (from, to) -> {
          for (int r = from; r < to; r++) {
            boolean pad = id.get(r) < 0;
            for (int j = 0; j < dim; j++) {
              di.data.put(
                  di.offset + r * dim + j, pad ? 0f : inScale * d.data.get(d.offset + r * dim + j));
            }
          }
        });
    Parallel.forRange(
        len,
        ops.threads,
        (from, to) -> { // each position row summed over the batch in order
          for (int t = from; t < to; t++) {
            for (int b = 0; b < batch; b++) {
              int r = b * len + t;
              if (id.get(r) < 0) {
                continue;
              }
              for (int j = 0; j < dim; j++) {
                int pi = dp.offset + t * dim + j;
                dp.data.put(pi, dp.data.get(pi) + d.data.get(d.offset + r * dim + j));
              }
            }
          }
        });
  }

  void mapIds(IntBuf out, IntBuf in, int rows, int from, int to) {
    CpuIntBuf o = CpuIntBuf.of(out);
    CpuIntBuf i = CpuIntBuf.of(in);
    for (int r = 0; r < rows; r++) {
      int v = i.get(r);
      o.data[o.offset + r] = v == from ? to : v;
    }
  }

  void addTokenVector(Buf x, IntBuf ids, int token, Buf vector, int rows, int dim) {
    CpuBuf b = of(x);
    CpuIntBuf id = CpuIntBuf.of(ids);
    float[] v = of(vector).toArray();
    for (int r = 0; r < rows; r++) {
      if (id.get(r) == token) {
        for (int j = 0; j < dim; j++) {
          b.data.put(b.offset + r * dim + j, b.data.get(b.offset + r * dim + j) + v[j]);
        }
      }
    }
  }

  void addTokenVectorBackward(Buf dVector, Buf dx, IntBuf ids, int token, int rows, int dim) {
    CpuBuf d = of(dx);
    CpuBuf dv = of(dVector);
    CpuIntBuf id = CpuIntBuf.of(ids);
    float[] acc = dv.toArray();
    for (int r = 0; r < rows; r++) {
      if (id.get(r) == token) {
        for (int j = 0; j < dim; j++) {
          acc[j] += d.data.get(d.offset + r * dim + j);
        }
      }
    }
    dv.put(acc);
  }

  void maskPadRows(Buf x, IntBuf ids, int rows, int dim) {
    CpuBuf b = of(x);
    CpuIntBuf id = CpuIntBuf.of(ids);
    Parallel.forRange(
        rows,
        ops.threads,
        (from, to) -> {
          for (int r = from; r < to; r++) {
            if (id.get(r) < 0) {
              for (int j = 0; j < dim; j++) {
                b.data.put(b.offset + r * dim + j, 0f);
              }
            }
          }
        });
  }
}
