// Toolchain probe kernel: proves the fatbin loads and a kernel launched through JCuda computes
// what Java computes. y[i] = a * x[i] + y[i] over n floats (saxpy); exact for small-integer inputs,
// so the device check compares bit for bit. Nothing is fused; it exists only for the device check.
#include "common.cuh"

extern "C" __global__ void saxpy_probe_kernel(int n, float a, const float* __restrict__ x,
                                              float* __restrict__ y) {
  RECJPQ_GRID_STRIDE(i, n) { y[i] = fmaf(a, x[i], y[i]); }
}
