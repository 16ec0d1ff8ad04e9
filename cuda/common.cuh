// Shared device helpers for the recjpq kernels. Included by the kernel files; the unity build
// (see CMakeLists.txt) may include it several times, hence the guard.
#ifndef RECJPQ_COMMON_CUH
#define RECJPQ_COMMON_CUH

#include <cstdint>
#include <math.h>

// Grid-stride loop over [0, n): every kernel that walks a flat range uses it, so launch sizes
// can be capped without changing results.
#define RECJPQ_GRID_STRIDE(i, n) \
  for (long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x; i < (long long)(n); \
       i += (long long)blockDim.x * gridDim.x)

// ---- warp and block reductions: the only ones the kernels use -------------------------------------
// Butterfly (xor) shuffles over all 32 lanes, so every lane gets the result; the order of the
// additions is fixed, so results do not depend on scheduling. The caller's warp must be whole.

static __device__ __forceinline__ float recjpq_warp_sum(float v) {
  for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
  return v;
}

static __device__ __forceinline__ double recjpq_warp_sum(double v) {
  for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
  return v;
}

static __device__ __forceinline__ float recjpq_warp_max(float v) {
  for (int o = 16; o > 0; o >>= 1) v = fmaxf(v, __shfl_xor_sync(0xffffffffu, v, o));
  return v;
}

static __device__ __forceinline__ double recjpq_warp_max(double v) {
  for (int o = 16; o > 0; o >>= 1) v = fmax(v, __shfl_xor_sync(0xffffffffu, v, o));
  return v;
}

// Block-wide reductions for blocks of whole warps (at most 32 of them); `red` is shared memory of
// one slot per warp. Every thread of the block must call them, and gets the result.
static __device__ __forceinline__ float recjpq_block_max(float v, float* red) {
  v = recjpq_warp_max(v);
  const int warp = threadIdx.x >> 5;
  const int lane = threadIdx.x & 31;
  __syncthreads();  // red may still be read by a previous reduction
  if (lane == 0) red[warp] = v;
  __syncthreads();
  v = lane < (blockDim.x >> 5) ? red[lane] : -INFINITY;
  return recjpq_warp_max(v);
}

static __device__ __forceinline__ double recjpq_block_sum(double v, double* red) {
  v = recjpq_warp_sum(v);
  const int warp = threadIdx.x >> 5;
  const int lane = threadIdx.x & 31;
  __syncthreads();
  if (lane == 0) red[warp] = v;
  __syncthreads();
  v = lane < (blockDim.x >> 5) ? red[lane] : 0.0;
  return recjpq_warp_sum(v);
}

#endif  // RECJPQ_COMMON_CUH
