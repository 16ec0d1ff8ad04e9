// Multi-head attention: the two row kernels between the cuBLAS GEMMs of CudaAttention.java (the
// CPU specification is CpuAttention.java). Shapes: B batch, T len, H heads; ids (B, T), an id < 0
// is PAD. Each row is handled by one warp (blockDim.x must be a multiple of 32; the rows are walked
// with a grid-stride loop over warps, so any grid size gives the same result).
//
// attention_softmax_kernel: probs (B, H, T, T) holds the scaled scores S = q_h k_hᵀ / sqrt(dh)
//   (written by the GEMMs); it is OVERWRITTEN in place by P = softmax over each row, with the
//   masks fused: key j is masked when ids[b, j] is PAD or (causal) j > i. Masked entries become
//   exactly 0 and their scores are never read; a PAD query row (ids[b, i] < 0) becomes all 0. The
//   row sum is accumulated in double and its inverse rounded once to float, as on the CPU.
//
// attention_softmax_backward_kernel: for one head h, ds (B, T, T) holds dP = dOut_h v_hᵀ (written
//   by a GEMM); it is OVERWRITTEN in place by dS = P ⊙ (dP − Σ_j dP·P), with P read from probs
//   (B, H, T, T) at head h. Entries with P = 0 (masked keys) get exactly 0 and do not enter the
//   row sum, so a non-finite dP there cannot spread; a PAD query row becomes all 0 (nothing flows
//   from it). The 1/sqrt(dh) factor is not applied here: the dq and dk GEMMs carry it as alpha.
#include "common.cuh"

#include <math.h>

// rows = B·H·T: row r is query i = r mod T of head (r / T) mod H of sequence r / (T·H).
extern "C" __global__ void attention_softmax_kernel(long long rows, int len, int heads, int causal,
                                                    float* __restrict__ probs,
                                                    const int* __restrict__ ids) {
  const int lane = threadIdx.x & 31;
  const long long warps = (long long)gridDim.x * (blockDim.x >> 5);
  for (long long r = ((long long)blockIdx.x * blockDim.x + threadIdx.x) >> 5; r < rows; r += warps) {
    const int i = (int)(r % len);
    const long long b = r / len / heads;
    const int* __restrict__ seq = ids + b * len;
    float* __restrict__ row = probs + r * len;
    if (seq[i] < 0) {  // PAD query: the whole row is 0
      for (int j = lane; j < len; j += 32) row[j] = 0.f;
      continue;
    }
    const int end = causal ? i + 1 : len;  // keys [0, end) pass the causal mask
    float max = -INFINITY;
    for (int j = lane; j < end; j += 32) {
      if (seq[j] >= 0) max = fmaxf(max, row[j]);
    }
    max = recjpq_warp_max(max);
    if (max == -INFINITY) {  // no unmasked key (cannot happen for a real query, which sees itself)
      for (int j = lane; j < len; j += 32) row[j] = 0.f;
      continue;
    }
    double sum = 0.0;
    for (int j = lane; j < len; j += 32) {
      const float e = (j < end && seq[j] >= 0) ? expf(row[j] - max) : 0.f;
      row[j] = e;  // masked entries: exactly 0
      sum += e;
    }
    const float inv = (float)(1.0 / recjpq_warp_sum(sum));
    for (int j = lane; j < end; j += 32) row[j] *= inv;  // each lane rescales what it wrote
  }
}

// rows = B·T for head `head`: row r is query i = r mod T of sequence b = r / T; its dS row is at
// ds + r·T and its P row at probs + ((b·H + head)·T + i)·T.
extern "C" __global__ void attention_softmax_backward_kernel(long long rows, int len, int heads, int head,
                                                             float* __restrict__ ds,
                                                             const float* __restrict__ probs,
                                                             const int* __restrict__ ids) {
  const int lane = threadIdx.x & 31;
  const long long warps = (long long)gridDim.x * (blockDim.x >> 5);
  for (long long r = ((long long)blockIdx.x * blockDim.x + threadIdx.x) >> 5; r < rows; r += warps) {
    const long long b = r / len;
    const int i = (int)(r % len);
    float* __restrict__ d = ds + r * len;
    if (ids[r] < 0) {  // PAD query (ids is (B, T), so its index is r): nothing flows from it
      for (int j = lane; j < len; j += 32) d[j] = 0.f;
      continue;
    }
    const float* __restrict__ p = probs + ((b * heads + head) * len + i) * len;
    double dot = 0.0;
    for (int j = lane; j < len; j += 32) {
      const float pj = p[j];
      if (pj != 0.f) dot += (double)d[j] * pj;
    }
    const float rowDot = (float)recjpq_warp_sum(dot);
    for (int j = lane; j < len; j += 32) {
      const float pj = p[j];
      d[j] = pj != 0.f ? pj * (d[j] - rowDot) : 0.f;
    }
  }
}
