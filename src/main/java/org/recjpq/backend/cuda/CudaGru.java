package org.recjpq.backend.cuda;

/**
 * The GRU layer of the CUDA engine ({@link CudaOps#gruForward}, {@link CudaOps#gruBackward}); the
 * specification is the CPU engine's {@code CpuGru}, whose equations, weight layout, PAD handling
 * and saved gates this class reproduces. GEMMs go to cuBLAS, the element-wise work of each time
 * step to one kernel of {@code cuda/gru.cu}; everything runs in order on the engine's stream.
 *
 * <p><b>Forward.</b> One GEMM gives the input projections of all steps, {@code Gi = x·W_ihᵀ} (B·T,
 * 3H), in the workspace {@code gru.forward}. Then for t = 0..T-1: for t &gt; 0 a GEMM {@code Gh =
 * h_{t-1}·W_hhᵀ} (B, 3H), where {@code h_{t-1}} is read in place from y (rows {@code b·T + t-1},
 * leading dimension T·H); then {@code gru_forward_step_kernel} adds both biases, computes r, z, n
 * and h_t, and writes {@code y[:, t]} and {@code gates[:, t]}. At t = 0 no GEMM runs (h₀ = 0). A
 * PAD step writes zeros to y and gates; since the next step reads its {@code h_{t-1}} from y, it
 * restarts from 0 with no extra state.
 *
 * <p><b>Backward through time</b>, workspace {@code gru.backward} = dGi, dGh (both B·T × 3H), the
 * previous states {@code Hprev} (B·T × H) and the carried gradient {@code carry} (B × H, zero at
 * the start). For t = T-1..0, {@code gru_backward_step_kernel} forms {@code dh = dy_t + carry},
 * writes the gate pre-activation gradients {@code dGi[:, t] = [da_r, da_z, da_n]} and {@code dGh[:,
 * t] = [da_r, da_z, da_n·r]}, {@code Hprev[:, t] = h_{t-1}} and {@code carry = dh·z}; for t &gt; 0
 * a GEMM then adds {@code dGh[:, t]·W_hh} to the carry, giving the gradient of {@code h_{t-1}}. A
 * PAD step writes zeros (nothing flows through it, and the carry into the step before restarts from
 * 0). After the loop, one GEMM each: {@code dx = dGi·W_ih} (overwritten), {@code dW_ih += dGiᵀ·x},
 * {@code dW_hh += dGhᵀ·Hprev} (all steps at once instead of one GEMM per step as the CPU does; same
 * sum, another order), and column sums {@code db_ih += Σ dGi}, {@code db_hh += Σ dGh}. dy, x, y and
 * gates are only read.
 *
 * <p>Per step the work is two launches in the forward and two in the backward, so short sequences
 * with small batches are launch-bound; cuDNN's RNN API is the alternative for those.
 */
final class CudaGru {
  private CudaGru() {}

  static void forward(
      CudaOps ops,
      CudaBuf y,
      CudaBuf gates,
      CudaBuf x,
      CudaBuf wIh,
      CudaBuf wHh,
      CudaBuf bIh,
      CudaBuf bHh,
      CudaIntBuf ids,
      int batch,
      int len,
      int in,
      int hidden) {
    int rows = batch * len;
    if (rows == 0 || hidden == 0) {
      return;
    }
    int h3 = 3 * hidden;
    checkSize("y", y, (long) rows * hidden);
    checkSize("gates", gates, (long) rows * 4 * hidden);
    checkSize("x", x, (long) rows * in);
    checkSize("wIh", wIh, (long) h3 * in);
    checkSize("wHh", wHh, (long) h3 * hidden);
    checkSize("bIh", bIh, h3);
    checkSize("bHh", bHh, h3);
    long giSize = (long) rows * h3;
    CudaBuf work = ops.workspace("gru.forward", giSize + (long) batch * h3);
    CudaBuf gi = work.slice(0, giSize);
    CudaBuf gh = work.slice(giSize, (long) batch * h3);
    ops.gemm(false, true, rows, h3, in, 1f, x, in, wIh, in, 0f, gi, h3);
    long strideY = (long) len * hidden;
    for (int t = 0; t < len; t++) {
      if (t > 0) {
        CudaBuf hPrev = y.slice((long) (t - 1) * hidden, (long) (batch - 1) * strideY + hidden);
        ops.gemm(false, true, batch, h3, hidden, 1f, hPrev, len * hidden, wHh, hidden, 0f, gh, h3);
      }
      ops.launchFlat(
          Kernels.GRU_FORWARD_STEP,
          (long) batch * hidden,
          batch,
          len,
          hidden,
          t,
          gi,
          gh,
          bIh,
          bHh,
          ids,
          y,
          gates);
    }
  }

  static void backward(
      CudaOps ops,
      CudaBuf dx,
      CudaBuf dWih,
      CudaBuf dWhh,
      CudaBuf dBih,
      CudaBuf dBhh,
      CudaBuf dy,
      CudaBuf x,
      CudaBuf y,
      CudaBuf gates,
      CudaBuf wIh,
      CudaBuf wHh,
      CudaIntBuf ids,
      int batch,
      int len,
      int in,
      int hidden) {
    int rows = batch * len;
    if (rows == 0) {
      return;
    }
    int h3 = 3 * hidden;
    checkSize("dx", dx, (long) rows * in);
    checkSize("dWih", dWih, (long) h3 * in);
    checkSize("dWhh", dWhh, (long) h3 * hidden);
    checkSize("dBih", dBih, h3);
    checkSize("dBhh", dBhh, h3);
    checkSize("dy", dy, (long) rows * hidden);
    checkSize("x", x, (long) rows * in);
    checkSize("y", y, (long) rows * hidden);
    checkSize("gates", gates, (long) rows * 4 * hidden);
    checkSize("wIh", wIh, (long) h3 * in);
    checkSize("wHh", wHh, (long) h3 * hidden);
    if (hidden == 0) {
      ops.fill(dx, 0f); // dx = dGi·W_ih with 3H = 0 terms
      return;
    }
    long gSize = (long) rows * h3;
    long hSize = (long) rows * hidden;
    long carrySize = (long) batch * hidden;
    CudaBuf work = ops.workspace("gru.backward", 2 * gSize + hSize + carrySize);
    CudaBuf dGi = work.slice(0, gSize);
    CudaBuf dGh = work.slice(gSize, gSize);
    CudaBuf hPrev = work.slice(2 * gSize, hSize);
    CudaBuf carry = work.slice(2 * gSize + hSize, carrySize);
    ops.fill(carry, 0f);
    long strideG = (long) len * h3;
    for (int t = len - 1; t >= 0; t--) {
      ops.launchFlat(
          Kernels.GRU_BACKWARD_STEP,
          (long) batch * hidden,
          batch,
          len,
          hidden,
          t,
          dy,
          y,
          gates,
          ids,
          carry,
          dGi,
          dGh,
          hPrev);
      if (t > 0) {
        // carry (B, H) += dGh[:, t] (B, 3H; rows b·T + t) · W_hh (3H, H)
        CudaBuf dGhStep = dGh.slice((long) t * h3, (long) (batch - 1) * strideG + h3);
        ops.gemm(
            false, false, batch, hidden, h3, 1f, dGhStep, len * h3, wHh, hidden, 1f, carry, hidden);
      }
    }
    ops.gemm(false, false, rows, in, h3, 1f, dGi, h3, wIh, in, 0f, dx, in);
    ops.gemm(true, false, h3, in, rows, 1f, dGi, h3, x, in, 1f, dWih, in);
    ops.gemm(true, false, h3, hidden, rows, 1f, dGh, h3, hPrev, hidden, 1f, dWhh, hidden);
    ops.columnSumsInto(dBih, dGi, rows, h3);
    ops.columnSumsInto(dBhh, dGh, rows, h3);
  }

  private static void checkSize(String what, CudaBuf b, long expected) {
    if (b.size < expected) {
      throw new IllegalArgumentException(
          "GRU: " + what + " holds " + b.size + " floats, the shape needs " + expected);
    }
  }
}
