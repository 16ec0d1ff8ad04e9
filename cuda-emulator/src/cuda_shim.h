// The shim that lets the host C++ compiler build the unchanged cuda/*.cu kernels for the CUDA
// emulator: CUDA's keywords, built-in variables, barriers, warp collectives, atomics and the math
// intrinsics the kernels use, mapped onto the emulator's runtime (emu_device.h). Compiled with
// -ffp-contract=off, so a*b+c stays two roundings unless a kernel asks for fmaf.
//
// What maps to what:
//   __global__, __device__, __host__   nothing (kernels are extern "C" host functions)
//   __shared__                         thread_local: one copy per executing OS thread, and the
//                                      runtime runs one block at a time on a thread, so every
//                                      emulated thread of a block sees the same variable; the
//                                      runtime poisons it at each block's start
//   extern __shared__ T name[]         the same, defined by the generated kernel library with the
//                                      device's largest opt-in size (see CMakeLists.txt)
//   threadIdx, blockIdx, ...           the runtime's current fiber and block
//   __syncthreads, __shfl_*_sync, ...  runtime calls that suspend the fiber (switch points)
//   atomics                            plain read-modify-write: fibers only switch at barriers and
//                                      collectives, never inside an atomic
#ifndef RECJPQ_CUDA_SHIM_H
#define RECJPQ_CUDA_SHIM_H

#include <math.h>

#include <cfloat>
#include <climits>
#include <cmath>
#include <cstdint>
#include <cstring>

#include "emu_device.h"

#define __global__
#define __device__
#define __host__
#define __forceinline__ inline __attribute__((always_inline))
#define __noinline__ __attribute__((noinline))
#define __restrict__ __restrict
#define __shared__ thread_local
#define __constant__ const
#define __launch_bounds__(...)

struct uint3 {
  unsigned int x, y, z;
};
typedef uint3 dim3;

#define threadIdx (*reinterpret_cast<const uint3*>(&recjpq_emu_fiber->tid))
#define blockIdx (*reinterpret_cast<const uint3*>(&recjpq_emu_block_idx))
#define blockDim (*reinterpret_cast<const uint3*>(&recjpq_emu_block_dim))
#define gridDim (*reinterpret_cast<const uint3*>(&recjpq_emu_grid_dim))
#define warpSize 32

#define RECJPQ_EMU_SITE __builtin_return_address(0)

// ---- barriers and warp collectives ---------------------------------------------------------------

__attribute__((noinline)) static void __syncthreads() { recjpq_emu_syncthreads(RECJPQ_EMU_SITE); }
__attribute__((noinline)) static void __syncwarp(unsigned int mask = 0xffffffffu) {
  recjpq_emu_warp(recjpq_emu::WARP_SYNC, mask, 0, 0, 32, RECJPQ_EMU_SITE);
}
__attribute__((noinline)) static void __trap() { recjpq_emu_trap("__trap()", RECJPQ_EMU_SITE); }

namespace recjpq_emu_shim {
template <typename T>
inline uint64_t bits_of(T v) {
  static_assert(sizeof(T) <= 8, "warp collectives move at most 8 bytes");
  uint64_t b = 0;
  std::memcpy(&b, &v, sizeof(T));
  return b;
}

template <typename T>
inline T from_bits(uint64_t b) {
  T v;
  std::memcpy(&v, &b, sizeof(T));
  return v;
}
}  // namespace recjpq_emu_shim

template <typename T>
__attribute__((noinline)) static T __shfl_sync(unsigned int mask, T v, int lane, int width = 32) {
  return recjpq_emu_shim::from_bits<T>(
      recjpq_emu_warp(recjpq_emu::WARP_SHFL_IDX, mask, recjpq_emu_shim::bits_of(v), lane, width, RECJPQ_EMU_SITE));
}

template <typename T>
__attribute__((noinline)) static T __shfl_up_sync(unsigned int mask, T v, unsigned int delta, int width = 32) {
  return recjpq_emu_shim::from_bits<T>(recjpq_emu_warp(recjpq_emu::WARP_SHFL_UP, mask, recjpq_emu_shim::bits_of(v),
                                                       (int)delta, width, RECJPQ_EMU_SITE));
}

template <typename T>
__attribute__((noinline)) static T __shfl_down_sync(unsigned int mask, T v, unsigned int delta, int width = 32) {
  return recjpq_emu_shim::from_bits<T>(recjpq_emu_warp(recjpq_emu::WARP_SHFL_DOWN, mask,
                                                       recjpq_emu_shim::bits_of(v), (int)delta, width,
                                                       RECJPQ_EMU_SITE));
}

template <typename T>
__attribute__((noinline)) static T __shfl_xor_sync(unsigned int mask, T v, int laneMask, int width = 32) {
  return recjpq_emu_shim::from_bits<T>(recjpq_emu_warp(recjpq_emu::WARP_SHFL_XOR, mask,
                                                       recjpq_emu_shim::bits_of(v), laneMask, width,
                                                       RECJPQ_EMU_SITE));
}

__attribute__((noinline)) static unsigned int __ballot_sync(unsigned int mask, int predicate) {
  return (unsigned int)recjpq_emu_warp(recjpq_emu::WARP_BALLOT, mask, predicate != 0, 0, 32, RECJPQ_EMU_SITE);
}
__attribute__((noinline)) static int __any_sync(unsigned int mask, int predicate) {
  return (int)recjpq_emu_warp(recjpq_emu::WARP_ANY, mask, predicate != 0, 0, 32, RECJPQ_EMU_SITE);
}
__attribute__((noinline)) static int __all_sync(unsigned int mask, int predicate) {
  return (int)recjpq_emu_warp(recjpq_emu::WARP_ALL, mask, predicate != 0, 0, 32, RECJPQ_EMU_SITE);
}

// ---- atomics (return the old value, as CUDA's) -----------------------------------------------------

template <typename T>
static inline T atomicAdd(T* address, T value) {
  T old = *address;
  *address = old + value;
  return old;
}
template <typename T>
static inline T atomicSub(T* address, T value) {
  T old = *address;
  *address = old - value;
  return old;
}
template <typename T>
static inline T atomicExch(T* address, T value) {
  T old = *address;
  *address = value;
  return old;
}
template <typename T>
static inline T atomicMax(T* address, T value) {
  T old = *address;
  *address = old < value ? value : old;
  return old;
}
template <typename T>
static inline T atomicMin(T* address, T value) {
  T old = *address;
  *address = value < old ? value : old;
  return old;
}
template <typename T>
static inline T atomicCAS(T* address, T compare, T value) {
  T old = *address;
  *address = old == compare ? value : old;
  return old;
}
static inline unsigned int atomicInc(unsigned int* address, unsigned int limit) {
  unsigned int old = *address;
  *address = old >= limit ? 0u : old + 1u;
  return old;
}

// ---- memory and bit helpers ---------------------------------------------------------------------------

template <typename T>
static inline T __ldg(const T* p) {
  return *p;
}

static inline unsigned int __float_as_uint(float f) {
  unsigned int u;
  std::memcpy(&u, &f, 4);
  return u;
}
static inline float __uint_as_float(unsigned int u) {
  float f;
  std::memcpy(&f, &u, 4);
  return f;
}
static inline int __float_as_int(float f) {
  int u;
  std::memcpy(&u, &f, 4);
  return u;
}
static inline float __int_as_float(int u) {
  float f;
  std::memcpy(&f, &u, 4);
  return f;
}
static inline long long __double_as_longlong(double d) {
  long long u;
  std::memcpy(&u, &d, 8);
  return u;
}
static inline double __longlong_as_double(long long u) {
  double d;
  std::memcpy(&d, &u, 8);
  return d;
}
static inline int __popc(unsigned int x) { return __builtin_popcount(x); }
static inline int __popcll(unsigned long long x) { return __builtin_popcountll(x); }
static inline int __clz(int x) { return x == 0 ? 32 : __builtin_clz((unsigned int)x); }
static inline int __ffs(int x) { return __builtin_ffs(x); }

// ---- arithmetic with explicit rounding (round to nearest even: the host's default) ----------------

static inline float __fadd_rn(float a, float b) { return a + b; }
static inline float __fsub_rn(float a, float b) { return a - b; }
static inline float __fmul_rn(float a, float b) { return a * b; }
static inline float __fdiv_rn(float a, float b) { return a / b; }
static inline float __fmaf_rn(float a, float b, float c) { return fmaf(a, b, c); }
static inline double __dadd_rn(double a, double b) { return a + b; }
static inline double __dsub_rn(double a, double b) { return a - b; }
static inline double __dmul_rn(double a, double b) { return a * b; }
static inline double __ddiv_rn(double a, double b) { return a / b; }
static inline double __fma_rn(double a, double b, double c) { return fma(a, b, c); }
static inline long long __float2ll_rn(float f) { return llrintf(f); }
static inline int __float2int_rn(float f) { return (int)lrintf(f); }
static inline float __saturatef(float x) { return x < 0.f ? 0.f : (x > 1.f ? 1.f : x); }
static inline float rsqrtf(float x) { return 1.0f / sqrtf(x); }
static inline double rsqrt(double x) { return 1.0 / sqrt(x); }

// CUDA's integer min/max overloads (the device headers provide them for every integer type).
static inline int min(int a, int b) { return a < b ? a : b; }
static inline int max(int a, int b) { return a > b ? a : b; }
static inline unsigned int min(unsigned int a, unsigned int b) { return a < b ? a : b; }
static inline unsigned int max(unsigned int a, unsigned int b) { return a > b ? a : b; }
static inline long long min(long long a, long long b) { return a < b ? a : b; }
static inline long long max(long long a, long long b) { return a > b ? a : b; }
static inline unsigned long long min(unsigned long long a, unsigned long long b) { return a < b ? a : b; }
static inline unsigned long long max(unsigned long long a, unsigned long long b) { return a > b ? a : b; }
static inline float min(float a, float b) { return fminf(a, b); }
static inline float max(float a, float b) { return fmaxf(a, b); }
static inline double min(double a, double b) { return fmin(a, b); }
static inline double max(double a, double b) { return fmax(a, b); }

using std::isfinite;
using std::isinf;
using std::isnan;

#endif  // RECJPQ_CUDA_SHIM_H
