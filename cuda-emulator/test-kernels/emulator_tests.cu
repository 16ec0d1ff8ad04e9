// Kernels that prove the CUDA emulator bites (CudaEmulatorTest): each is wrong on purpose, or
// checks one emulated feature. Never part of the product's fatbin; the emulator loads them as the
// kernel set "test" (cuModuleLoadData of the image "RECJPQ-EMULATOR-KERNELS:test").

// A data race between the threads of a block and between blocks: every thread folds its index
// into one word without atomics, and every block overwrites a second word. The result depends on
// the order the threads and blocks run in.
extern "C" __global__ void emu_test_racy_kernel(int* out) {
  unsigned int old = (unsigned int)out[0];
  out[0] = (int)(old * 31u + threadIdx.x + 1u);
  out[1] = (int)blockIdx.x;
}

// The same fold, made order-independent with an atomic (the control for the racy kernel).
extern "C" __global__ void emu_test_atomic_kernel(int* out) {
  atomicAdd(out, (int)threadIdx.x + 1);
}

// Writes x[i] for i in [0, n + past): `past` elements beyond the end of an n-element buffer.
extern "C" __global__ void emu_test_write_past_kernel(int n, int past, float* x) {
  int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i < n + past) x[i] = 1.0f;
}

// Threads below `half` wait at a barrier the others never reach.
extern "C" __global__ void emu_test_divergent_barrier_kernel(int half, int* out) {
  if ((int)threadIdx.x < half) {
    __syncthreads();
  }
  out[threadIdx.x] = 1;
}

// Dynamic shared memory round trip: each thread writes its slot, then reads its neighbour's.
extern __shared__ float emu_test_dynamic[];
extern "C" __global__ void emu_test_dynamic_shared_kernel(int floats, float* out) {
  for (int i = threadIdx.x; i < floats; i += blockDim.x) emu_test_dynamic[i] = (float)i;
  __syncthreads();
  int j = (threadIdx.x + 1) % blockDim.x;
  out[blockIdx.x * blockDim.x + threadIdx.x] = emu_test_dynamic[j];
}

// Reads static shared memory, which the block writes first only when `write` is non-zero (with
// `write` = 0 every read is of memory nobody wrote in this block).
extern "C" __global__ void emu_test_uninitialised_shared_kernel(int write, float* out) {
  __shared__ float maybe_written[64];
  if (write) maybe_written[threadIdx.x % 64] = 1.0f;
  __syncthreads();
  out[threadIdx.x] = maybe_written[(threadIdx.x + 1) % 64];
}

// A warp sum by shuffles: every lane gets the sum of the lane indices of its warp.
extern "C" __global__ void emu_test_warp_sum_kernel(float* out) {
  float v = (float)(threadIdx.x & 31);
  for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
  out[threadIdx.x] = v;
}

// A barrier-based block reduction that is correct only because of the barriers.
extern "C" __global__ void emu_test_block_sum_kernel(int n, const float* in, float* out) {
  __shared__ float partial[256];
  float s = 0.f;
  for (int i = threadIdx.x; i < n; i += blockDim.x) s += in[i];
  partial[threadIdx.x] = s;
  __syncthreads();
  for (int stride = blockDim.x / 2; stride > 0; stride >>= 1) {
    if ((int)threadIdx.x < stride) partial[threadIdx.x] += partial[threadIdx.x + stride];
    __syncthreads();
  }
  if (threadIdx.x == 0) out[blockIdx.x] = partial[0];
}

// Does nothing: for launch-limit checks.
extern "C" __global__ void emu_test_empty_kernel(int unused) { (void)unused; }
