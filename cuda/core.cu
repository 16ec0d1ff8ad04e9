// Core kernels of the CUDA engine (org.recjpq.backend.cuda.CudaOps): element-wise arithmetic,
// reductions, embeddings (dense and RecJPQ), positions, special tokens, layer norm, bias helpers,
// dropout and Adam. Each kernel is the device twin of one loop of the CPU engine (CpuOps, CpuNorm),
// which is the specification; the engine contract tests compare the two.
//
// Conventions (as the Ops contract): row-major; an id < 0 is PAD (zeros, no gradient); parameter
// gradients ACCUMULATE (+=), activation gradients OVERWRITE (layer_norm_backward_input adds into
// dIn: the residual stream). Codes are (N, splits) unsigned bytes, codebooks (splits, 256, subDim).
//
// Where the CPU engine's float arithmetic is a plain multiply then add, these kernels use the
// explicitly rounded intrinsics (__fmul_rn, __fadd_rn) so nvcc cannot contract them into an FMA:
// element-wise ops then give the CPU's bits. Scatter-adds come in two forms: *_atomic (float
// atomics, fast, order of additions varies) and *_ordered (one thread per output column adding the
// rows in order, as the CPU does: bit-reproducible, slower).
#include "common.cuh"

#ifndef RECJPQ_CORE_CU
#define RECJPQ_CORE_CU

// ---- element-wise ------------------------------------------------------------------------------

// x[i] *= alpha over n floats.
extern "C" __global__ void scale_kernel(long long n, float alpha, float* __restrict__ x) {
  RECJPQ_GRID_STRIDE(i, n) { x[i] = __fmul_rn(alpha, x[i]); }
}

// out[i] = a[i] + b[i]; out may alias a or b (element i is read before it is written).
extern "C" __global__ void add_kernel(long long n, float* out, const float* a, const float* b) {
  RECJPQ_GRID_STRIDE(i, n) { out[i] = __fadd_rn(a[i], b[i]); }
}

// GELU in its exact form 0.5 u (1 + erf(u / sqrt 2)), in double like the CPU engine.
static __device__ __forceinline__ float core_gelu(float u) {
  double x = (double)u;
  return (float)(0.5 * x * (1.0 + erf(x * 0.70710678118654752440)));
}

// GELU'(u) = Phi(u) + u phi(u).
static __device__ __forceinline__ float core_gelu_grad(float u) {
  double x = (double)u;
  double cdf = 0.5 * (1.0 + erf(x * 0.70710678118654752440));
  double pdf = 0.39894228040143267794 * exp(-0.5 * x * x);
  return (float)(cdf + x * pdf);
}

// out = act(in); act 0 = ReLU, 1 = GELU. out may alias in for ReLU.
extern "C" __global__ void activation_forward_kernel(long long n, int act, float* out, const float* in) {
  RECJPQ_GRID_STRIDE(i, n) {
    float u = in[i];
    out[i] = act == 0 ? fmaxf(u, 0.f) : core_gelu(u);
  }
}

// dIn = dOut * act'(in) (overwrite).
extern "C" __global__ void activation_backward_kernel(long long n, int act, float* __restrict__ dIn,
                                                      const float* __restrict__ dOut,
                                                      const float* __restrict__ in) {
  RECJPQ_GRID_STRIDE(i, n) {
    float u = in[i];
    float g = dOut[i];
    dIn[i] = act == 0 ? (u > 0.f ? g : 0.f) : __fmul_rn(g, core_gelu_grad(u));
  }
}

// ---- reductions ----------------------------------------------------------------------------------

// partials[c] = sum of x[i]^2 (in double) over chunk c = [c*chunk, (c+1)*chunk); one block per chunk,
// blockDim.x a power of two, dynamic shared memory blockDim.x doubles. The host adds the partials
// in chunk order (as the CPU engine does with its chunks).
extern "C" __global__ void sum_squares_kernel(long long n, int chunk, const float* __restrict__ x,
                                              double* __restrict__ partials) {
  extern __shared__ double core_ss_shared[];
  long long start = (long long)blockIdx.x * chunk;
  long long end = start + chunk < n ? start + chunk : n;
  double s = 0.0;
  for (long long i = start + threadIdx.x; i < end; i += blockDim.x) {
    double v = (double)x[i];
    s += v * v;
  }
  core_ss_shared[threadIdx.x] = s;
  __syncthreads();
  for (int stride = blockDim.x / 2; stride > 0; stride >>= 1) {
    if (threadIdx.x < stride) core_ss_shared[threadIdx.x] += core_ss_shared[threadIdx.x + stride];
    __syncthreads();
  }
  if (threadIdx.x == 0) partials[blockIdx.x] = core_ss_shared[0];
}

// *flag = 1 if any of the n floats is NaN or infinite (the host zeroes flag first).
extern "C" __global__ void non_finite_kernel(long long n, const float* __restrict__ x, int* flag) {
  RECJPQ_GRID_STRIDE(i, n) {
    if (!isfinite(x[i])) *flag = 1;
  }
}

// ---- embeddings --------------------------------------------------------------------------------

// out[r] = table[ids[r]] (zeros for PAD). One thread per (row, column).
extern "C" __global__ void embedding_forward_kernel(int rows, int dim, float* __restrict__ out,
                                                    const int* __restrict__ ids,
                                                    const float* __restrict__ table) {
  RECJPQ_GRID_STRIDE(e, (long long)rows * dim) {
    long long r = e / dim;
    int j = (int)(e - r * dim);
    int item = ids[r];
    out[e] = item < 0 ? 0.f : table[(long long)item * dim + j];
  }
}

// dTable[ids[r]] += dOut[r] for non-PAD rows: float atomics, one thread per (row, column).
extern "C" __global__ void embedding_backward_atomic_kernel(int rows, int dim, float* dTable,
                                                            const float* __restrict__ dOut,
                                                            const int* __restrict__ ids) {
  RECJPQ_GRID_STRIDE(e, (long long)rows * dim) {
    long long r = e / dim;
    int j = (int)(e - r * dim);
    int item = ids[r];
    if (item >= 0) atomicAdd(dTable + (long long)item * dim + j, dOut[e]);
  }
}

// The same without atomics: one thread per column j, rows added in order (the CPU's order).
extern "C" __global__ void embedding_backward_ordered_kernel(int rows, int dim, float* dTable,
                                                             const float* __restrict__ dOut,
                                                             const int* __restrict__ ids) {
  RECJPQ_GRID_STRIDE(j, dim) {
    for (int r = 0; r < rows; r++) {
      int item = ids[r];
      if (item >= 0) {
        float* t = dTable + (long long)item * dim + j;
        *t = __fadd_rn(*t, dOut[(long long)r * dim + j]);
      }
    }
  }
}

// RecJPQ: out[r][k*s + j] = codebooks[k][codes[ids[r]][k]][j] (zeros for PAD). One thread per element.
extern "C" __global__ void jpq_embedding_forward_kernel(int rows, int splits, int subDim,
                                                        float* __restrict__ out,
                                                        const int* __restrict__ ids,
                                                        const unsigned char* __restrict__ codes,
                                                        const float* __restrict__ codebooks) {
  int dim = splits * subDim;
  RECJPQ_GRID_STRIDE(e, (long long)rows * dim) {
    long long r = e / dim;
    int c = (int)(e - r * dim);
    int k = c / subDim;
    int j = c - k * subDim;
    int item = ids[r];
    if (item < 0) {
      out[e] = 0.f;
    } else {
      int sub = codes[(long long)item * splits + k];
      out[e] = codebooks[((long long)k * 256 + sub) * subDim + j];
    }
  }
}

// dCodebooks[k][codes[ids[r]][k]] += dOut[r][k*s:(k+1)*s] for non-PAD rows: float atomics.
extern "C" __global__ void jpq_embedding_backward_atomic_kernel(int rows, int splits, int subDim,
                                                                float* dCodebooks,
                                                                const float* __restrict__ dOut,
                                                                const int* __restrict__ ids,
                                                                const unsigned char* __restrict__ codes) {
  int dim = splits * subDim;
  RECJPQ_GRID_STRIDE(e, (long long)rows * dim) {
    long long r = e / dim;
    int c = (int)(e - r * dim);
    int k = c / subDim;
    int j = c - k * subDim;
    int item = ids[r];
    if (item >= 0) {
      int sub = codes[(long long)item * splits + k];
      atomicAdd(dCodebooks + ((long long)k * 256 + sub) * subDim + j, dOut[e]);
    }
  }
}

// The same without atomics: one thread per (split, column), rows in order (the CPU's order).
extern "C" __global__ void jpq_embedding_backward_ordered_kernel(int rows, int splits, int subDim,
                                                                 float* dCodebooks,
                                                                 const float* __restrict__ dOut,
                                                                 const int* __restrict__ ids,
                                                                 const unsigned char* __restrict__ codes) {
  int dim = splits * subDim;
  RECJPQ_GRID_STRIDE(c, dim) {
    int k = (int)c / subDim;
    int j = (int)c - k * subDim;
    for (int r = 0; r < rows; r++) {
      int item = ids[r];
      if (item >= 0) {
        int sub = codes[(long long)item * splits + k];
        float* t = dCodebooks + ((long long)k * 256 + sub) * subDim + j;
        *t = __fadd_rn(*t, dOut[(long long)r * dim + c]);
      }
    }
  }
}

// ---- positions and special tokens -------------------------------------------------------------------

// out[b][t] = inScale * in[b][t] + positions[t] (0 at PAD). out may alias in.
extern "C" __global__ void positions_forward_kernel(int batch, int len, int dim, float inScale, float* out,
                                                    const float* in, const int* __restrict__ ids,
                                                    const float* __restrict__ positions) {
  RECJPQ_GRID_STRIDE(e, (long long)batch * len * dim) {
    long long r = e / dim;
    int j = (int)(e - r * dim);
    int t = (int)(r % len);
    out[e] = ids[r] < 0 ? 0.f : __fadd_rn(__fmul_rn(inScale, in[e]), positions[(long long)t * dim + j]);
  }
}

// dIn = inScale * dOut (0 at PAD), overwrite.
extern "C" __global__ void positions_backward_input_kernel(int batch, int len, int dim, float inScale,
                                                           float* __restrict__ dIn,
                                                           const float* __restrict__ dOut,
                                                           const int* __restrict__ ids) {
  RECJPQ_GRID_STRIDE(e, (long long)batch * len * dim) {
    long long r = e / dim;
    dIn[e] = ids[r] < 0 ? 0.f : __fmul_rn(inScale, dOut[e]);
  }
}

// dPositions[t] += sum over b (in order) of dOut[b][t], non-PAD only. One thread per (t, column).
extern "C" __global__ void positions_backward_table_kernel(int batch, int len, int dim,
                                                           float* __restrict__ dPositions,
                                                           const float* __restrict__ dOut,
                                                           const int* __restrict__ ids) {
  RECJPQ_GRID_STRIDE(e, (long long)len * dim) {
    int t = (int)(e / dim);
    int j = (int)(e - (long long)t * dim);
    float acc = dPositions[e];
    for (int b = 0; b < batch; b++) {
      long long r = (long long)b * len + t;
      if (ids[r] >= 0) acc = __fadd_rn(acc, dOut[r * dim + j]);
    }
    dPositions[e] = acc;
  }
}

// out[r] = in[r] == from ? to : in[r]; out may alias in.
extern "C" __global__ void map_ids_kernel(int rows, int from, int to, int* out, const int* in) {
  RECJPQ_GRID_STRIDE(r, rows) {
    int v = in[r];
    out[r] = v == from ? to : v;
  }
}

// x[r] += vector where ids[r] == token.
extern "C" __global__ void add_token_vector_kernel(int rows, int dim, int token, float* __restrict__ x,
                                                   const int* __restrict__ ids,
                                                   const float* __restrict__ vector) {
  RECJPQ_GRID_STRIDE(e, (long long)rows * dim) {
    long long r = e / dim;
    int j = (int)(e - r * dim);
    if (ids[r] == token) x[e] = __fadd_rn(x[e], vector[j]);
  }
}

// dVector += sum over rows (in order) with ids[r] == token of dx[r]. One thread per column.
extern "C" __global__ void add_token_vector_backward_kernel(int rows, int dim, int token,
                                                            float* __restrict__ dVector,
                                                            const float* __restrict__ dx,
                                                            const int* __restrict__ ids) {
  RECJPQ_GRID_STRIDE(j, dim) {
    float acc = dVector[j];
    for (int r = 0; r < rows; r++) {
      if (ids[r] == token) acc = __fadd_rn(acc, dx[(long long)r * dim + j]);
    }
    dVector[j] = acc;
  }
}

// Zeroes the PAD rows of x (rows, dim).
extern "C" __global__ void mask_pad_rows_kernel(int rows, int dim, float* __restrict__ x,
                                                const int* __restrict__ ids) {
  RECJPQ_GRID_STRIDE(e, (long long)rows * dim) {
    if (ids[e / dim] < 0) x[e] = 0.f;
  }
}

// ---- layer norm --------------------------------------------------------------------------------------

// out = (in - mean) * rstd * gamma + beta over the last dim; biased variance, eps inside the sqrt.
// One warp per row; the row statistics are summed in double (as the CPU engine), the rest in float.
extern "C" __global__ void layer_norm_forward_kernel(int rows, int dim, float eps, float* __restrict__ out,
                                                     float* __restrict__ mean, float* __restrict__ rstd,
                                                     const float* __restrict__ in,
                                                     const float* __restrict__ gamma,
                                                     const float* __restrict__ beta) {
  int lane = threadIdx.x & 31;
  long long warp = ((long long)blockIdx.x * blockDim.x + threadIdx.x) >> 5;
  long long warps = ((long long)gridDim.x * blockDim.x) >> 5;
  for (long long r = warp; r < rows; r += warps) {
    const float* x = in + r * dim;
    double s = 0.0;
    for (int j = lane; j < dim; j += 32) s += (double)x[j];
    s = recjpq_warp_sum(s);
    float mu = (float)(s / dim);
    double v = 0.0;
    for (int j = lane; j < dim; j += 32) {
      float c = __fsub_rn(x[j], mu);
      v += (double)__fmul_rn(c, c);
    }
    v = recjpq_warp_sum(v);
    float rs = (float)(1.0 / sqrt(v / dim + (double)eps));
    if (lane == 0) {
      mean[r] = mu;
      rstd[r] = rs;
    }
    float* y = out + r * dim;
    for (int j = lane; j < dim; j += 32) {
      y[j] = __fadd_rn(__fmul_rn(__fmul_rn(__fsub_rn(x[j], mu), rs), gamma[j]), beta[j]);
    }
  }
}

// dIn += rstd * (dnorm - mean(dnorm) - norm * mean(dnorm * norm)), dnorm = dOut * gamma. One warp per row.
extern "C" __global__ void layer_norm_backward_input_kernel(int rows, int dim, float* __restrict__ dIn,
                                                            const float* __restrict__ dOut,
                                                            const float* __restrict__ in,
                                                            const float* __restrict__ mean,
                                                            const float* __restrict__ rstd,
                                                            const float* __restrict__ gamma) {
  int lane = threadIdx.x & 31;
  long long warp = ((long long)blockIdx.x * blockDim.x + threadIdx.x) >> 5;
  long long warps = ((long long)gridDim.x * blockDim.x) >> 5;
  for (long long r = warp; r < rows; r += warps) {
    const float* x = in + r * dim;
    const float* dy = dOut + r * dim;
    float mu = mean[r];
    float rs = rstd[r];
    double sd = 0.0;
    double sdn = 0.0;
    for (int j = lane; j < dim; j += 32) {
      float norm = __fmul_rn(__fsub_rn(x[j], mu), rs);
      float dnorm = __fmul_rn(dy[j], gamma[j]);
      sd += (double)dnorm;
      sdn += (double)__fmul_rn(dnorm, norm);
    }
    sd = recjpq_warp_sum(sd);
    sdn = recjpq_warp_sum(sdn);
    float meanD = (float)(sd / dim);
    float meanDn = (float)(sdn / dim);
    float* dx = dIn + r * dim;
    for (int j = lane; j < dim; j += 32) {
      float norm = __fmul_rn(__fsub_rn(x[j], mu), rs);
      float dnorm = __fmul_rn(dy[j], gamma[j]);
      float t = __fsub_rn(__fsub_rn(dnorm, meanD), __fmul_rn(norm, meanDn));
      dx[j] = __fadd_rn(dx[j], __fmul_rn(rs, t));
    }
  }
}

// Per block of `block` rows, in row order: part[blk][j] = sum dOut*norm (gamma part, first
// rowBlocks*dim floats) and part[rowBlocks*dim + blk*dim + j] = sum dOut (beta part).
extern "C" __global__ void layer_norm_backward_partials_kernel(int rows, int dim, int block,
                                                               float* __restrict__ part,
                                                               const float* __restrict__ dOut,
                                                               const float* __restrict__ in,
                                                               const float* __restrict__ mean,
                                                               const float* __restrict__ rstd) {
  int rowBlocks = (rows + block - 1) / block;
  RECJPQ_GRID_STRIDE(e, (long long)rowBlocks * dim) {
    int blk = (int)(e / dim);
    int j = (int)(e - (long long)blk * dim);
    float sg = 0.f;
    float sb = 0.f;
    int end = min(rows, (blk + 1) * block);
    for (int r = blk * block; r < end; r++) {
      float dy = dOut[(long long)r * dim + j];
      float norm = __fmul_rn(__fsub_rn(in[(long long)r * dim + j], mean[r]), rstd[r]);
      sg = __fadd_rn(sg, __fmul_rn(dy, norm));
      sb = __fadd_rn(sb, dy);
    }
    part[e] = sg;
    part[(long long)rowBlocks * dim + e] = sb;
  }
}

// dGamma[j] += the gamma partials in block order; dBeta[j] += the beta partials.
extern "C" __global__ void layer_norm_backward_finish_kernel(int rowBlocks, int dim, float* __restrict__ dGamma,
                                                             float* __restrict__ dBeta,
                                                             const float* __restrict__ part) {
  RECJPQ_GRID_STRIDE(j, dim) {
    float sg = dGamma[j];
    float sb = dBeta[j];
    for (int b = 0; b < rowBlocks; b++) {
      sg = __fadd_rn(sg, part[(long long)b * dim + j]);
      sb = __fadd_rn(sb, part[(long long)rowBlocks * dim + (long long)b * dim + j]);
    }
    dGamma[j] = sg;
    dBeta[j] = sb;
  }
}

// ---- bias helpers ------------------------------------------------------------------------------------

// out[r] = bias for every row (the start of linear's out = bias + in @ W).
extern "C" __global__ void broadcast_rows_kernel(int rows, int cols, float* __restrict__ out,
                                                 const float* __restrict__ bias) {
  RECJPQ_GRID_STRIDE(e, (long long)rows * cols) { out[e] = bias[e % cols]; }
}

// part[blk][j] = sum of x[r][j] over the rows of block blk, in order.
extern "C" __global__ void column_sums_partials_kernel(int rows, int cols, int block, float* __restrict__ part,
                                                       const float* __restrict__ x) {
  int rowBlocks = (rows + block - 1) / block;
  RECJPQ_GRID_STRIDE(e, (long long)rowBlocks * cols) {
    int blk = (int)(e / cols);
    int j = (int)(e - (long long)blk * cols);
    float s = 0.f;
    int end = min(rows, (blk + 1) * block);
    for (int r = blk * block; r < end; r++) s = __fadd_rn(s, x[(long long)r * cols + j]);
    part[e] = s;
  }
}

// dst[j] += the partials of column j in block order.
extern "C" __global__ void column_sums_finish_kernel(int rowBlocks, int cols, float* __restrict__ dst,
                                                     const float* __restrict__ part) {
  RECJPQ_GRID_STRIDE(j, cols) {
    float s = dst[j];
    for (int b = 0; b < rowBlocks; b++) s = __fadd_rn(s, part[(long long)b * cols + j]);
    dst[j] = s;
  }
}

// ---- dropout ---------------------------------------------------------------------------------------

// CounterRng.bitsAt(key, index): the SplitMix64 output for element index under a stream key.
static __device__ __forceinline__ unsigned long long core_rng_bits(unsigned long long key, long long index) {
  unsigned long long z = key + (unsigned long long)(index + 1) * 0x9E3779B97F4A7C15ull;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

// Inverted dropout with the CPU engine's mask: element i is kept when (bits(key, i) >> 40) >=
// threshold (= ceil(p * 2^24)), out = in * (keep ? keepScale : 0). out may alias in.
extern "C" __global__ void dropout_kernel(long long n, unsigned long long key, long long threshold,
                                          float keepScale, float* out, const float* in) {
  RECJPQ_GRID_STRIDE(i, n) {
    long long u = (long long)(core_rng_bits(key, i) >> 40);
    out[i] = __fmul_rn(in[i], u >= threshold ? keepScale : 0.f);
  }
}

// ---- Adam(W) -------------------------------------------------------------------------------------------

// m = b1 m + (1-b1) g; v = b2 v + (1-b2) g^2; p += -(lr wd p + lr (m/c1) / (sqrt(v/c2) + eps)), the
// update in double (as the CPU engine), c1 = 1 - b1^t and c2 = 1 - b2^t from the host.
extern "C" __global__ void adam_kernel(long long n, float lr, float beta1, float beta2, float eps, float wd,
                                       double c1, double c2, float* __restrict__ p,
                                       const float* __restrict__ g, float* __restrict__ m,
                                       float* __restrict__ v) {
  RECJPQ_GRID_STRIDE(i, n) {
    float gi = g[i];
    float mi = __fadd_rn(__fmul_rn(beta1, m[i]), __fmul_rn(__fsub_rn(1.f, beta1), gi));
    float vi = __fadd_rn(__fmul_rn(beta2, v[i]), __fmul_rn(__fmul_rn(__fsub_rn(1.f, beta2), gi), gi));
    m[i] = mi;
    v[i] = vi;
    float pi = p[i];
    double decay = __dmul_rn(__dmul_rn((double)lr, (double)wd), (double)pi);
    double step = __ddiv_rn(__dmul_rn((double)lr, __ddiv_rn((double)mi, c1)),
                            __dadd_rn(sqrt(__ddiv_rn((double)vi, c2)), (double)eps));
    p[i] = (float)__dadd_rn((double)pi, -__dadd_rn(decay, step));
  }
}

#endif  // RECJPQ_CORE_CU
