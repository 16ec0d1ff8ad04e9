// GRU layer (PyTorch nn.GRU equations, gate order r, z, n; h0 = 0): the element-wise parts of the
// forward step and of the backward step through time. The GEMMs are cuBLAS calls made by
// CudaGru.java between these launches; all work is on one stream, so one launch per time step t.
//
// Shapes (row-major, row = b * len + t):
//   x (batch, len, in), y (batch, len, hidden), gates (batch, len, 4 * hidden) = r | z | n | W_hn h + b_hn
//   gi (batch * len, 3 * hidden) = x W_ih^T (no bias), gh (batch, 3 * hidden) = h_{t-1} W_hh^T (no bias)
//   ids (batch * len) or nullptr: ids[row] < 0 marks a PAD step (output 0, the next step starts from 0)
//
// gru_forward_step_kernel, one thread per (b, j) of step t: adds both biases to the two projections
// (fused), computes r, z, n and h_t = (1 - z) n + z h_{t-1} with h_{t-1} = y[b, t-1] (0 at t = 0;
// after a PAD step y is 0, so the restart needs no extra state). Overwrites y[:, t] and
// gates[:, t]; at a PAD step both are 0. At t = 0 gh is not read (h_{-1} = 0, so W_hh h = 0).
//
// gru_backward_step_kernel, one thread per (b, j) of step t (called for t = len-1 down to 0):
// dh = dy[b, t] + carry[b] (carry: dh_{t} flowing back from step t+1), then the pre-activation
// gradients da_r, da_z, da_n; overwrites dgi[row] = [da_r, da_z, da_n], dgh[row] = [da_r, da_z,
// da_n r], hprev[row] = h_{t-1} (for the one dW_hh GEMM after the loop) and carry[b] = dh z (the
// direct part of dh_{t-1}; the host then adds dgh[:, t] W_hh with a GEMM). A PAD step writes zeros
// to dgi, dgh, hprev and carry: no gradient flows through it. dy is only read.
#include "common.cuh"

static __device__ __forceinline__ float gru_sigmoid(float a) { return 1.0f / (1.0f + expf(-a)); }

extern "C" __global__ void gru_forward_step_kernel(int batch, int len, int hidden, int t,
                                                   const float* __restrict__ gi,
                                                   const float* __restrict__ gh,
                                                   const float* __restrict__ bih,
                                                   const float* __restrict__ bhh,
                                                   const int* __restrict__ ids, float* y,
                                                   float* __restrict__ gates) {
  const long long h3 = 3LL * hidden;
  RECJPQ_GRID_STRIDE(i, (long long)batch * hidden) {
    const int b = (int)(i / hidden);
    const int j = (int)(i % hidden);
    const long long row = (long long)b * len + t;
    float* g4 = gates + row * 4LL * hidden;
    if (ids != nullptr && ids[row] < 0) {
      y[row * hidden + j] = 0.0f;
      g4[j] = 0.0f;
      g4[hidden + j] = 0.0f;
      g4[2 * hidden + j] = 0.0f;
      g4[3 * hidden + j] = 0.0f;
      continue;
    }
    const float* gir = gi + row * h3;
    float hr = bhh[j];
    float hz = bhh[hidden + j];
    float hn = bhh[2 * hidden + j];
    float hprev = 0.0f;
    if (t > 0) {
      const float* ghr = gh + (long long)b * h3;
      hr += ghr[j];
      hz += ghr[hidden + j];
      hn += ghr[2 * hidden + j];
      hprev = y[(row - 1) * hidden + j];
    }
    const float r = gru_sigmoid((gir[j] + bih[j]) + hr);
    const float z = gru_sigmoid((gir[hidden + j] + bih[hidden + j]) + hz);
    const float n = tanhf((gir[2 * hidden + j] + bih[2 * hidden + j]) + r * hn);
    y[row * hidden + j] = (1.0f - z) * n + z * hprev;
    g4[j] = r;
    g4[hidden + j] = z;
    g4[2 * hidden + j] = n;
    g4[3 * hidden + j] = hn;
  }
}

extern "C" __global__ void gru_backward_step_kernel(int batch, int len, int hidden, int t,
                                                    const float* __restrict__ dy,
                                                    const float* __restrict__ y,
                                                    const float* __restrict__ gates,
                                                    const int* __restrict__ ids,
                                                    float* __restrict__ carry,
                                                    float* __restrict__ dgi,
                                                    float* __restrict__ dgh,
                                                    float* __restrict__ hprev) {
  const long long h3 = 3LL * hidden;
  RECJPQ_GRID_STRIDE(i, (long long)batch * hidden) {
    const int b = (int)(i / hidden);
    const int j = (int)(i % hidden);
    const long long row = (long long)b * len + t;
    float* dgir = dgi + row * h3;
    float* dghr = dgh + row * h3;
    if (ids != nullptr && ids[row] < 0) {
      dgir[j] = 0.0f;
      dgir[hidden + j] = 0.0f;
      dgir[2 * hidden + j] = 0.0f;
      dghr[j] = 0.0f;
      dghr[hidden + j] = 0.0f;
      dghr[2 * hidden + j] = 0.0f;
      hprev[row * hidden + j] = 0.0f;
      carry[i] = 0.0f;
      continue;
    }
    const float hp = t > 0 ? y[(row - 1) * hidden + j] : 0.0f;
    const float dh = dy[row * hidden + j] + carry[i];
    const float* g4 = gates + row * 4LL * hidden;
    const float r = g4[j];
    const float z = g4[hidden + j];
    const float n = g4[2 * hidden + j];
    const float ghn = g4[3 * hidden + j];
    const float dn = dh * (1.0f - z);
    const float dz = dh * (hp - n);
    const float dan = dn * (1.0f - n * n);
    const float dar = dan * ghn * r * (1.0f - r);
    const float daz = dz * z * (1.0f - z);
    dgir[j] = dar;
    dgir[hidden + j] = daz;
    dgir[2 * hidden + j] = dan;
    dghr[j] = dar;
    dghr[hidden + j] = daz;
    dghr[2 * hidden + j] = dan * r;
    hprev[row * hidden + j] = hp;
    carry[i] = dh * z;
  }
}
