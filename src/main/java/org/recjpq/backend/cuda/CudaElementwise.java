package org.recjpq.backend.cuda;

import org.recjpq.backend.Activation;
import org.recjpq.backend.Buf;
import org.recjpq.backend.CounterRng;

/**
 * The element-wise ops of {@link CudaOps}: scaling, norms and finiteness checks, activations, sums,
 * and dropout.
 */
final class CudaElementwise {
  private final CudaOps ops;

  CudaElementwise(CudaOps ops) {
    this.ops = ops;
  }

  void scale(Buf x, float alpha) {
    CudaBuf b = CudaBuf.of(x);
    ops.launchFlat(Kernels.SCALE, b.size, b.size, alpha, b);
  }

  double sumOfSquares(Buf x) {
    CudaBuf b = CudaBuf.of(x);
    if (b.size == 0) {
      return 0;
    }
    int chunk = 1 << 16; // as the CPU: one double partial per 65,536 elements, added in order
    int chunks = (int) ((b.size + chunk - 1) / chunk);
    CudaBuf part = ops.workspace("core.sumsq", 2L * chunks); // doubles
    ops.module()
        .launch(
            Kernels.SUM_SQUARES,
            chunks,
            CudaOps.THREADS,
            CudaOps.THREADS * Double.BYTES,
            b.size,
            chunk,
            b,
            DevicePointer.doubles(part, 0));
    float[] raw = new float[2 * chunks];
    ops.download(raw, part);
    double sum = 0;
    for (int c = 0; c < chunks; c++) {
      long bits =
          (Integer.toUnsignedLong(Float.floatToRawIntBits(raw[2 * c + 1])) << 32)
              | Integer.toUnsignedLong(Float.floatToRawIntBits(raw[2 * c]));
      sum += Double.longBitsToDouble(bits);
    }
    return sum;
  }

  boolean hasNonFinite(Buf x) {
    CudaBuf b = CudaBuf.of(x);
    if (b.size == 0) {
      return false;
    }
    CudaIntBuf flag = ops.workspaceInts("core.flag", 1);
    ops.fillInts(flag, 0);
    ops.launchFlat(Kernels.NON_FINITE, b.size, b.size, b, flag);
    int[] f = new int[1];
    ops.download(f, flag);
    return f[0] != 0;
  }

  void activationForward(Buf out, Buf in, Activation act) {
    CudaBuf o = CudaBuf.of(out);
    CudaBuf x = CudaBuf.of(in);
    CudaBuf.sameSize(o, x);
    ops.launchFlat(
        Kernels.ACTIVATION_FORWARD, o.size, o.size, act == Activation.RELU ? 0 : 1, o, x);
  }

  void activationBackward(Buf dIn, Buf dOut, Buf in, Activation act) {
    CudaBuf di = CudaBuf.of(dIn);
    CudaBuf x = CudaBuf.of(in);
    CudaBuf.sameSize(di, x);
    ops.launchFlat(
        Kernels.ACTIVATION_BACKWARD,
        di.size,
        di.size,
        act == Activation.RELU ? 0 : 1,
        di,
        CudaBuf.of(dOut),
        x);
  }

  void add(Buf out, Buf a, Buf b) {
    CudaBuf o = CudaBuf.of(out);
    CudaBuf x = CudaBuf.of(a);
    CudaBuf y = CudaBuf.of(b);
    CudaBuf.sameSize(o, x);
    CudaBuf.sameSize(o, y);
    ops.launchFlat(Kernels.ADD, o.size, o.size, o, x, y);
  }

  /** Dropout forward ({@code o, x} = out, in) or backward ({@code o, x} = dIn, dOut). */
  void dropout(CudaBuf o, CudaBuf x, float p, long seed, long stream) {
    CudaBuf.sameSize(o, x);
    if (!(p >= 0f && p < 1f)) {
      throw new IllegalArgumentException("dropout probability must be in [0, 1), got " + p);
    }
    float keepScale = 1f / (1f - p);
    long key = CounterRng.key(seed, stream);
    long threshold =
        (long)
            Math.ceil(p * (double) (1 << 24)); // as the CPU: keep when (bits >>> 40) >= threshold
    ops.launchFlat(Kernels.DROPOUT, o.size, o.size, key, threshold, keepScale, o, x);
  }
}
