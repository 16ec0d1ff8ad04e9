// Candidate selection for exact batched top-K on the GPU (serving; the CPU specification is
// BatchScorer's GEMM strategy, the host side GpuBatchScorer.java through CudaTopK.java).
//
// The host scores one tile of items for B queries with cuBLAS (FP32, no TF32) into scores (B, T),
// then, per tile:
//   topk_select_kernel   one block per row: the k'-th largest score of the row's tile, found by a
//                        radix select over the scores' order-preserving 32-bit keys (4 passes of
//                        8 bits, histograms in shared memory); running[b] = max(running[b], it).
//                        Rows whose tile holds fewer than k' items leave running[b] as it is.
//   topk_collect_kernel  every item of the tile whose score is >= running[b] - window[b] is
//                        appended to row b's candidate list (ids[b][0, cap)); counts[b] counts all
//                        of them, so the host sees when a list overflowed.
// Why this is exact: running[b] never exceeds the k'-th largest BLAS score of the whole catalogue,
// k' = K + (items the row excludes), and window[b] bounds twice |BLAS score - canonical score|, so
// every item of the true top-K (by canonical score) is collected (see GpuBatchScorer). The host
// re-scores the candidates canonically, which decides the ranking and the ties.
//
// Overwrite/accumulate: running (max into), counts (+=) and ids (appended) carry over from tile to
// tile; the host resets them per batch.
#include "common.cuh"

// Larger float -> larger key (finite values and infinities; scores are finite).
__device__ __forceinline__ unsigned int topk_key(float f) {
  unsigned int u = __float_as_uint(f);
  return (u & 0x80000000u) ? ~u : (u | 0x80000000u);
}

__device__ __forceinline__ float topk_unkey(unsigned int u) {
  return __uint_as_float((u & 0x80000000u) ? (u & 0x7fffffffu) : ~u);
}

// grid: rows blocks; block: any multiple of 32 threads (the host uses 256).
extern "C" __global__ void topk_select_kernel(int rows, int nt, const float* __restrict__ scores,
                                              const int* __restrict__ kprime, float* __restrict__ running) {
  int row = blockIdx.x;
  if (row >= rows) {
    return;
  }
  int k = kprime[row];
  if (k < 1 || k > nt) {
    return;  // uniform over the block: fewer than k' items in this tile, no bound from it
  }
  const float* s = scores + (size_t)row * nt;
  __shared__ unsigned int hist[256];
  __shared__ unsigned int prefix;
  __shared__ unsigned int mask;
  __shared__ int remaining;
  if (threadIdx.x == 0) {
    prefix = 0u;
    mask = 0u;
    remaining = k;
  }
  for (int shift = 24; shift >= 0; shift -= 8) {
    for (int i = threadIdx.x; i < 256; i += blockDim.x) {
      hist[i] = 0u;
    }
    __syncthreads();
    unsigned int p = prefix;
    unsigned int msk = mask;
    for (int i = threadIdx.x; i < nt; i += blockDim.x) {
      unsigned int u = topk_key(s[i]);
      if ((u & msk) == p) {
        atomicAdd(&hist[(u >> shift) & 255u], 1u);
      }
    }
    __syncthreads();
    if (threadIdx.x == 0) {
      // the k'-th largest key among those matching the prefix lies in the highest bin where the
      // count from the top reaches `remaining`
      unsigned int above = 0u;
      unsigned int rem = (unsigned int)remaining;
      int bin = 255;
      for (; bin > 0; bin--) {
        if (above + hist[bin] >= rem) {
          break;
        }
        above += hist[bin];
      }
      remaining = (int)(rem - above);
      prefix = p | ((unsigned int)bin << shift);
      mask = msk | (255u << shift);
    }
    __syncthreads();
  }
  if (threadIdx.x == 0) {
    float kth = topk_unkey(prefix);
    if (kth > running[row]) {
      running[row] = kth;
    }
  }
}

// grid: (ceil(nt / blockDim.x), rows); ids (rows, cap); item ids are i0 + position in the tile.
// Rows with k' = 0 are left to the host's CPU fallback and collect nothing.
extern "C" __global__ void topk_collect_kernel(int rows, int nt, int i0, const float* __restrict__ scores,
                                               const int* __restrict__ kprime, const float* __restrict__ running,
                                               const float* __restrict__ window, int cap, int* __restrict__ counts,
                                               int* __restrict__ ids) {
  int row = blockIdx.y;
  int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (row >= rows || i >= nt || kprime[row] == 0) {
    return;
  }
  float lim = running[row] - window[row];  // -inf while no tile has bounded the row: take all
  if (scores[(size_t)row * nt + i] >= lim) {
    int slot = atomicAdd(&counts[row], 1);
    if (slot < cap) {
      ids[(size_t)row * cap + slot] = i0 + i;
    }
  }
}
