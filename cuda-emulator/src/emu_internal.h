// What the emulator's libraries share with each other (libcuda.so.1 exports these; the fake
// cuBLAS, runtime and cuDNN libraries link against it). Not part of any CUDA API.
#ifndef RECJPQ_EMU_INTERNAL_H
#define RECJPQ_EMU_INTERNAL_H

#include <cstddef>
#include <cstdint>

// CUDA driver statuses the emulator returns (values as in cuda.h).
enum {
  EMU_SUCCESS = 0,
  EMU_ERROR_INVALID_VALUE = 1,
  EMU_ERROR_OUT_OF_MEMORY = 2,
  EMU_ERROR_NOT_INITIALIZED = 3,
  EMU_ERROR_DEINITIALIZED = 4,
  EMU_ERROR_NO_DEVICE = 100,
  EMU_ERROR_INVALID_DEVICE = 101,
  EMU_ERROR_INVALID_IMAGE = 200,
  EMU_ERROR_INVALID_CONTEXT = 201,
  EMU_ERROR_INVALID_HANDLE = 400,
  EMU_ERROR_NOT_FOUND = 500,
  EMU_ERROR_ILLEGAL_ADDRESS = 700,
  EMU_ERROR_LAUNCH_OUT_OF_RESOURCES = 701,
  EMU_ERROR_CONTEXT_IS_DESTROYED = 709,
  EMU_ERROR_LAUNCH_FAILED = 719,
  EMU_ERROR_NOT_SUPPORTED = 801,
  EMU_ERROR_UNKNOWN = 999
};

#define EMU_API extern "C" __attribute__((visibility("default")))

// Serialises all execution: the emulated device has one stream, and kernels, copies and GEMMs
// run on the calling thread while holding this lock.
EMU_API void recjpq_emu_lock(void);
EMU_API void recjpq_emu_unlock(void);

// The context a runtime-API library (cuBLAS, cuDNN) works in: the calling thread's current
// context or, when the thread has none, device 0's primary context, retained once for the
// runtime and made current on the thread, as the CUDA runtime does. Null (with *status set) when
// the driver was not initialised.
EMU_API void* recjpq_emu_runtime_context(int* status);

// 0 when [p, p + bytes) lies inside one live device allocation; otherwise writes why into `why`.
EMU_API int recjpq_emu_check_range(const void* p, size_t bytes, char* why, size_t why_len);

// Records the detail of an error (returned by cuGetErrorString for `status` on this thread) and
// prints it on standard error, prefixed "recjpq CUDA emulator: ".
EMU_API void recjpq_emu_report(int status, const char* format, ...) __attribute__((format(printf, 2, 3)));

// Prints once per name that `name` is not emulated; returns `status`.
EMU_API int recjpq_emu_stub(const char* library, const char* name, int status);

#endif  // RECJPQ_EMU_INTERNAL_H
