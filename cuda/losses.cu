// Sampled scoring heads and sampled losses (the CPU specification: CpuLosses.java).
//
// Shapes (declared once): R rows, C = cols = 1 + n (column 0 the positive, 1..n the negatives),
// D = dim, M = splits, S = subDim (D = M·S), N items.
//   h (R, D); items, scores, dScores, logQ (R, C); targets (R);
//   table (N, D) for a dense head, or codes (N, M) bytes + codebooks (M, 256, S) for RecJPQ, where
//   item i's embedding is the concatenation over k of codebooks[k][codes[i][k]].
// Every kernel takes `codes`: a null pointer means the dense table, otherwise `table` is the
// codebooks. Nothing of size N is touched except the rows of the items named in `items`.
//
// Semantics (as the CPU): rows with targets[r] < 0 are ignored (score 0, loss 0, gradient exactly 0);
// an item id < 0 is PAD (score 0, no gradient). Scores and dH OVERWRITE; dTable / dCodebooks
// ACCUMULATE (+=). Losses write per-row losses in double (the host sums them in row order) and
// dScores (overwrite) already carrying the 1/(valid rows) of the mean.
//
// What is fused: the RecJPQ decode is folded into the gathers (no decoded (R, C, D) tensor); the
// loss kernels compute the loss and its gradient in one pass over the scores.
//
// Two scatter paths into the item-side gradient: `*_atomic_kernel` (float atomics, fast, the
// order of the additions and so the last bits vary run to run) and `*_ordered_kernel` (no float
// atomics: every output element is owned by one thread, which adds the (r, c) entries in order,
// exactly as the CPU does, with the multiply and the add rounded separately as in Java, so the
// bits equal the CPU engine's). The ordered kernel gives each warp a group of 32 columns and one of
// P "partitions" (item % P for a dense table, code % P for RecJPQ): a warp scans every (r, c) entry
// in order and adds only the items it owns, so R·C·D work is spread over P·D/32 warps without any
// two threads writing one element.
#include "common.cuh"

// Index into `table` of element j (0 <= j < D) of item `item`'s embedding: a row of the dense
// table, or the sub-embedding of split j / S picked by the item's code.
static __device__ __forceinline__ long long loss_embedding_index(const unsigned char* __restrict__ codes,
                                                                 int m, int s, int d, int item, int j) {
  if (codes == nullptr) return (long long)item * d + j;
  int k = j / s;
  return (long long)(k * 256 + codes[(long long)item * m + k]) * s + (j - k * s);
}

// log(1 + exp(x)) and 1 / (1 + exp(-x)), the stable forms of CpuMath, in double.
static __device__ __forceinline__ double loss_softplus(double x) {
  return x > 0 ? x + log1p(exp(-x)) : log1p(exp(x));
}

static __device__ __forceinline__ double loss_sigmoid(double x) {
  if (x >= 0) return 1.0 / (1.0 + exp(-x));
  double e = exp(x);
  return e / (1.0 + e);
}

// scores[r][c] = h[r] · e(items[r][c]), 0 on ignored rows and PAD items. One warp per (r, c):
// the lanes split D, then a warp sum.
extern "C" __global__ void loss_sampled_scores_kernel(int rows, int cols, int d, int m, int s,
                                                      float* __restrict__ scores,
                                                      const float* __restrict__ h,
                                                      const int* __restrict__ items,
                                                      const int* __restrict__ targets,
                                                      const float* __restrict__ table,
                                                      const unsigned char* __restrict__ codes) {
  const long long entries = (long long)rows * cols;
  const int lane = threadIdx.x & 31;
  const long long warps = ((long long)gridDim.x * blockDim.x) >> 5;
  for (long long e = ((long long)blockIdx.x * blockDim.x + threadIdx.x) >> 5; e < entries; e += warps) {
    int r = (int)(e / cols);
    int item = items[e];
    float acc = 0.f;
    if (targets[r] >= 0 && item >= 0) {  // uniform over the warp
      const float* hr = h + (long long)r * d;
      for (int j = lane; j < d; j += 32) acc = fmaf(hr[j], table[loss_embedding_index(codes, m, s, d, item, j)], acc);
      acc = recjpq_warp_sum(acc);
    }
    if (lane == 0) scores[e] = acc;
  }
}

// dH[r][j] = Σ_c dScores[r][c] · e(items[r][c])[j] over non-PAD items, c in order (overwrite; 0 on
// ignored rows). One thread per (r, j).
extern "C" __global__ void loss_sampled_scores_dh_kernel(int rows, int cols, int d, int m, int s,
                                                         float* __restrict__ dH,
                                                         const float* __restrict__ dScores,
                                                         const int* __restrict__ items,
                                                         const int* __restrict__ targets,
                                                         const float* __restrict__ table,
                                                         const unsigned char* __restrict__ codes) {
  RECJPQ_GRID_STRIDE(x, (long long)rows * d) {
    int r = (int)(x / d);
    int j = (int)(x - (long long)r * d);
    float acc = 0.f;
    if (targets[r] >= 0) {
      const long long base = (long long)r * cols;
      for (int c = 0; c < cols; c++) {
        int item = items[base + c];
        if (item >= 0) acc = fmaf(dScores[base + c], table[loss_embedding_index(codes, m, s, d, item, j)], acc);
      }
    }
    dH[x] = acc;
  }
}

// dTable[e(item)][j] += dScores[r][c] · h[r][j] with float atomics: one thread per (r, c, j).
extern "C" __global__ void loss_sampled_scores_dtable_atomic_kernel(int rows, int cols, int d, int m, int s,
                                                                    float* __restrict__ dTable,
                                                                    const float* __restrict__ dScores,
                                                                    const float* __restrict__ h,
                                                                    const int* __restrict__ items,
                                                                    const int* __restrict__ targets,
                                                                    const unsigned char* __restrict__ codes) {
  RECJPQ_GRID_STRIDE(x, (long long)rows * cols * d) {
    long long e = x / d;
    int j = (int)(x - e * d);
    int r = (int)(e / cols);
    int item = items[e];
    if (targets[r] >= 0 && item >= 0) {
      atomicAdd(dTable + loss_embedding_index(codes, m, s, d, item, j), dScores[e] * h[(long long)r * d + j]);
    }
  }
}

// The same without float atomics (see the header): warp w = (partition p, column group g), lane →
// column j = 32·g + lane. The warp walks every (r, c) in order; the lane adds when it owns the
// item (dense: item % P == p; RecJPQ: code of split j / S % P == p). The product and the sum are
// rounded separately (no FMA), as Java's `dc += g * h`.
extern "C" __global__ void loss_sampled_scores_dtable_ordered_kernel(int rows, int cols, int d, int m, int s,
                                                                     int parts, float* __restrict__ dTable,
                                                                     const float* __restrict__ dScores,
                                                                     const float* __restrict__ h,
                                                                     const int* __restrict__ items,
                                                                     const int* __restrict__ targets,
                                                                     const unsigned char* __restrict__ codes) {
  const int groups = (d + 31) / 32;
  const long long warp = ((long long)blockIdx.x * blockDim.x + threadIdx.x) >> 5;
  if (warp >= (long long)groups * parts) return;  // whole warps leave together
  const int p = (int)(warp / groups);
  const int j = (int)(warp % groups) * 32 + (threadIdx.x & 31);
  if (j >= d) return;
  const int k = codes == nullptr ? 0 : j / s;
  for (int r = 0; r < rows; r++) {
    if (targets[r] < 0) continue;
    const long long base = (long long)r * cols;
    const float hj = h[(long long)r * d + j];
    for (int c = 0; c < cols; c++) {
      int item = items[base + c];
      if (item < 0) continue;
      int owner = codes == nullptr ? item % parts : codes[(long long)item * m + k] % parts;
      if (owner != p) continue;
      long long dst = loss_embedding_index(codes, m, s, d, item, j);
      dTable[dst] = __fadd_rn(dTable[dst], __fmul_rn(dScores[base + c], hj));
    }
  }
}

// gBCE over scores (R, C): row_loss = (beta·softplus(-s_pos) + Σ softplus(s_neg)) / C, in double;
// dScores = d row_loss / d s · norm with norm = 1 / (valid · C), 0 on ignored rows. One warp per
// row, lanes over the columns. rowLoss (R doubles): 0 on ignored rows.
extern "C" __global__ void loss_bce_kernel(int rows, int cols, float beta, double norm,
                                           float* __restrict__ dScores, double* __restrict__ rowLoss,
                                           const float* __restrict__ scores,
                                           const int* __restrict__ targets) {
  const int lane = threadIdx.x & 31;
  const long long warps = ((long long)gridDim.x * blockDim.x) >> 5;
  for (long long r = ((long long)blockIdx.x * blockDim.x + threadIdx.x) >> 5; r < rows; r += warps) {
    const long long base = r * cols;
    if (targets[r] < 0) {
      for (int c = lane; c < cols; c += 32) dScores[base + c] = 0.f;
      if (lane == 0) rowLoss[r] = 0.0;
      continue;
    }
    double loss = 0.0;
    for (int c = lane; c < cols; c += 32) {
      double x = scores[base + c];
      if (c == 0) {
        loss += beta * loss_softplus(-x);
        dScores[base] = (float)(-beta * loss_sigmoid(-x) * norm);
      } else {
        loss += loss_softplus(x);
        dScores[base + c] = (float)(loss_sigmoid(x) * norm);
      }
    }
    loss = recjpq_warp_sum(loss);
    if (lane == 0) rowLoss[r] = loss / cols;
  }
}

// Sampled softmax with logQ correction: logits = scores - logQ (double), row_loss = lse - logits[0],
// dScores = (softmax - [c = 0]) · inv with inv = 1 / valid, 0 on ignored rows. One warp per row.
extern "C" __global__ void loss_sampled_softmax_kernel(int rows, int cols, double inv,
                                                       float* __restrict__ dScores, double* __restrict__ rowLoss,
                                                       const float* __restrict__ scores,
                                                       const float* __restrict__ logQ,
                                                       const int* __restrict__ targets) {
  const int lane = threadIdx.x & 31;
  const long long warps = ((long long)gridDim.x * blockDim.x) >> 5;
  for (long long r = ((long long)blockIdx.x * blockDim.x + threadIdx.x) >> 5; r < rows; r += warps) {
    const long long base = r * cols;
    if (targets[r] < 0) {
      for (int c = lane; c < cols; c += 32) dScores[base + c] = 0.f;
      if (lane == 0) rowLoss[r] = 0.0;
      continue;
    }
    double mx = -INFINITY;
    for (int c = lane; c < cols; c += 32) mx = fmax(mx, (double)scores[base + c] - logQ[base + c]);
    mx = recjpq_warp_max(mx);
    double sum = 0.0;
    for (int c = lane; c < cols; c += 32) sum += exp((double)scores[base + c] - logQ[base + c] - mx);
    sum = recjpq_warp_sum(sum);
    const double lse = mx + log(sum);
    for (int c = lane; c < cols; c += 32) {
      double p = exp((double)scores[base + c] - logQ[base + c] - lse);
      dScores[base + c] = (float)((c == 0 ? p - 1.0 : p) * inv);
    }
    if (lane == 0) rowLoss[r] = lse - ((double)scores[base] - logQ[base]);
  }
}
