// The CUDA emulator's cuDNN (built as libcudnn.so.9 and each of its sub-libraries, which Bytedeco's
// JNI library links against): the version, error strings, and handle creation and destruction,
// which is what the project uses cuDNN for (the device check's probe). Every other entry
// (generated from stubs/cudnn.txt) says it is not emulated.
#include <cstddef>
#include <cstdint>

#include "emu_internal.h"

#define CUDNN_API extern "C" __attribute__((visibility("default")))

namespace {
struct CudnnHandle {
  uint64_t magic = 0x6e6e6475434552ull;
  void* context = nullptr;
  void* stream = nullptr;
};
}  // namespace

CUDNN_API size_t cudnnGetVersion(void) { return 91900; }
CUDNN_API size_t cudnnGetCudartVersion(void) { return 13000; }
CUDNN_API size_t cudnnGetMaxDeviceVersion(void) { return 900; }

CUDNN_API const char* cudnnGetErrorString(int status) {
  switch (status) {
    case 0: return "CUDNN_STATUS_SUCCESS";
    case 1001: return "CUDNN_STATUS_NOT_INITIALIZED";
    case 2000: return "CUDNN_STATUS_BAD_PARAM";
    case 3000: return "CUDNN_STATUS_NOT_SUPPORTED (not emulated by the recjpq CUDA emulator)";
    default: return "CUDNN_STATUS_INTERNAL_ERROR";
  }
}

CUDNN_API int cudnnCreate(CudnnHandle** handle) {
  if (handle == nullptr) return 2000;
  int status;
  void* context = recjpq_emu_runtime_context(&status);
  if (context == nullptr) return 1001;
  CudnnHandle* h = new CudnnHandle();
  h->context = context;
  *handle = h;
  return 0;
}

CUDNN_API int cudnnDestroy(CudnnHandle* handle) {
  if (handle == nullptr || handle->magic != 0x6e6e6475434552ull) return 2000;
  handle->magic = 0;
  delete handle;
  return 0;
}

CUDNN_API int cudnnSetStream(CudnnHandle* handle, void* stream) {
  if (handle == nullptr) return 2000;
  handle->stream = stream;
  return 0;
}

CUDNN_API int cudnnGetStream(CudnnHandle* handle, void** stream) {
  if (handle == nullptr || stream == nullptr) return 2000;
  *stream = handle->stream;
  return 0;
}
