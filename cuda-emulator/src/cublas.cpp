// The CUDA emulator's cuBLAS (libcublas.so.13): handles, math and pointer modes, streams, and a
// plain reference SGEMM (single and strided-batched) that honours transposes, leading dimensions,
// alpha/beta and strides, checked against the device allocations it reads and writes. TF32 math
// rounds the operands to TF32 (10-bit mantissa, round to nearest, ties away), as tensor cores do.
// Every other cuBLAS entry is a stub (generated from stubs/cublas.txt) that says it is not emulated.
#include <cinttypes>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <mutex>
#include <set>
#include <vector>

#include "emu_internal.h"

namespace {

enum {
  STATUS_SUCCESS = 0,
  STATUS_NOT_INITIALIZED = 1,
  STATUS_INVALID_VALUE = 7,
  STATUS_EXECUTION_FAILED = 13,
  STATUS_NOT_SUPPORTED = 15,
};

constexpr int kVersion = 130201;  // the version of Bytedeco's cuBLAS preset (13.2.1)
constexpr uint64_t kMagic = 0x62616c4255434552ull;

struct Handle {
  uint64_t magic = kMagic;
  void* context = nullptr;
  int math_mode = 0;
  int pointer_mode = 0;
  void* stream = nullptr;
  bool destroyed = false;
};

std::mutex g_handles_lock;
std::set<Handle*> g_handles;  // never freed: a destroyed handle stays recognisable

int check_handle(const char* call, Handle* h) {
  std::lock_guard<std::mutex> guard(g_handles_lock);
  if (h == nullptr || !g_handles.count(h) || h->magic != kMagic) {
    recjpq_emu_report(STATUS_NOT_INITIALIZED, "%s: %p is not a cuBLAS handle", call, (void*)h);
    return STATUS_NOT_INITIALIZED;
  }
  if (h->destroyed) {
    recjpq_emu_report(STATUS_NOT_INITIALIZED, "%s: the cuBLAS handle was destroyed", call);
    return STATUS_NOT_INITIALIZED;
  }
  return STATUS_SUCCESS;
}

float to_tf32(float x) {
  uint32_t u;
  memcpy(&u, &x, 4);
  if ((u & 0x7f800000u) != 0x7f800000u) {  // finite: round the low 13 bits away, ties away from zero
    u += 0x1000u;
    u &= 0xffffe000u;
  }
  memcpy(&x, &u, 4);
  return x;
}

// Σ a[p]·b[p] over k terms, float, eight running sums (the order of a blocked GEMM).
float dot(const float* a, const float* b, int k) {
  float s[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  int p = 0;
  for (; p + 8 <= k; p += 8) {
    for (int q = 0; q < 8; q++) s[q] += a[p + q] * b[p + q];
  }
  for (; p < k; p++) s[p & 7] += a[p] * b[p];
  return ((s[0] + s[1]) + (s[2] + s[3])) + ((s[4] + s[5]) + (s[6] + s[7]));
}

bool valid_op(int op) { return op == 0 || op == 1 || op == 2; }

// The bytes a column-major operand of `rows` x `cols` with leading dimension ld spans.
size_t extent(long rows, long cols, long ld) {
  if (rows == 0 || cols == 0) return 0;
  return ((size_t)(cols - 1) * (size_t)ld + (size_t)rows) * sizeof(float);
}

int check_operand(const char* call, const char* which, const float* p, long rows, long cols, long ld) {
  size_t bytes = extent(rows, cols, ld);
  if (bytes == 0) return STATUS_SUCCESS;
  char why[512];
  if (recjpq_emu_check_range(p, bytes, why, sizeof why)) {
    recjpq_emu_report(STATUS_EXECUTION_FAILED, "%s: operand %s (%ld x %ld, ld %ld): %s", call, which, rows, cols, ld,
                      why);
    return STATUS_EXECUTION_FAILED;
  }
  return STATUS_SUCCESS;
}

thread_local std::vector<float> t_a, t_b;

// C (m x n, column-major) = alpha op(A) op(B) + beta C for one matrix of the batch.
void gemm_one(bool ta, bool tb, int m, int n, int k, float alpha, const float* a, int lda, const float* b, int ldb,
              float beta, float* c, int ldc, bool tf32) {
  if (k == 0 || alpha == 0.0f) {
    for (int j = 0; j < n; j++) {
      for (int i = 0; i < m; i++) {
        float& x = c[(size_t)j * ldc + i];
        x = beta == 0.0f ? 0.0f : beta * x;
      }
    }
    return;
  }
  // op(A) as m rows of k, op(B) as n rows of k, contiguous
  t_a.resize((size_t)m * k);
  t_b.resize((size_t)n * k);
  for (int i = 0; i < m; i++) {
    for (int p = 0; p < k; p++) {
      float v = ta ? a[(size_t)i * lda + p] : a[(size_t)p * lda + i];
      t_a[(size_t)i * k + p] = tf32 ? to_tf32(v) : v;
    }
  }
  for (int j = 0; j < n; j++) {
    for (int p = 0; p < k; p++) {
      float v = tb ? b[(size_t)p * ldb + j] : b[(size_t)j * ldb + p];
      t_b[(size_t)j * k + p] = tf32 ? to_tf32(v) : v;
    }
  }
  for (int j = 0; j < n; j++) {
    const float* bj = t_b.data() + (size_t)j * k;
    float* cj = c + (size_t)j * ldc;
    for (int i = 0; i < m; i++) {
      float s = alpha * dot(t_a.data() + (size_t)i * k, bj, k);
      cj[i] = beta == 0.0f ? s : s + beta * cj[i];
    }
  }
}

int gemm(const char* call, Handle* h, int transa, int transb, int m, int n, int k, const float* alpha,
         const float* a, int lda, long long stride_a, const float* b, int ldb, long long stride_b, const float* beta,
         float* c, int ldc, long long stride_c, int batch) {
  int status = check_handle(call, h);
  if (status != STATUS_SUCCESS) return status;
  int ctx_status;
  if (recjpq_emu_runtime_context(&ctx_status) == nullptr) {
    recjpq_emu_report(STATUS_NOT_INITIALIZED, "%s: the CUDA driver is not initialised", call);
    return STATUS_NOT_INITIALIZED;
  }
  bool ta = transa != 0, tb = transb != 0;
  int a_rows = ta ? k : m, b_rows = tb ? n : k;
  if (!valid_op(transa) || !valid_op(transb) || m < 0 || n < 0 || k < 0 || batch < 0 || lda < (a_rows > 1 ? a_rows : 1) ||
      ldb < (b_rows > 1 ? b_rows : 1) || ldc < (m > 1 ? m : 1) || alpha == nullptr || beta == nullptr) {
    recjpq_emu_report(STATUS_INVALID_VALUE,
                      "%s(transa %d, transb %d, m %d, n %d, k %d, lda %d, ldb %d, ldc %d, batch %d): invalid arguments "
                      "(column-major: lda >= %d, ldb >= %d, ldc >= %d)",
                      call, transa, transb, m, n, k, lda, ldb, ldc, batch, a_rows > 1 ? a_rows : 1,
                      b_rows > 1 ? b_rows : 1, m > 1 ? m : 1);
    return STATUS_INVALID_VALUE;
  }
  if (m == 0 || n == 0 || batch == 0) return STATUS_SUCCESS;
  float al = *alpha, be = *beta;
  bool reads_ab = k > 0 && al != 0.0f;
  recjpq_emu_lock();
  for (int i = 0; i < batch; i++) {
    const float* ai = a + (ptrdiff_t)i * stride_a;
    const float* bi = b + (ptrdiff_t)i * stride_b;
    float* ci = c + (ptrdiff_t)i * stride_c;
    char which[32];
    snprintf(which, sizeof which, batch > 1 ? "C[%d]" : "C", i);
    status = check_operand(call, which, ci, m, n, ldc);
    if (status == STATUS_SUCCESS && reads_ab) {
      snprintf(which, sizeof which, batch > 1 ? "A[%d]" : "A", i);
      status = check_operand(call, which, ai, ta ? k : m, ta ? m : k, lda);
    }
    if (status == STATUS_SUCCESS && reads_ab) {
      snprintf(which, sizeof which, batch > 1 ? "B[%d]" : "B", i);
      status = check_operand(call, which, bi, tb ? n : k, tb ? k : n, ldb);
    }
    if (status != STATUS_SUCCESS) break;
  }
  if (status == STATUS_SUCCESS) {
    bool tf32 = h->math_mode == 3 || h->math_mode == 1;
    for (int i = 0; i < batch; i++) {
      gemm_one(ta, tb, m, n, k, al, a + (ptrdiff_t)i * stride_a, lda, b + (ptrdiff_t)i * stride_b, ldb, be,
               c + (ptrdiff_t)i * stride_c, ldc, tf32);
    }
  }
  recjpq_emu_unlock();
  return status;
}

const char* status_name(int status) {
  switch (status) {
    case 0: return "CUBLAS_STATUS_SUCCESS";
    case 1: return "CUBLAS_STATUS_NOT_INITIALIZED";
    case 3: return "CUBLAS_STATUS_ALLOC_FAILED";
    case 7: return "CUBLAS_STATUS_INVALID_VALUE";
    case 8: return "CUBLAS_STATUS_ARCH_MISMATCH";
    case 11: return "CUBLAS_STATUS_MAPPING_ERROR";
    case 13: return "CUBLAS_STATUS_EXECUTION_FAILED";
    case 14: return "CUBLAS_STATUS_INTERNAL_ERROR";
    case 15: return "CUBLAS_STATUS_NOT_SUPPORTED";
    case 16: return "CUBLAS_STATUS_LICENSE_ERROR";
    default: return "CUBLAS_STATUS_UNKNOWN";
  }
}

}  // namespace

#define CUBLAS_API extern "C" __attribute__((visibility("default")))

CUBLAS_API int cublasCreate_v2(Handle** handle) {
  if (handle == nullptr) return STATUS_INVALID_VALUE;
  int status;
  void* context = recjpq_emu_runtime_context(&status);
  if (context == nullptr) {
    recjpq_emu_report(STATUS_NOT_INITIALIZED, "cublasCreate_v2: the CUDA driver is not initialised (cuInit)");
    return STATUS_NOT_INITIALIZED;
  }
  Handle* h = new Handle();
  h->context = context;
  std::lock_guard<std::mutex> guard(g_handles_lock);
  g_handles.insert(h);
  *handle = h;
  return STATUS_SUCCESS;
}

CUBLAS_API int cublasDestroy_v2(Handle* handle) {
  int status = check_handle("cublasDestroy_v2", handle);
  if (status != STATUS_SUCCESS) return status;
  handle->destroyed = true;
  return STATUS_SUCCESS;
}

CUBLAS_API int cublasGetVersion_v2(Handle* handle, int* version) {
  int status = check_handle("cublasGetVersion_v2", handle);
  if (status != STATUS_SUCCESS) return status;
  if (version == nullptr) return STATUS_INVALID_VALUE;
  *version = kVersion;
  return STATUS_SUCCESS;
}

CUBLAS_API int cublasGetProperty(int type, int* value) {
  if (value == nullptr) return STATUS_INVALID_VALUE;
  switch (type) {
    case 0: *value = kVersion / 10000; return STATUS_SUCCESS;
    case 1: *value = kVersion / 100 % 100; return STATUS_SUCCESS;
    case 2: *value = kVersion % 100; return STATUS_SUCCESS;
    default: return STATUS_INVALID_VALUE;
  }
}

CUBLAS_API size_t cublasGetCudartVersion(void) { return 13000; }

CUBLAS_API int cublasSetMathMode(Handle* handle, int mode) {
  int status = check_handle("cublasSetMathMode", handle);
  if (status != STATUS_SUCCESS) return status;
  int base = mode & ~16;  // CUBLAS_MATH_DISALLOW_REDUCED_PRECISION_REDUCTION
  if (base < 0 || base > 3) {
    recjpq_emu_report(STATUS_INVALID_VALUE, "cublasSetMathMode(%d): not a math mode the emulator knows", mode);
    return STATUS_INVALID_VALUE;
  }
  handle->math_mode = base;
  return STATUS_SUCCESS;
}

CUBLAS_API int cublasGetMathMode(Handle* handle, int* mode) {
  int status = check_handle("cublasGetMathMode", handle);
  if (status != STATUS_SUCCESS) return status;
  if (mode == nullptr) return STATUS_INVALID_VALUE;
  *mode = handle->math_mode;
  return STATUS_SUCCESS;
}

CUBLAS_API int cublasSetPointerMode_v2(Handle* handle, int mode) {
  int status = check_handle("cublasSetPointerMode_v2", handle);
  if (status != STATUS_SUCCESS) return status;
  if (mode != 0 && mode != 1) return STATUS_INVALID_VALUE;
  handle->pointer_mode = mode;  // device memory is host memory here, so both modes read alike
  return STATUS_SUCCESS;
}

CUBLAS_API int cublasGetPointerMode_v2(Handle* handle, int* mode) {
  int status = check_handle("cublasGetPointerMode_v2", handle);
  if (status != STATUS_SUCCESS) return status;
  if (mode == nullptr) return STATUS_INVALID_VALUE;
  *mode = handle->pointer_mode;
  return STATUS_SUCCESS;
}

CUBLAS_API int cublasSetStream_v2(Handle* handle, void* stream) {
  int status = check_handle("cublasSetStream_v2", handle);
  if (status != STATUS_SUCCESS) return status;
  if (reinterpret_cast<uintptr_t>(stream) > 2) {
    recjpq_emu_report(STATUS_NOT_SUPPORTED, "cublasSetStream_v2: the emulator has only the default stream");
    return STATUS_NOT_SUPPORTED;
  }
  handle->stream = stream;
  return STATUS_SUCCESS;
}

CUBLAS_API int cublasGetStream_v2(Handle* handle, void** stream) {
  int status = check_handle("cublasGetStream_v2", handle);
  if (status != STATUS_SUCCESS) return status;
  if (stream == nullptr) return STATUS_INVALID_VALUE;
  *stream = handle->stream;
  return STATUS_SUCCESS;
}

CUBLAS_API const char* cublasGetStatusName(int status) { return status_name(status); }

CUBLAS_API const char* cublasGetStatusString(int status) {
  switch (status) {
    case 0: return "success";
    case 1: return "the library was not initialized";
    case 7: return "an invalid numeric value was used as an argument";
    case 13: return "the GPU program failed to execute (CUDA emulator: see its message on standard error)";
    case 15: return "the functionality requested is not supported";
    default: return status_name(status);
  }
}

CUBLAS_API int cublasSgemm_v2(Handle* handle, int transa, int transb, int m, int n, int k, const float* alpha,
                              const float* a, int lda, const float* b, int ldb, const float* beta, float* c, int ldc) {
  return gemm("cublasSgemm_v2", handle, transa, transb, m, n, k, alpha, a, lda, 0, b, ldb, 0, beta, c, ldc, 0, 1);
}

CUBLAS_API int cublasSgemmStridedBatched(Handle* handle, int transa, int transb, int m, int n, int k,
                                         const float* alpha, const float* a, int lda, long long stride_a,
                                         const float* b, int ldb, long long stride_b, const float* beta, float* c,
                                         int ldc, long long stride_c, int batch) {
  return gemm("cublasSgemmStridedBatched", handle, transa, transb, m, n, k, alpha, a, lda, stride_a, b, ldb, stride_b,
              beta, c, ldc, stride_c, batch);
}
