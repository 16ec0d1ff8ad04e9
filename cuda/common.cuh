// Shared device helpers for the recjpq kernels. Included by the kernel files; the unity build
// (see CMakeLists.txt) may include it several times, hence the guard.
#ifndef RECJPQ_COMMON_CUH
#define RECJPQ_COMMON_CUH

#include <cstdint>

// Grid-stride loop over [0, n): every kernel that walks a flat range uses it, so launch sizes
// can be capped without changing results.
#define RECJPQ_GRID_STRIDE(i, n) \
  for (long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x; i < (long long)(n); \
       i += (long long)blockDim.x * gridDim.x)

#endif  // RECJPQ_COMMON_CUH
