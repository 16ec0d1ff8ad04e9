// The interface between emulated kernels (cuda/*.cu compiled as C++ through cuda_shim.h) and the
// emulator's runtime (runtime.cpp, in libcuda.so.1). Kernel libraries include it through the
// shim; the runtime includes it to see the same structures.
#ifndef RECJPQ_EMU_DEVICE_H
#define RECJPQ_EMU_DEVICE_H

#include <cstddef>
#include <cstdint>

namespace recjpq_emu {

struct Dim3u {
  unsigned int x, y, z;
};

// One emulated CUDA thread. `tid` must stay the first member: the shim reads threadIdx from it.
struct Fiber {
  Dim3u tid;
  void* sp;        // saved stack pointer while suspended
  int linear;      // linear index in the block (x fastest)
  int state;       // FiberState
  int stack;       // stack slot, -1 when none
  // the warp collective or barrier the fiber waits at
  int op;
  unsigned int mask;
  int arg;
  int width;
  uint64_t value;
  uint64_t result;
  const void* site;  // return address of the barrier / collective call
};

enum FiberState { FIBER_NEW = 0, FIBER_RUNNABLE, FIBER_BARRIER, FIBER_WARP, FIBER_DONE };

enum WarpOp {
  WARP_SHFL_IDX = 1,
  WARP_SHFL_UP,
  WARP_SHFL_DOWN,
  WARP_SHFL_XOR,
  WARP_BALLOT,
  WARP_ANY,
  WARP_ALL,
  WARP_SYNC
};

// How a kernel of a library is described to the runtime (one entry per extern "C" __global__).
struct KernelInfo {
  const char* name;
  const void* function;          // the compiled kernel
  int arity;                     // parameters
  const char* const* param_types;  // C type of each parameter, as the compiler sees it
  const unsigned char* param_is_pointer;
  // copies the launch's parameters (void** as cuLaunchKernel gets them) into `storage` (at least
  // args_bytes bytes, 16-byte aligned)
  void (*capture)(void** params, void* storage);
  // calls the kernel with the captured parameters (one emulated thread)
  void (*invoke)(const void* function, const void* storage);
  size_t args_bytes;
  int static_shared_bytes;  // from the source scan (see CMakeLists.txt)
};

// A kernel library's table (exported as recjpq_emu_kernel_library from each kernel .so).
struct KernelLibrary {
  const char* set;  // "project" or "test"
  const KernelInfo* kernels;
  int count;
  // every extern __shared__ array of the library (this thread's copy) and its capacity in bytes
  int dynamic_arrays;
  void* (*dynamic_array)(int index);
  size_t dynamic_capacity;
};

}  // namespace recjpq_emu

extern "C" {
// The executing fiber and its block's coordinates (the runtime serialises all execution).
extern recjpq_emu::Fiber* recjpq_emu_fiber;
extern recjpq_emu::Dim3u recjpq_emu_block_idx;
extern recjpq_emu::Dim3u recjpq_emu_block_dim;
extern recjpq_emu::Dim3u recjpq_emu_grid_dim;

// __syncthreads(): suspends the fiber until every thread of the block is at a barrier.
void recjpq_emu_syncthreads(const void* site);
// A warp collective: suspends until every lane named in `mask` joins, returns this lane's result.
uint64_t recjpq_emu_warp(int op, unsigned int mask, uint64_t value, int arg, int width, const void* site);
// __trap() / a failed device check: aborts the launch with a message.
void recjpq_emu_trap(const char* what, const void* site);
}

#endif  // RECJPQ_EMU_DEVICE_H
