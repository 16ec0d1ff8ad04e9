// The CUDA emulator's runtime library (libcudart.so.13). The project calls the runtime only
// through cuBLAS and cuDNN, which the emulator provides itself, so this library exists for
// Bytedeco's JNI libraries to link against: version queries and error strings are answered, and
// every other entry (generated from stubs/cudart.txt) says it is not emulated.
#include <cstddef>

#include "emu_internal.h"

#define CUDART_API extern "C" __attribute__((visibility("default")))

CUDART_API int cudaRuntimeGetVersion(int* version) {
  if (version == nullptr) return 1;
  *version = 13000;
  return 0;
}

CUDART_API int cudaDriverGetVersion(int* version) {
  if (version == nullptr) return 1;
  *version = 13000;
  return 0;
}

CUDART_API int cudaGetDeviceCount(int* count) {
  if (count == nullptr) return 1;
  int status;
  *count = recjpq_emu_runtime_context(&status) == nullptr ? 0 : 1;
  return 0;
}

CUDART_API const char* cudaGetErrorName(int error) {
  return error == 0 ? "cudaSuccess" : (error == 801 ? "cudaErrorNotSupported" : "cudaErrorUnknown");
}

CUDART_API const char* cudaGetErrorString(int error) {
  return error == 0 ? "no error"
                    : (error == 801 ? "operation not supported (not emulated by the recjpq CUDA emulator)"
                                    : "unknown error (recjpq CUDA emulator)");
}

CUDART_API int cudaGetLastError(void) { return 0; }
CUDART_API int cudaPeekAtLastError(void) { return 0; }
