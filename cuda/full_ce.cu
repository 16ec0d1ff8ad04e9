// Exact softmax cross-entropy over all N catalogue items, streamed (docs/method.md §4, docs/architecture.md §5; the CPU
// specification: CpuFullCrossEntropy.java and its two strategy classes). The host side is
// CudaFullCrossEntropy*.java, which plans the tiles and calls these kernels and cuBLAS.
//
// Shapes (declared once): V valid rows (rows with a target; the host compacts them), B rows of one
// block (the pointers passed in already point at the block's first row), D = dim, M splits,
// S = subDim (D = M·S), W = M·256 (one row's sub-id table), N items, T items of one tile.
//   h, dh (V, D); tgt (V); codes (N, M) bytes; codebooks, dCodebooks (M, 256, S);
//   scores (B, T) of the decode-then-GEMM strategy; sub, dsub (B, W) of the look-up strategy;
//   per row: running max (float), running sum (double), target score, lse (float), loss (double).
//
//   pass 1: lse_r = max_r + log Σ_i exp(score(r, i) − max_r)   online, tile by tile / chunk by chunk
//   pass 2: g(r, i) = (exp(score(r, i) − lse_r) − [i = target_r]) / V, recomputed from the scores
//
// Strategy "GEMM" (decode-then-GEMM): full_ce_decode_kernel rebuilds a tile's embeddings (T, D);
// cuBLAS scores it; full_ce_tile_lse_kernel folds a tile into the running max/sum (pass 1);
// full_ce_tile_grad_kernel turns the scores into g in place (pass 2), after which cuBLAS forms dh
// and the tile's embedding gradient (T, D), which full_ce_scatter_*_kernel adds into dCodebooks by
// code. When the whole catalogue is one tile, full_ce_row_softmax_kernel does lse and g in one pass.
//
// Strategy "LOOKUP" (RecJPQ only): sub[r][k][j] = h_r[k-block] · codebooks[k][j] comes from a
// batched GEMM; full_ce_lookup_lse_kernel / full_ce_lookup_grad_*_kernel keep a row's table (W
// floats) in shared memory and score an item with M look-ups; pass 2 accumulates
// dsub[r][k][codes[i][k]] += g in shared memory (fused with the scoring and the softmax: nothing
// per item is written to global memory) and writes it out once per (row, chunk) unit. Batched
// GEMMs then form dh and dCodebooks from dsub.
//
// Determinism: every reduction has a fixed shape (block trees, chunks merged in order). The two
// places where threads add into one location have two variants: *_atomic_kernel with float
// atomics (fast, last bits vary run to run), and a deterministic one:
//   full_ce_lookup_grad_fixed_kernel accumulates g in 64-bit fixed point (integer atomics are
//     associative, so the sum does not depend on the order; |Σ g| <= 2 per entry since the softmax
//     sums to 1, so a scale of 2^52 leaves 2^10 of headroom, with a resolution of 2^-52);
//   full_ce_scatter_ordered_kernel gives each output element one thread that adds the tile's items
//     in order, as the CPU does.
//
// Overwrite/accumulate: these kernels write scratch only, except the scatters (dCodebooks +=) and
// full_ce_spread_rows_kernel (dH overwritten, 0 on ignored rows).
#include "common.cuh"

#define FULL_CE_FIXED_ONE 4503599627370496.0f  // 2^52

// Dynamic shared memory of the look-up kernels (its size is set at launch).
extern __shared__ float full_ce_smem[];

// Folds one value into a thread's running (max, sum of exp(x − max)).
static __device__ __forceinline__ void full_ce_online(float x, float& mx, double& sum) {
  if (x > mx) {
    sum = sum * (double)expf(mx - x) + 1.0;  // 0 · 0 + 1 on the first value (mx = -inf)
    mx = x;
  } else {
    sum += (double)expf(x - mx);
  }
}

// Merges the block's per-thread (max, sum) into the block's; every thread gets the result.
static __device__ __forceinline__ void full_ce_block_online(float& mx, double& sum, float* redf, double* redd) {
  const float bm = recjpq_block_max(mx, redf);
  const double part = mx == -INFINITY ? 0.0 : sum * (double)expf(mx - bm);
  sum = recjpq_block_sum(part, redd);
  mx = bm;
}

// ---- shared by both strategies -----------------------------------------------------------------

// out[i] = in[valid[i]]: the valid rows of h, compacted. out (V, D).
extern "C" __global__ void full_ce_gather_rows_kernel(int v, int d, float* __restrict__ out,
                                                      const float* __restrict__ in,
                                                      const int* __restrict__ valid) {
  RECJPQ_GRID_STRIDE(x, (long long)v * d) {
    long long i = x / d;
    out[x] = in[(long long)valid[i] * d + (x - i * d)];
  }
}

// dH[r] = dhv[slot[r]], or 0 where slot[r] < 0 (an ignored row). dH (R, D), overwritten.
extern "C" __global__ void full_ce_spread_rows_kernel(int rows, int d, float* __restrict__ dH,
                                                      const float* __restrict__ dhv,
                                                      const int* __restrict__ slot) {
  RECJPQ_GRID_STRIDE(x, (long long)rows * d) {
    long long r = x / d;
    int sl = slot[r];
    dH[x] = sl < 0 ? 0.f : dhv[(long long)sl * d + (x - r * d)];
  }
}

// From each row's units (chunks), in chunk order: max, sum rescaled to it, lse = max + log(sum)
// (stored as float for pass 2) and the row's loss lse − score(target) in double.
extern "C" __global__ void full_ce_finish_kernel(int rb, int chunks, const float* __restrict__ unitMax,
                                                 const double* __restrict__ unitSum,
                                                 const float* __restrict__ targetScore,
                                                 float* __restrict__ lse, double* __restrict__ rowLoss) {
  RECJPQ_GRID_STRIDE(r, rb) {
    const long long u0 = r * chunks;
    float mx = -INFINITY;
    for (int c = 0; c < chunks; c++) mx = fmaxf(mx, unitMax[u0 + c]);
    double sum = 0.0;
    for (int c = 0; c < chunks; c++) {
      float um = unitMax[u0 + c];
      if (um != -INFINITY) sum += unitSum[u0 + c] * exp((double)um - (double)mx);
    }
    const double l = (double)mx + log(sum);
    lse[r] = (float)l;
    rowLoss[r] = l - (double)targetScore[r];
  }
}

// ---- decode-then-GEMM ------------------------------------------------------------------------------

// out[i] = concat_k codebooks[k][codes[i0 + i][k]] for the tile's nt items. out (T, D).
extern "C" __global__ void full_ce_decode_kernel(int nt, int i0, int m, int s, float* __restrict__ out,
                                                 const unsigned char* __restrict__ codes,
                                                 const float* __restrict__ codebooks) {
  const int d = m * s;
  RECJPQ_GRID_STRIDE(x, (long long)nt * d) {
    long long i = x / d;
    int j = (int)(x - i * d);
    int k = j / s;
    out[x] = codebooks[(long long)(k * 256 + codes[(i0 + i) * m + k]) * s + (j - k * s)];
  }
}

// Pass 1 of a tile: one block per row folds the row's nt scores into its running max and sum, and
// notes the target's score when the target is in the tile.
extern "C" __global__ void full_ce_tile_lse_kernel(int rb, int nt, int i0, const float* __restrict__ scores,
                                                   const int* __restrict__ tgt, float* __restrict__ rowMax,
                                                   double* __restrict__ rowSum,
                                                   float* __restrict__ targetScore) {
  __shared__ float redf[32];
  __shared__ double redd[32];
  for (int r = blockIdx.x; r < rb; r += gridDim.x) {
    const float* row = scores + (long long)r * nt;
    float mx = -INFINITY;
    double sum = 0.0;
    for (int i = threadIdx.x; i < nt; i += blockDim.x) full_ce_online(row[i], mx, sum);
    full_ce_block_online(mx, sum, redf, redd);
    if (threadIdx.x == 0) {
      float m0 = rowMax[r];
      double s0 = rowSum[r];
      float m1 = fmaxf(m0, mx);
      rowSum[r] = (m0 == -INFINITY ? 0.0 : s0 * exp((double)m0 - (double)m1))
                  + (mx == -INFINITY ? 0.0 : sum * exp((double)mx - (double)m1));
      rowMax[r] = m1;
      int t = tgt[r] - i0;
      if (t >= 0 && t < nt) targetScore[r] = row[t];
    }
  }
}

// Pass 2 of a tile, in place: scores[r][i] = (exp(scores[r][i] − lse_r) − [i0 + i = tgt_r]) · invV.
extern "C" __global__ void full_ce_tile_grad_kernel(int rb, int nt, int i0, double invV, float* __restrict__ scores,
                                                    const int* __restrict__ tgt, const float* __restrict__ lse) {
  RECJPQ_GRID_STRIDE(x, (long long)rb * nt) {
    long long r = x / nt;
    int i = (int)(x - r * nt);
    float g = expf(scores[x] - lse[r]);
    if (i0 + i == tgt[r]) g -= 1.f;
    scores[x] = (float)((double)g * invV);
  }
}

// The whole catalogue as one tile: one block per row finds max and sum (stored as the row's single
// unit), lse and the target's score, and overwrites the row's scores with g (as the two kernels
// above, in one pass over the row).
extern "C" __global__ void full_ce_row_softmax_kernel(int rb, int n, double invV, float* __restrict__ scores,
                                                      const int* __restrict__ tgt, float* __restrict__ rowMax,
                                                      double* __restrict__ rowSum,
                                                      float* __restrict__ targetScore) {
  __shared__ float redf[32];
  __shared__ double redd[32];
  for (int r = blockIdx.x; r < rb; r += gridDim.x) {
    float* row = scores + (long long)r * n;
    float mx = -INFINITY;
    double sum = 0.0;
    for (int i = threadIdx.x; i < n; i += blockDim.x) full_ce_online(row[i], mx, sum);
    full_ce_block_online(mx, sum, redf, redd);
    const int t = tgt[r];
    if (threadIdx.x == 0) {
      rowMax[r] = mx;
      rowSum[r] = sum;
      targetScore[r] = row[t];
    }
    // the same float lse as full_ce_finish_kernel computes from (max, sum)
    const float l = (float)((double)mx + log(sum));
    __syncthreads();  // row[t] is read above before any thread overwrites it
    for (int i = threadIdx.x; i < n; i += blockDim.x) {
      float g = expf(row[i] - l);
      if (i == t) g -= 1.f;
      row[i] = (float)((double)g * invV);
    }
  }
}

// dCodebooks[k][codes[i0 + i][k]][x] += dE[i][k·S + x] with float atomics, one thread per (i, j).
extern "C" __global__ void full_ce_scatter_atomic_kernel(int nt, int i0, int m, int s,
                                                         float* __restrict__ dCodebooks,
                                                         const float* __restrict__ dE,
                                                         const unsigned char* __restrict__ codes) {
  const int d = m * s;
  RECJPQ_GRID_STRIDE(x, (long long)nt * d) {
    long long i = x / d;
    int j = (int)(x - i * d);
    int k = j / s;
    atomicAdd(dCodebooks + (long long)(k * 256 + codes[(i0 + i) * m + k]) * s + (j - k * s), dE[x]);
  }
}

// The same without float atomics: warp = (partition p, group of 32 columns), lane = column j; the
// warp walks the tile's items in order and a lane adds the items whose code (of split j / S) is
// ≡ p (mod parts). Each output element has one owner, which adds in item order, as the CPU.
extern "C" __global__ void full_ce_scatter_ordered_kernel(int nt, int i0, int m, int s, int parts,
                                                          float* __restrict__ dCodebooks,
                                                          const float* __restrict__ dE,
                                                          const unsigned char* __restrict__ codes) {
  const int d = m * s;
  const int groups = (d + 31) / 32;
  const long long warp = ((long long)blockIdx.x * blockDim.x + threadIdx.x) >> 5;
  if (warp >= (long long)groups * parts) return;
  const int p = (int)(warp / groups);
  const int j = (int)(warp % groups) * 32 + (threadIdx.x & 31);
  if (j >= d) return;
  const int k = j / s;
  const int x = j - k * s;
  for (int i = 0; i < nt; i++) {
    int code = codes[(long long)(i0 + i) * m + k];
    if (code % parts != p) continue;
    long long dst = (long long)(k * 256 + code) * s + x;
    dCodebooks[dst] = __fadd_rn(dCodebooks[dst], dE[(long long)i * d + j]);
  }
}

// ---- look-ups --------------------------------------------------------------------------------------

// score(i) = Σ_k tab[k][codes[i][k]], k in order, in float (as the CPU). `words`: codes are read as
// 32-bit words (M % 4 == 0 and a 4-byte aligned base).
static __device__ __forceinline__ float full_ce_lookup_score(const float* tab, const unsigned char* __restrict__ codes,
                                                             long long i, int m, int words) {
  float score = 0.f;
  if (words) {
    const unsigned int* w = reinterpret_cast<const unsigned int*>(codes + i * m);
    for (int q = 0; q < (m >> 2); q++) {
      const unsigned int v = __ldg(w + q);
      const int k = q << 2;
      score += tab[(k << 8) + (v & 255u)];
      score += tab[((k + 1) << 8) + ((v >> 8) & 255u)];
      score += tab[((k + 2) << 8) + ((v >> 16) & 255u)];
      score += tab[((k + 3) << 8) + (v >> 24)];
    }
  } else {
    const unsigned char* c = codes + i * m;
    for (int k = 0; k < m; k++) score += tab[(k << 8) + __ldg(c + k)];
  }
  return score;
}

// The unit (row, chunk) of block b: chunk c covers items [c·chunkLen, min(N, (c + 1)·chunkLen)).
static __device__ __forceinline__ void full_ce_unit(int chunks, int chunkLen, int n, int& r, int& lo, int& hi) {
  r = blockIdx.x / chunks;
  const int c = blockIdx.x - r * chunks;
  lo = (int)min((long long)c * chunkLen, (long long)n);
  hi = (int)min((long long)lo + chunkLen, (long long)n);
}

// Pass 1 of the look-up strategy: block = unit (row, chunk), the row's sub-id table in shared
// memory (W floats); writes the unit's max and sum, and the target's score when it is in the chunk.
extern "C" __global__ void full_ce_lookup_lse_kernel(int n, int m, int chunkLen, int chunks, int words,
                                                     const float* __restrict__ sub,
                                                     const unsigned char* __restrict__ codes,
                                                     const int* __restrict__ tgt, float* __restrict__ unitMax,
                                                     double* __restrict__ unitSum,
                                                     float* __restrict__ targetScore) {
  __shared__ float redf[32];
  __shared__ double redd[32];
  const int width = m << 8;
  int r, lo, hi;
  full_ce_unit(chunks, chunkLen, n, r, lo, hi);
  float* tab = full_ce_smem;
  for (int x = threadIdx.x; x < width; x += blockDim.x) tab[x] = sub[(long long)r * width + x];
  __syncthreads();
  const int t = tgt[r];
  float mx = -INFINITY;
  double sum = 0.0;
  for (int i = lo + threadIdx.x; i < hi; i += blockDim.x) {
    const float score = full_ce_lookup_score(tab, codes, i, m, words);
    full_ce_online(score, mx, sum);
    if (i == t) targetScore[r] = score;
  }
  full_ce_block_online(mx, sum, redf, redd);
  if (threadIdx.x == 0) {
    unitMax[blockIdx.x] = mx;
    unitSum[blockIdx.x] = sum;
  }
}

// Pass 2 of the look-up strategy for one unit: g for every item of the chunk, added into the
// unit's dsub (W entries in shared memory) at the item's M codes; then written out once,
// times `scale`, to out[unit] (W floats). Fixed point (deterministic) or float atomics.
template <bool FIXED>
static __device__ __forceinline__ void full_ce_lookup_grad(int n, int m, int chunkLen, int chunks, int words,
                                                           double scale, const float* __restrict__ sub,
                                                           const unsigned char* __restrict__ codes,
                                                           const int* __restrict__ tgt,
                                                           const float* __restrict__ lse,
                                                           float* __restrict__ out) {
  const int width = m << 8;
  int r, lo, hi;
  full_ce_unit(chunks, chunkLen, n, r, lo, hi);
  float* tab = full_ce_smem;
  // the accumulator follows the table; W·4 bytes is a multiple of 1024, so 8-byte aligned
  unsigned long long* accFixed = reinterpret_cast<unsigned long long*>(full_ce_smem + width);
  float* accFloat = full_ce_smem + width;
  for (int x = threadIdx.x; x < width; x += blockDim.x) {
    tab[x] = sub[(long long)r * width + x];
    if (FIXED) accFixed[x] = 0ull; else accFloat[x] = 0.f;
  }
  __syncthreads();
  const int t = tgt[r];
  const float l = lse[r];
  for (int i = lo + threadIdx.x; i < hi; i += blockDim.x) {
    float g = expf(full_ce_lookup_score(tab, codes, i, m, words) - l);
    if (i == t) g -= 1.f;
    const unsigned char* c = codes + (long long)i * m;
    if (FIXED) {
      const unsigned long long q = (unsigned long long)__float2ll_rn(g * FULL_CE_FIXED_ONE);
      for (int k = 0; k < m; k++) atomicAdd(accFixed + (k << 8) + __ldg(c + k), q);
    } else {
      for (int k = 0; k < m; k++) atomicAdd(accFloat + (k << 8) + __ldg(c + k), g);
    }
  }
  __syncthreads();
  float* dst = out + (long long)blockIdx.x * width;
  for (int x = threadIdx.x; x < width; x += blockDim.x) {
    const double v = FIXED ? (double)(long long)accFixed[x] * (1.0 / (double)FULL_CE_FIXED_ONE) : (double)accFloat[x];
    dst[x] = (float)(v * scale);
  }
}

extern "C" __global__ void full_ce_lookup_grad_atomic_kernel(int n, int m, int chunkLen, int chunks, int words,
                                                             double scale, const float* __restrict__ sub,
                                                             const unsigned char* __restrict__ codes,
                                                             const int* __restrict__ tgt,
                                                             const float* __restrict__ lse, float* __restrict__ out) {
  full_ce_lookup_grad<false>(n, m, chunkLen, chunks, words, scale, sub, codes, tgt, lse, out);
}

extern "C" __global__ void full_ce_lookup_grad_fixed_kernel(int n, int m, int chunkLen, int chunks, int words,
                                                            double scale, const float* __restrict__ sub,
                                                            const unsigned char* __restrict__ codes,
                                                            const int* __restrict__ tgt,
                                                            const float* __restrict__ lse, float* __restrict__ out) {
  full_ce_lookup_grad<true>(n, m, chunkLen, chunks, words, scale, sub, codes, tgt, lse, out);
}

// dsub[r][x] = invV · Σ_c part[r·chunks + c][x], chunks in order (rows with several units).
extern "C" __global__ void full_ce_lookup_merge_kernel(int rb, int chunks, int width, double invV,
                                                       const float* __restrict__ part, float* __restrict__ dsub) {
  RECJPQ_GRID_STRIDE(x, (long long)rb * width) {
    long long r = x / width;
    long long col = x - r * width;
    double acc = 0.0;
    for (int c = 0; c < chunks; c++) acc += part[(r * chunks + c) * width + col];
    dsub[x] = (float)(acc * invV);
  }
}
