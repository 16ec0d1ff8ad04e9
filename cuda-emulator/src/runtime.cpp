// The CUDA emulator's fake driver (libcuda.so.1): the driver-API entry points that JCuda calls,
// device memory as guarded host memory, contexts with the real driver's per-thread rules, modules
// whose kernels are the unchanged cuda/*.cu compiled for the host, and the executor that runs a
// launch's CUDA threads as fibers on the calling thread. See ../README.md for what this proves and
// what it cannot.
#include <dlfcn.h>
#include <link.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <sys/mman.h>
#include <ucontext.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cinttypes>
#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "emu_device.h"
#include "emu_internal.h"

using recjpq_emu::Dim3u;
using recjpq_emu::Fiber;
using recjpq_emu::KernelInfo;
using recjpq_emu::KernelLibrary;

// ---- the kernels' view of the executor --------------------------------------------------------------

extern "C" {
__attribute__((visibility("default"))) Fiber* recjpq_emu_fiber = nullptr;
__attribute__((visibility("default"))) Dim3u recjpq_emu_block_idx = {0, 0, 0};
__attribute__((visibility("default"))) Dim3u recjpq_emu_block_dim = {1, 1, 1};
__attribute__((visibility("default"))) Dim3u recjpq_emu_grid_dim = {1, 1, 1};

__attribute__((visibility("hidden"))) void recjpq_emu_switch(void** save_sp, void* load_sp);
__attribute__((visibility("hidden"))) void recjpq_emu_fiber_start();
__attribute__((visibility("hidden"))) void recjpq_emu_fiber_main(Fiber* fiber);
}

namespace {

// ---- configuration --------------------------------------------------------------------------------

constexpr int kMaxThreadsPerBlock = 1024;
constexpr unsigned kMaxBlockX = 1024, kMaxBlockY = 1024, kMaxBlockZ = 64;
constexpr unsigned kMaxGridX = 2147483647u, kMaxGridY = 65535, kMaxGridZ = 65535;
constexpr int kDefaultSharedPerBlock = 48 * 1024;
constexpr int kOptinSharedPerBlock = 227 * 1024;  // an H100's opt-in limit
constexpr size_t kReportedMemory = 80ull << 30;    // an H100's 80 GiB, as reported
constexpr size_t kFiberStack = 64 * 1024;
constexpr size_t kCanaryBytes = 256;
constexpr unsigned char kPoison = 0xFF;  // NaN as float and double, -1 as an integer
constexpr unsigned char kCanary = 0xA5;
constexpr const char* kImageMarker = "RECJPQ-EMULATOR-KERNELS:";

enum class Order { Forward, Reverse, Shuffle };

struct Config {
  std::string dir;         // where this library lives (its kernel libraries are beside it)
  Order order = Order::Forward;
  uint64_t seed = 1;
  std::string launch_log;  // where the launch counts go, empty for nowhere
  bool quiet = false;      // no error details on standard error
  size_t memory_limit = 0;  // host bytes the device memory may take
};

Config g_config;

const char* order_name(Order o) {
  return o == Order::Forward ? "forward" : (o == Order::Reverse ? "reverse" : "shuffle");
}

void apply_setting(const std::string& key, const std::string& value) {
  if (key == "order") {
    if (value == "forward") g_config.order = Order::Forward;
    else if (value == "reverse") g_config.order = Order::Reverse;
    else if (value == "shuffle") g_config.order = Order::Shuffle;
    else fprintf(stderr, "recjpq CUDA emulator: unknown order '%s' (forward, reverse or shuffle); using forward\n",
                 value.c_str());
  } else if (key == "seed") {
    g_config.seed = strtoull(value.c_str(), nullptr, 10);
  } else if (key == "launch_log") {
    g_config.launch_log = value;
  } else if (key == "quiet") {
    g_config.quiet = value == "1" || value == "true";
  } else if (key == "memory_limit_mb") {
    g_config.memory_limit = (size_t)strtoull(value.c_str(), nullptr, 10) << 20;
  }
}

void load_config() {
  Dl_info info;
  if (dladdr(reinterpret_cast<void*>(&load_config), &info) && info.dli_fname != nullptr) {
    std::string path = info.dli_fname;
    size_t slash = path.rfind('/');
    g_config.dir = slash == std::string::npos ? "." : path.substr(0, slash);
  } else {
    g_config.dir = ".";
  }
  long pages = sysconf(_SC_PHYS_PAGES);
  long page = sysconf(_SC_PAGESIZE);
  g_config.memory_limit = pages > 0 && page > 0 ? (size_t)pages * (size_t)page / 2 : (size_t)8 << 30;
  // emulator.conf beside the library (the Java side writes it), then the environment
  FILE* f = fopen((g_config.dir + "/emulator.conf").c_str(), "r");
  if (f != nullptr) {
    char line[4096];
    while (fgets(line, sizeof line, f) != nullptr) {
      std::string s = line;
      while (!s.empty() && (s.back() == '\n' || s.back() == '\r')) s.pop_back();
      if (s.empty() || s[0] == '#') continue;
      size_t eq = s.find('=');
      if (eq != std::string::npos) apply_setting(s.substr(0, eq), s.substr(eq + 1));
    }
    fclose(f);
  }
  const char* env = getenv("RECJPQ_CUDA_EMULATOR_ORDER");
  if (env != nullptr && *env) apply_setting("order", env);
  env = getenv("RECJPQ_CUDA_EMULATOR_SEED");
  if (env != nullptr && *env) apply_setting("seed", env);
  env = getenv("RECJPQ_CUDA_EMULATOR_LAUNCH_LOG");
  if (env != nullptr && *env) apply_setting("launch_log", env);
  env = getenv("RECJPQ_CUDA_EMULATOR_QUIET");
  if (env != nullptr && *env) apply_setting("quiet", env);
}

// ---- error details ---------------------------------------------------------------------------------

struct ErrorText {
  int code;
  const char* name;
  const char* text;
};

const ErrorText kErrors[] = {
    {0, "CUDA_SUCCESS", "no error"},
    {1, "CUDA_ERROR_INVALID_VALUE", "invalid argument"},
    {2, "CUDA_ERROR_OUT_OF_MEMORY", "out of memory"},
    {3, "CUDA_ERROR_NOT_INITIALIZED", "initialization error"},
    {4, "CUDA_ERROR_DEINITIALIZED", "driver shutting down"},
    {100, "CUDA_ERROR_NO_DEVICE", "no CUDA-capable device is detected"},
    {101, "CUDA_ERROR_INVALID_DEVICE", "invalid device ordinal"},
    {200, "CUDA_ERROR_INVALID_IMAGE", "device kernel image is invalid"},
    {201, "CUDA_ERROR_INVALID_CONTEXT", "invalid device context"},
    {400, "CUDA_ERROR_INVALID_HANDLE", "invalid resource handle"},
    {500, "CUDA_ERROR_NOT_FOUND", "named symbol not found"},
    {700, "CUDA_ERROR_ILLEGAL_ADDRESS", "an illegal memory access was encountered"},
    {701, "CUDA_ERROR_LAUNCH_OUT_OF_RESOURCES", "too many resources requested for launch"},
    {709, "CUDA_ERROR_CONTEXT_IS_DESTROYED", "context is destroyed"},
    {719, "CUDA_ERROR_LAUNCH_FAILED", "unspecified launch failure"},
    {801, "CUDA_ERROR_NOT_SUPPORTED", "operation not supported"},
    {999, "CUDA_ERROR_UNKNOWN", "unknown error"},
};

const ErrorText* error_text(int code) {
  for (const ErrorText& e : kErrors) {
    if (e.code == code) return &e;
  }
  return nullptr;
}

thread_local int t_detail_status = -1;
thread_local char t_detail[4096];
thread_local char t_error_string[4096 + 256];

void vreport(int status, const char* format, va_list args) {
  vsnprintf(t_detail, sizeof t_detail, format, args);
  t_detail_status = status;
  if (!g_config.quiet) {
    fprintf(stderr, "recjpq CUDA emulator: %s\n", t_detail);
    fflush(stderr);
  }
}

int fail(int status, const char* format, ...) __attribute__((format(printf, 2, 3)));
int fail(int status, const char* format, ...) {
  va_list args;
  va_start(args, format);
  vreport(status, format, args);
  va_end(args);
  return status;
}

std::string thread_name() {
  char name[64] = {0};
  if (pthread_getname_np(pthread_self(), name, sizeof name) != 0 || name[0] == 0) {
    snprintf(name, sizeof name, "(unnamed)");
  }
  return name;
}

// ---- device memory -------------------------------------------------------------------------------------

struct Context;

struct Allocation {
  uintptr_t start;  // 256-byte aligned, as cuMemAlloc's
  size_t size;      // as asked
  size_t span;      // size rounded up to 256: the slack after `size` holds a canary
  char* map;        // [guard page][head slack (canary)][data][slack][guard page]
  size_t map_len;
  uint64_t id;
  Context* ctx;
};

std::mutex g_device_lock;  // everything below is guarded by it
std::map<uintptr_t, Allocation> g_allocations;
uint64_t g_next_allocation = 1;
size_t g_allocated = 0;
size_t g_page = 4096;

const Allocation* find_allocation(uintptr_t p) {
  auto it = g_allocations.upper_bound(p);
  if (it == g_allocations.begin()) return nullptr;
  --it;
  const Allocation& a = it->second;
  return p <= a.start + a.size ? &a : nullptr;  // one past the end counts as inside
}

std::string describe_address(uintptr_t p) {
  char text[512];
  auto it = g_allocations.upper_bound(p);
  const Allocation* before = nullptr;
  const Allocation* after = it == g_allocations.end() ? nullptr : &it->second;
  if (it != g_allocations.begin()) before = &std::prev(it)->second;
  if (before != nullptr && p < before->start + before->size) {
    snprintf(text, sizeof text, "0x%" PRIxPTR " (byte %zu of allocation #%" PRIu64 ", %zu bytes at 0x%" PRIxPTR ")", p,
             (size_t)(p - before->start), before->id, before->size, before->start);
  } else if (before != nullptr && p < (uintptr_t)before->map + before->map_len) {
    snprintf(text, sizeof text,
             "0x%" PRIxPTR " (%zu bytes past the end of allocation #%" PRIu64 ", %zu bytes at 0x%" PRIxPTR ")", p,
             (size_t)(p - before->start - before->size), before->id, before->size, before->start);
  } else if (after != nullptr && p >= (uintptr_t)after->map) {
    snprintf(text, sizeof text,
             "0x%" PRIxPTR " (%zu bytes before the start of allocation #%" PRIu64 ", %zu bytes at 0x%" PRIxPTR ")", p,
             (size_t)(after->start - p), after->id, after->size, after->start);
  } else {
    snprintf(text, sizeof text, "0x%" PRIxPTR " (not in or next to any live device allocation: freed, never allocated, "
             "or a host address)", p);
  }
  return text;
}

// 0 when [p, p + bytes) is inside one allocation.
int check_range(uintptr_t p, size_t bytes, std::string* why) {
  const Allocation* a = find_allocation(p);
  if (a == nullptr || (bytes > 0 && p == a->start + a->size)) {
    *why = describe_address(p);
    return 1;
  }
  if (bytes > a->start + a->size - p) {
    char text[512];
    snprintf(text, sizeof text,
             "%zu bytes at 0x%" PRIxPTR " run %zu bytes past the end of allocation #%" PRIu64 " (%zu bytes at 0x%" PRIxPTR
             ")", bytes, p, (size_t)(p + bytes - a->start - a->size), a->id, a->size, a->start);
    *why = text;
    return 1;
  }
  return 0;
}

int allocate(size_t size, Context* ctx, uintptr_t* out) {
  size_t span = (std::max<size_t>(size, 1) + 255) & ~(size_t)255;
  size_t data_pages = (span + g_page - 1) & ~(g_page - 1);
  size_t map_len = data_pages + 2 * g_page;
  if (size > g_config.memory_limit || g_allocated + size > g_config.memory_limit) {
    return fail(EMU_ERROR_OUT_OF_MEMORY,
                "cuMemAlloc(%zu bytes): the emulator keeps device memory in host memory and is limited to %zu MiB "
                "(%zu MiB in use)", size, g_config.memory_limit >> 20, g_allocated >> 20);
  }
  void* m = mmap(nullptr, map_len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (m == MAP_FAILED) {
    return fail(EMU_ERROR_OUT_OF_MEMORY, "cuMemAlloc(%zu bytes): mmap failed: %s", size, strerror(errno));
  }
  char* map = static_cast<char*>(m);
  mprotect(map, g_page, PROT_NONE);
  mprotect(map + g_page + data_pages, g_page, PROT_NONE);
  uintptr_t start = (uintptr_t)(map + g_page + data_pages - span);
  memset(map + g_page, kCanary, start - (uintptr_t)(map + g_page));
  memset((void*)start, kPoison, size);
  memset((void*)(start + size), kCanary, span - size);
  Allocation a{start, size, span, map, map_len, g_next_allocation++, ctx};
  g_allocations[start] = a;
  g_allocated += size;
  *out = start;
  return EMU_SUCCESS;
}

void release(const Allocation& a) {
  g_allocated -= a.size;
  munmap(a.map, a.map_len);
}

// The canaries around an allocation's data: the head slack and the tail slack. Returns the offset
// (negative: before the start) of the first changed byte, or 0 when intact; restores them.
bool canaries_intact(const Allocation& a, long* where) {
  const unsigned char* head = reinterpret_cast<const unsigned char*>(a.map + g_page);
  size_t head_len = a.start - (uintptr_t)head;
  for (size_t i = 0; i < head_len; i++) {
    if (head[i] != kCanary) {
      *where = -(long)(head_len - i);
      memset((void*)head, kCanary, head_len);
      return false;
    }
  }
  const unsigned char* tail = reinterpret_cast<const unsigned char*>(a.start + a.size);
  for (size_t i = 0; i < a.span - a.size; i++) {
    if (tail[i] != kCanary) {
      *where = (long)i;
      memset((void*)tail, kCanary, a.span - a.size);
      return false;
    }
  }
  return true;
}

// ---- contexts -------------------------------------------------------------------------------------------

struct Module;

struct Context {
  uint64_t id;
  int refs = 0;
  bool destroyed = false;
  std::vector<Module*> modules;
};

bool g_initialized = false;
Context* g_primary = nullptr;          // device 0's active primary context
std::set<Context*> g_contexts;         // every context ever made (dead ones kept to recognise stale handles)
uint64_t g_next_context = 1;
bool g_runtime_retained = false;       // the runtime-API libraries hold a reference, as the CUDA runtime does
thread_local Context* t_current = nullptr;

// ---- modules, functions, kernel libraries ---------------------------------------------------------------

struct Function;

struct Module {
  Context* ctx;
  const KernelLibrary* lib;
  bool unloaded = false;
  std::map<std::string, Function*> functions;
};

struct Function {
  Module* module;
  const KernelInfo* kernel;
  int max_dynamic_shared;
};

std::set<Module*> g_modules;      // never freed (stale handles are recognised)
std::set<Function*> g_functions;  // never freed
std::map<std::string, const KernelLibrary*> g_libraries;
std::map<std::string, std::string> g_library_paths;

int kernel_library(const std::string& set, const KernelLibrary** out) {
  auto it = g_libraries.find(set);
  if (it != g_libraries.end()) {
    *out = it->second;
    return EMU_SUCCESS;
  }
  std::string file = set == "project" ? "librecjpq_emu_kernels.so" : "librecjpq_emu_" + set + "_kernels.so";
  std::string path = g_config.dir + "/" + file;
  void* handle = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (handle == nullptr) {
    return fail(EMU_ERROR_INVALID_IMAGE, "cuModuleLoadData: the emulator's kernel library for the set '%s' did not load: %s",
                set.c_str(), dlerror());
  }
  auto* lib = static_cast<const KernelLibrary*>(dlsym(handle, "recjpq_emu_kernel_library"));
  if (lib == nullptr) {
    return fail(EMU_ERROR_INVALID_IMAGE, "cuModuleLoadData: %s has no recjpq_emu_kernel_library", path.c_str());
  }
  g_libraries[set] = lib;
  g_library_paths[set] = path;
  *out = lib;
  return EMU_SUCCESS;
}

// ---- launch counts -----------------------------------------------------------------------------------------

std::map<std::string, uint64_t> g_launches;  // "set/kernel" -> successful launches

void write_launch_log() {
  if (g_config.launch_log.empty()) return;
  std::string tmp = g_config.launch_log + ".tmp" + std::to_string(getpid());
  FILE* f = fopen(tmp.c_str(), "w");
  if (f == nullptr) {
    fprintf(stderr, "recjpq CUDA emulator: cannot write the launch log %s: %s\n", tmp.c_str(), strerror(errno));
    return;
  }
  fprintf(f, "# recjpq CUDA emulator: successful launches per kernel (set/kernel<TAB>count), order=%s\n",
          order_name(g_config.order));
  for (const auto& e : g_launches) fprintf(f, "%s\t%" PRIu64 "\n", e.first.c_str(), e.second);
  fclose(f);
  rename(tmp.c_str(), g_config.launch_log.c_str());
}

void destroy_context(Context* c) {
  c->destroyed = true;
  for (auto it = g_allocations.begin(); it != g_allocations.end();) {
    if (it->second.ctx == c) {
      release(it->second);
      it = g_allocations.erase(it);
    } else {
      ++it;
    }
  }
  for (Module* m : c->modules) m->unloaded = true;
  c->modules.clear();
  if (g_primary == c) g_primary = nullptr;
  write_launch_log();
}

// The calling thread's current context, or an error naming `call`.
int require_context(const char* call, Context** out) {
  if (!g_initialized) {
    return fail(EMU_ERROR_NOT_INITIALIZED, "%s: cuInit has not been called", call);
  }
  Context* c = t_current;
  if (c == nullptr) {
    return fail(EMU_ERROR_INVALID_CONTEXT,
                "%s on thread '%s' with no current context: a CUDA context is current only on the threads that made "
                "it current (cuCtxSetCurrent); make it current on this thread first",
                call, thread_name().c_str());
  }
  if (c->destroyed) {
    return fail(EMU_ERROR_CONTEXT_IS_DESTROYED,
                "%s on thread '%s': its current context was destroyed (the primary context's last reference was "
                "released)", call, thread_name().c_str());
  }
  *out = c;
  return EMU_SUCCESS;
}

// ---- the executor --------------------------------------------------------------------------------------

struct Launch {
  const KernelInfo* kernel;
  const KernelLibrary* lib;
  const void* args;  // the captured parameters
  Dim3u grid, block;
  unsigned shared;
  uint64_t number;   // launch sequence number (shuffle seeds)
};

struct Executor {
  bool ready = false;
  char* stacks = nullptr;       // kMaxThreadsPerBlock slots of [guard page][stack]
  size_t slot = 0;
  std::vector<int> free_stacks;
  std::vector<Fiber> fibers;
  std::vector<int> order;
  void* scheduler_sp = nullptr;
  Launch* launch = nullptr;
  char* altstack = nullptr;
  size_t altstack_len = 0;
  uint64_t launches = 0;
};

Executor g_exec;

// fault handling (only while a launch runs on g_exec_thread)
volatile sig_atomic_t g_in_kernel = 0;
pthread_t g_exec_thread;
sigjmp_buf g_fault_jmp;
void* volatile g_fault_address = nullptr;
volatile int g_fault_signal = 0;
volatile int g_fault_write = 0;
Fiber* volatile g_fault_fiber = nullptr;
struct sigaction g_old_segv, g_old_bus;
bool g_handlers_installed = false;

void chain_signal(int sig, siginfo_t* info, void* uc) {
  struct sigaction* old = sig == SIGSEGV ? &g_old_segv : &g_old_bus;
  if (old->sa_flags & SA_SIGINFO) {
    old->sa_sigaction(sig, info, uc);
  } else if (old->sa_handler == SIG_DFL) {
    signal(sig, SIG_DFL);
    raise(sig);
  } else if (old->sa_handler != SIG_IGN) {
    old->sa_handler(sig);
  }
}

void fault_handler(int sig, siginfo_t* info, void* uc) {
  if (g_in_kernel && pthread_equal(pthread_self(), g_exec_thread)) {
    g_fault_address = info->si_addr;
    g_fault_signal = sig;
    g_fault_write = (static_cast<ucontext_t*>(uc)->uc_mcontext.gregs[REG_ERR] & 2) != 0;
    g_fault_fiber = recjpq_emu_fiber;
    siglongjmp(g_fault_jmp, 1);
  }
  chain_signal(sig, info, uc);
}

void install_fault_handlers() {
  if (g_handlers_installed) return;
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_sigaction = fault_handler;
  sa.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_RESTART;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGSEGV, &sa, &g_old_segv);
  sigaction(SIGBUS, &sa, &g_old_bus);
  g_handlers_installed = true;
}

void executor_init() {
  if (g_exec.ready) return;
  g_exec.slot = kFiberStack + g_page;
  size_t total = g_exec.slot * kMaxThreadsPerBlock;
  void* m = mmap(nullptr, total, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (m == MAP_FAILED) {
    fprintf(stderr, "recjpq CUDA emulator: cannot map fiber stacks: %s\n", strerror(errno));
    abort();
  }
  g_exec.stacks = static_cast<char*>(m);
  for (int i = 0; i < kMaxThreadsPerBlock; i++) mprotect(g_exec.stacks + i * g_exec.slot, g_page, PROT_NONE);
  g_exec.altstack_len = 256 * 1024;
  g_exec.altstack = static_cast<char*>(
      mmap(nullptr, g_exec.altstack_len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
  g_exec.fibers.resize(kMaxThreadsPerBlock);
  g_exec.ready = true;
}

void* fiber_prepare(int stack, Fiber* f) {
  char* top = g_exec.stacks + (size_t)(stack + 1) * g_exec.slot;
  uint64_t* sp = reinterpret_cast<uint64_t*>(top);
  *--sp = 0;                                                   // alignment padding
  *--sp = reinterpret_cast<uint64_t>(&recjpq_emu_fiber_start);  // return address
  *--sp = 0;                                                   // rbp
  *--sp = 0;                                                   // rbx
  *--sp = reinterpret_cast<uint64_t>(f);                       // r12: the fiber
  *--sp = 0;                                                   // r13
  *--sp = 0;                                                   // r14
  *--sp = 0;                                                   // r15
  return sp;
}

uint64_t splitmix(uint64_t x) {
  x += 0x9E3779B97F4A7C15ull;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}

std::string site_text(const void* site) {
  Dl_info info;
  char text[256];
  if (site != nullptr && dladdr(site, &info) && info.dli_sname != nullptr) {
    snprintf(text, sizeof text, "%s+0x%tx", info.dli_sname,
             reinterpret_cast<const char*>(site) - reinterpret_cast<const char*>(info.dli_saddr));
  } else {
    snprintf(text, sizeof text, "%p", site);
  }
  return text;
}

std::string launch_text(const Launch& l) {
  char text[512];
  snprintf(text, sizeof text, "%s<<<(%u,%u,%u), (%u,%u,%u), %u>>>", l.kernel->name, l.grid.x, l.grid.y, l.grid.z,
           l.block.x, l.block.y, l.block.z, l.shared);
  return text;
}

std::string where_text(const Fiber* f) {
  char text[256];
  if (f == nullptr) {
    snprintf(text, sizeof text, "block (%u,%u,%u)", recjpq_emu_block_idx.x, recjpq_emu_block_idx.y,
             recjpq_emu_block_idx.z);
  } else {
    snprintf(text, sizeof text, "thread (%u,%u,%u) of block (%u,%u,%u)", f->tid.x, f->tid.y, f->tid.z,
             recjpq_emu_block_idx.x, recjpq_emu_block_idx.y, recjpq_emu_block_idx.z);
  }
  return text;
}

// shared memory: this thread's copy of the kernel library's thread_local (= __shared__) storage
struct SharedLayout {
  const KernelLibrary* lib = nullptr;
  std::vector<std::pair<char*, size_t>> statics;  // ranges of static __shared__ variables
  std::vector<char*> dynamic;                     // each extern __shared__ array
};

thread_local std::vector<SharedLayout> t_shared_layouts;

struct TlsSearch {
  const char* path;
  void* data;
  size_t size;
};

int find_tls(struct dl_phdr_info* info, size_t, void* arg) {
  TlsSearch* s = static_cast<TlsSearch*>(arg);
  if (info->dlpi_name == nullptr || strcmp(info->dlpi_name, s->path) != 0) return 0;
  for (int i = 0; i < info->dlpi_phnum; i++) {
    if (info->dlpi_phdr[i].p_type == PT_TLS) {
      s->data = info->dlpi_tls_data;
      s->size = info->dlpi_phdr[i].p_memsz;
    }
  }
  return 1;
}

const SharedLayout& shared_layout(const KernelLibrary* lib) {
  for (const SharedLayout& s : t_shared_layouts) {
    if (s.lib == lib) return s;
  }
  SharedLayout layout;
  layout.lib = lib;
  for (int i = 0; i < lib->dynamic_arrays; i++) layout.dynamic.push_back(static_cast<char*>(lib->dynamic_array(i)));
  // the library's TLS block on this thread (touched above, so it exists); everything in it that is
  // not an extern __shared__ array is a static __shared__ variable
  std::string path;
  for (const auto& e : g_libraries) {
    if (e.second == lib) path = g_library_paths[e.first];
  }
  TlsSearch search{path.c_str(), nullptr, 0};
  dl_iterate_phdr(find_tls, &search);
  if (search.data != nullptr && search.size > 0) {
    std::vector<std::pair<char*, char*>> holes;
    for (char* d : layout.dynamic) holes.push_back({d, d + lib->dynamic_capacity + kCanaryBytes});
    std::sort(holes.begin(), holes.end());
    char* cursor = static_cast<char*>(search.data);
    char* end = cursor + search.size;
    for (const auto& h : holes) {
      if (h.first > cursor && h.first <= end) layout.statics.push_back({cursor, (size_t)(h.first - cursor)});
      if (h.second > cursor) cursor = h.second;
    }
    if (cursor < end) layout.statics.push_back({cursor, (size_t)(end - cursor)});
  }
  t_shared_layouts.push_back(layout);
  return t_shared_layouts.back();
}

int g_error = 0;  // the launch's error status (EMU_SUCCESS while it runs fine)

void set_error(int status, const char* format, ...) __attribute__((format(printf, 2, 3)));
void set_error(int status, const char* format, ...) {
  if (g_error != 0) return;
  va_list args;
  va_start(args, format);
  vreport(status, format, args);
  va_end(args);
  g_error = status;
}

// Completes the warp collective that lane `f` just joined when every lane of its mask is there.
// `arrived` counts the lanes of f's warp that wait at a collective (f included); the lanes are only
// scanned when enough have arrived, so a full-warp collective costs one scan, not one per lane.
void try_complete_warp(const Launch& l, int threads, Fiber* f, int* arrived) {
  int warp = f->linear / 32;
  int base = warp * 32;
  int lanes = std::min(32, threads - base);
  unsigned mask = f->mask;
  Fiber* fibers = g_exec.fibers.data();
  if (lanes < 32 && (mask >> lanes) != 0) {
    int lane = lanes + __builtin_ctz(mask >> lanes);
    set_error(EMU_ERROR_LAUNCH_FAILED,
              "%s: %s calls a warp collective (%s) with mask 0x%08x, which names lane %d of warp %d, but the block "
              "has only %d threads (lane %d does not exist)",
              launch_text(l).c_str(), where_text(f).c_str(), site_text(f->site).c_str(), mask, lane, warp, threads,
              lane);
    return;
  }
  if (*arrived < 32 && (mask == 0xffffffffu || *arrived < __builtin_popcount(mask))) return;  // not all there yet
  for (int lane = 0; lane < 32; lane++) {
    if (!(mask >> lane & 1u)) continue;
    Fiber& o = fibers[base + lane];
    if (o.state == recjpq_emu::FIBER_DONE) {
      set_error(EMU_ERROR_LAUNCH_FAILED,
                "%s: %s waits at a warp collective (%s) with mask 0x%08x, but lane %d of its warp has already exited "
                "and will never join it (divergent warp collective)",
                launch_text(l).c_str(), where_text(f).c_str(), site_text(f->site).c_str(), mask, lane);
      return;
    }
    if (o.state != recjpq_emu::FIBER_WARP) return;  // not there yet
  }
  // every lane is there: same collective and mask?
  for (int lane = 0; lane < 32; lane++) {
    if (!(mask >> lane & 1u)) continue;
    Fiber& o = fibers[base + lane];
    if (o.op != f->op || o.mask != mask || o.width != f->width) {
      set_error(EMU_ERROR_LAUNCH_FAILED,
                "%s: the lanes of warp %d in block (%u,%u,%u) meet at different warp collectives (lane %d: op %d mask "
                "0x%08x at %s; lane %d: op %d mask 0x%08x at %s)",
                launch_text(l).c_str(), warp, recjpq_emu_block_idx.x, recjpq_emu_block_idx.y, recjpq_emu_block_idx.z,
                f->linear - base, f->op, f->mask, site_text(f->site).c_str(), lane, o.op, o.mask,
                site_text(o.site).c_str());
      return;
    }
  }
  uint64_t ballot = 0;
  for (int lane = 0; lane < 32; lane++) {
    if ((mask >> lane & 1u) && fibers[base + lane].value != 0) ballot |= 1ull << lane;
  }
  for (int lane = 0; lane < 32; lane++) {
    if (!(mask >> lane & 1u)) continue;
    Fiber& o = fibers[base + lane];
    int width = o.width <= 0 || o.width > 32 ? 32 : o.width;
    int segment = lane / width * width;
    int src = lane;
    switch (o.op) {
      case recjpq_emu::WARP_SHFL_IDX:
        src = segment + ((o.arg % width) + width) % width;
        break;
      case recjpq_emu::WARP_SHFL_UP:
        src = lane - o.arg >= segment ? lane - o.arg : lane;
        break;
      case recjpq_emu::WARP_SHFL_DOWN:
        src = lane + o.arg < segment + width ? lane + o.arg : lane;
        break;
      case recjpq_emu::WARP_SHFL_XOR:
        src = lane ^ o.arg;
        if (src >= segment + width) src = lane;
        break;
      default:
        break;
    }
    switch (o.op) {
      case recjpq_emu::WARP_BALLOT:
        o.result = ballot;
        break;
      case recjpq_emu::WARP_ANY:
        o.result = ballot != 0;
        break;
      case recjpq_emu::WARP_ALL:
        o.result = ballot == (uint64_t)mask;
        break;
      case recjpq_emu::WARP_SYNC:
        o.result = 0;
        break;
      default:
        if (src < 0 || src >= 32 || !(mask >> src & 1u)) {
          set_error(EMU_ERROR_LAUNCH_FAILED,
                    "%s: lane %d of warp %d in block (%u,%u,%u) reads lane %d in a shuffle at %s, but that lane is not "
                    "in the mask 0x%08x (its value is undefined)",
                    launch_text(l).c_str(), lane, warp, recjpq_emu_block_idx.x, recjpq_emu_block_idx.y,
                    recjpq_emu_block_idx.z, src, site_text(o.site).c_str(), mask);
          return;
        }
        o.result = fibers[base + src].value;
        break;
    }
  }
  for (int lane = 0; lane < 32; lane++) {
    if (mask >> lane & 1u) fibers[base + lane].state = recjpq_emu::FIBER_RUNNABLE;
  }
  *arrived -= mask == 0xffffffffu ? 32 : __builtin_popcount(mask);
}

// A lane of f's warp exits while others wait at a collective that names it: that collective can
// never complete.
void check_exit_in_warp(const Launch& l, int threads, const Fiber* f) {
  int base = f->linear / 32 * 32;
  int lane = f->linear - base;
  int lanes = std::min(32, threads - base);
  const Fiber* fibers = g_exec.fibers.data();
  for (int o = 0; o < lanes; o++) {
    const Fiber& w = fibers[base + o];
    if (w.state == recjpq_emu::FIBER_WARP && (w.mask >> lane & 1u)) {
      set_error(EMU_ERROR_LAUNCH_FAILED,
                "%s: %s waits at a warp collective (%s) with mask 0x%08x, but lane %d of its warp has exited and will "
                "never join it (divergent warp collective)",
                launch_text(l).c_str(), where_text(&w).c_str(), site_text(w.site).c_str(), w.mask, lane);
      return;
    }
  }
}

// Runs block `linear` of the launch; returns with g_error set on a failure.
void run_block(Launch& l, uint64_t linear) {
  unsigned gx = l.grid.x, gy = l.grid.y;
  recjpq_emu_block_idx = {(unsigned)(linear % gx), (unsigned)(linear / gx % gy), (unsigned)(linear / ((uint64_t)gx * gy))};
  int threads = (int)(l.block.x * l.block.y * l.block.z);
  // shared memory starts poisoned (a real card's holds whatever the last block left)
  const SharedLayout& shared = shared_layout(l.lib);
  for (const auto& s : shared.statics) memset(s.first, kPoison, s.second);
  for (char* d : shared.dynamic) {
    memset(d, kPoison, l.shared);
    memset(d + l.shared, kCanary, kCanaryBytes);
  }
  Fiber* fibers = g_exec.fibers.data();
  for (int t = 0; t < threads; t++) {
    Fiber& f = fibers[t];
    f.linear = t;
    f.tid = {(unsigned)(t % l.block.x), (unsigned)(t / l.block.x % l.block.y),
             (unsigned)(t / (l.block.x * l.block.y))};
    f.state = recjpq_emu::FIBER_NEW;
    f.stack = -1;
    f.site = nullptr;
  }
  std::vector<int>& order = g_exec.order;
  order.resize(threads);
  for (int t = 0; t < threads; t++) order[t] = t;
  if (g_config.order == Order::Reverse) {
    std::reverse(order.begin(), order.end());
  } else if (g_config.order == Order::Shuffle) {
    uint64_t s = splitmix(g_config.seed ^ splitmix(l.number * 0x100000001ull + linear));
    for (int t = threads - 1; t > 0; t--) {
      s = splitmix(s);
      std::swap(order[t], order[(int)(s % (uint64_t)(t + 1))]);
    }
  }
  // every stack is free at a block's start: stacks are handed out from `next_stack` on, and the
  // ones finished fibers give back are reused first
  std::vector<int>& free_stacks = g_exec.free_stacks;
  free_stacks.clear();
  int next_stack = 0;
  int arrived[kMaxThreadsPerBlock / 32] = {0};  // lanes waiting at a collective, per warp
  int live = threads;
  int at_barrier = 0;
  while (live > 0) {
    bool progressed = false;
    for (int t : order) {
      Fiber& f = fibers[t];
      if (f.state == recjpq_emu::FIBER_NEW) {
        if (free_stacks.empty()) {
          f.stack = next_stack++;
        } else {
          f.stack = free_stacks.back();
          free_stacks.pop_back();
        }
        f.sp = fiber_prepare(f.stack, &f);
        f.state = recjpq_emu::FIBER_RUNNABLE;
      }
      if (f.state != recjpq_emu::FIBER_RUNNABLE) continue;
      recjpq_emu_fiber = &f;
      recjpq_emu_switch(&g_exec.scheduler_sp, f.sp);
      recjpq_emu_fiber = nullptr;
      progressed = true;
      if (g_error != 0) return;
      switch (f.state) {
        case recjpq_emu::FIBER_DONE:
          free_stacks.push_back(f.stack);
          f.stack = -1;
          live--;
          if (arrived[f.linear / 32] > 0) {
            check_exit_in_warp(l, threads, &f);
            if (g_error != 0) return;
          }
          break;
        case recjpq_emu::FIBER_BARRIER:
          at_barrier++;
          break;
        case recjpq_emu::FIBER_WARP:
          arrived[f.linear / 32]++;
          try_complete_warp(l, threads, &f, &arrived[f.linear / 32]);
          if (g_error != 0) return;
          break;
        default:
          break;
      }
      if (at_barrier > 0 && at_barrier == live) {
        if (live < threads) {
          const Fiber* waiting = nullptr;
          const Fiber* gone = nullptr;
          for (int u = 0; u < threads; u++) {
            if (fibers[u].state == recjpq_emu::FIBER_BARRIER && waiting == nullptr) waiting = &fibers[u];
            if (fibers[u].state == recjpq_emu::FIBER_DONE && gone == nullptr) gone = &fibers[u];
          }
          set_error(EMU_ERROR_LAUNCH_FAILED,
                    "%s: divergent __syncthreads(): in block (%u,%u,%u), %d threads wait at the barrier at %s "
                    "(first: thread (%u,%u,%u)) but %d threads exited without reaching it (first: thread (%u,%u,%u)); "
                    "on a GPU this hangs or corrupts the block",
                    launch_text(l).c_str(), recjpq_emu_block_idx.x, recjpq_emu_block_idx.y, recjpq_emu_block_idx.z,
                    at_barrier, site_text(waiting->site).c_str(), waiting->tid.x, waiting->tid.y, waiting->tid.z,
                    threads - live, gone->tid.x, gone->tid.y, gone->tid.z);
          return;
        }
        const Fiber* first = nullptr;
        for (int u = 0; u < threads; u++) {
          Fiber& o = fibers[u];
          if (first == nullptr) first = &o;
          if (o.site != first->site) {
            set_error(EMU_ERROR_LAUNCH_FAILED,
                      "%s: divergent __syncthreads(): in block (%u,%u,%u), thread (%u,%u,%u) waits at %s while thread "
                      "(%u,%u,%u) waits at %s (different barriers)",
                      launch_text(l).c_str(), recjpq_emu_block_idx.x, recjpq_emu_block_idx.y, recjpq_emu_block_idx.z,
                      first->tid.x, first->tid.y, first->tid.z, site_text(first->site).c_str(), o.tid.x, o.tid.y,
                      o.tid.z, site_text(o.site).c_str());
            return;
          }
          o.state = recjpq_emu::FIBER_RUNNABLE;
        }
        at_barrier = 0;
      }
    }
    if (live > 0 && !progressed) {
      int barrier = 0, warp = 0, done = 0;
      const Fiber* example = nullptr;
      for (int u = 0; u < threads; u++) {
        if (fibers[u].state == recjpq_emu::FIBER_BARRIER) barrier++;
        if (fibers[u].state == recjpq_emu::FIBER_WARP) {
          warp++;
          if (example == nullptr) example = &fibers[u];
        }
        if (fibers[u].state == recjpq_emu::FIBER_DONE) done++;
      }
      set_error(EMU_ERROR_LAUNCH_FAILED,
                "%s: deadlock in block (%u,%u,%u): %d threads wait at __syncthreads(), %d at warp collectives (first: "
                "thread (%u,%u,%u) at %s), %d exited; none can go on",
                launch_text(l).c_str(), recjpq_emu_block_idx.x, recjpq_emu_block_idx.y, recjpq_emu_block_idx.z,
                barrier, warp, example ? example->tid.x : 0, example ? example->tid.y : 0,
                example ? example->tid.z : 0, example ? site_text(example->site).c_str() : "?", done);
      return;
    }
  }
  for (char* d : shared.dynamic) {
    for (size_t i = 0; i < kCanaryBytes; i++) {
      if ((unsigned char)d[l.shared + i] != kCanary) {
        set_error(EMU_ERROR_ILLEGAL_ADDRESS,
                  "%s: block (%u,%u,%u) wrote shared memory %zu bytes past the end of its %u bytes of dynamic shared "
                  "memory", launch_text(l).c_str(), recjpq_emu_block_idx.x, recjpq_emu_block_idx.y,
                  recjpq_emu_block_idx.z, i, l.shared);
        return;
      }
    }
  }
}

uint64_t gcd(uint64_t a, uint64_t b) {
  while (b != 0) {
    uint64_t t = a % b;
    a = b;
    b = t;
  }
  return a;
}

int execute(Launch& l, void** params) {
  executor_init();
  const KernelInfo* k = l.kernel;
  // the parameters are copied at launch, as on a GPU
  std::vector<max_align_t> storage(k->args_bytes / sizeof(max_align_t) + 1);
  k->capture(params, storage.data());
  l.args = storage.data();
  // every pointer parameter must be null or point into (or one past) a live allocation
  std::vector<const Allocation*> touched;
  for (int i = 0; i < k->arity; i++) {
    if (!k->param_is_pointer[i]) continue;
    uintptr_t p = *static_cast<uintptr_t*>(params[i]);
    if (p == 0) continue;
    const Allocation* a = find_allocation(p);
    if (a == nullptr) {
      return fail(EMU_ERROR_INVALID_VALUE, "cuLaunchKernel(%s): parameter %d (%s) is %s", launch_text(l).c_str(), i,
                  k->param_types[i], describe_address(p).c_str());
    }
    touched.push_back(a);
  }
  recjpq_emu_grid_dim = l.grid;
  recjpq_emu_block_dim = l.block;
  l.number = g_exec.launches++;
  g_exec.launch = &l;
  install_fault_handlers();
  stack_t alt{}, old_alt{};
  alt.ss_sp = g_exec.altstack;
  alt.ss_size = g_exec.altstack_len;
  alt.ss_flags = 0;
  sigaltstack(&alt, &old_alt);
  g_error = 0;
  g_exec_thread = pthread_self();
  uint64_t blocks = (uint64_t)l.grid.x * l.grid.y * l.grid.z;
  // a block order that is a bijection of [0, blocks): identity, reversed, or a seeded affine map
  static uint64_t mul, add;  // static: kept across the sigsetjmp below
  mul = 1;
  add = 0;
  if (g_config.order == Order::Shuffle && blocks > 1) {
    uint64_t s = splitmix(g_config.seed ^ splitmix(l.number));
    mul = s % blocks | 1;
    while (gcd(mul, blocks) != 1) mul += 2;
    add = splitmix(s) % blocks;
  }
  if (sigsetjmp(g_fault_jmp, 1) == 0) {
    g_in_kernel = 1;
    for (uint64_t b = 0; b < blocks && g_error == 0; b++) {
      uint64_t linear = b;
      if (g_config.order == Order::Reverse) linear = blocks - 1 - b;
      else if (g_config.order == Order::Shuffle) linear = (uint64_t)(((unsigned __int128)b * mul + add) % blocks);
      run_block(l, linear);
    }
    g_in_kernel = 0;
  } else {
    g_in_kernel = 0;
    recjpq_emu_fiber = nullptr;
    uintptr_t a = reinterpret_cast<uintptr_t>(g_fault_address);
    std::string where = where_text(g_fault_fiber);
    const char* what = g_fault_write ? "wrote" : "read";
    char stack_note[160] = "";
    uintptr_t stacks = reinterpret_cast<uintptr_t>(g_exec.stacks);
    if (a >= stacks && a < stacks + g_exec.slot * kMaxThreadsPerBlock) {
      snprintf(stack_note, sizeof stack_note, " (a thread's stack: the emulator gives each CUDA thread %zu KiB)",
               kFiberStack / 1024);
    }
    set_error(EMU_ERROR_ILLEGAL_ADDRESS, "%s: %s %s %s (signal %d)", launch_text(l).c_str(), where.c_str(), what,
              stack_note[0] ? "beyond its stack" : describe_address(a).c_str(), g_fault_signal);
    if (stack_note[0]) {
      snprintf(t_detail + strlen(t_detail), sizeof t_detail - strlen(t_detail), "%s", stack_note);
    }
  }
  sigaltstack(&old_alt, nullptr);
  g_exec.launch = nullptr;
  if (g_error == 0) {
    // writes into an allocation's slack (past its size, before the next 256 bytes) or before it
    for (const Allocation* a : touched) {
      long where = 0;
      if (!canaries_intact(*a, &where)) {
        set_error(EMU_ERROR_ILLEGAL_ADDRESS,
                  "%s wrote outside allocation #%" PRIu64 " (%zu bytes at 0x%" PRIxPTR "): the first changed byte is %ld "
                  "bytes %s (found by the canary in the allocation's alignment slack)",
                  launch_text(l).c_str(), a->id, a->size, a->start, where < 0 ? -where : where,
                  where < 0 ? "before its start" : "past its end");
        break;
      }
    }
  }
  if (g_error == 0) {
    g_launches[std::string(l.lib->set) + "/" + k->name]++;
  }
  return g_error;
}

}  // namespace

// ---- the fiber side ---------------------------------------------------------------------------------------

extern "C" __attribute__((visibility("hidden"))) void recjpq_emu_fiber_main(Fiber* f) {
  const Launch* l = g_exec.launch;
  l->kernel->invoke(l->kernel->function, l->args);
  f->state = recjpq_emu::FIBER_DONE;
  recjpq_emu_switch(&f->sp, g_exec.scheduler_sp);
  __builtin_trap();  // a finished fiber is never resumed
}

extern "C" __attribute__((visibility("default"))) void recjpq_emu_syncthreads(const void* site) {
  Fiber* f = recjpq_emu_fiber;
  f->state = recjpq_emu::FIBER_BARRIER;
  f->site = site;
  recjpq_emu_switch(&f->sp, g_exec.scheduler_sp);
}

extern "C" __attribute__((visibility("default"))) uint64_t recjpq_emu_warp(int op, unsigned int mask, uint64_t value,
                                                                          int arg, int width, const void* site) {
  Fiber* f = recjpq_emu_fiber;
  int lane = f->linear % 32;
  if (!(mask >> lane & 1u)) {
    set_error(EMU_ERROR_LAUNCH_FAILED,
              "%s: thread (%u,%u,%u) of block (%u,%u,%u) calls a warp collective at %s with mask 0x%08x, which does not "
              "include its own lane %d", launch_text(*g_exec.launch).c_str(), f->tid.x, f->tid.y, f->tid.z,
              recjpq_emu_block_idx.x, recjpq_emu_block_idx.y, recjpq_emu_block_idx.z, site_text(site).c_str(), mask,
              lane);
  }
  f->state = recjpq_emu::FIBER_WARP;
  f->op = op;
  f->mask = mask;
  f->arg = arg;
  f->width = width;
  f->value = value;
  f->site = site;
  recjpq_emu_switch(&f->sp, g_exec.scheduler_sp);
  return f->result;
}

extern "C" __attribute__((visibility("default"))) void recjpq_emu_trap(const char* what, const void* site) {
  Fiber* f = recjpq_emu_fiber;
  set_error(EMU_ERROR_LAUNCH_FAILED, "%s: %s of block (%u,%u,%u) executed %s at %s",
            launch_text(*g_exec.launch).c_str(), f ? "a thread" : "?", recjpq_emu_block_idx.x, recjpq_emu_block_idx.y,
            recjpq_emu_block_idx.z, what, site_text(site).c_str());
  f->state = recjpq_emu::FIBER_DONE;
  recjpq_emu_switch(&f->sp, g_exec.scheduler_sp);
}

// ---- shared with the other emulator libraries -------------------------------------------------------------

EMU_API void recjpq_emu_lock(void) { g_device_lock.lock(); }
EMU_API void recjpq_emu_unlock(void) { g_device_lock.unlock(); }

EMU_API void recjpq_emu_report(int status, const char* format, ...) {
  va_list args;
  va_start(args, format);
  vreport(status, format, args);
  va_end(args);
}

EMU_API int recjpq_emu_stub(const char* library, const char* name, int status) {
  static std::mutex lock;
  static std::set<std::string> reported;
  std::lock_guard<std::mutex> guard(lock);
  if (reported.insert(name).second) {
    fprintf(stderr, "recjpq CUDA emulator: %s is not emulated (%s returns status %d)\n", name, library, status);
    fflush(stderr);
  }
  return status;
}

EMU_API int recjpq_emu_check_range(const void* p, size_t bytes, char* why, size_t why_len) {
  std::string text;
  int bad = check_range(reinterpret_cast<uintptr_t>(p), bytes, &text);
  if (bad && why != nullptr && why_len > 0) snprintf(why, why_len, "%s", text.c_str());
  return bad;
}

EMU_API void* recjpq_emu_runtime_context(int* status) {
  if (!g_initialized) {
    *status = EMU_ERROR_NOT_INITIALIZED;
    return nullptr;
  }
  if (t_current != nullptr && !t_current->destroyed) {
    *status = EMU_SUCCESS;
    return t_current;
  }
  if (g_primary == nullptr) {
    Context* c = new Context();
    c->id = g_next_context++;
    g_contexts.insert(c);
    g_primary = c;
  }
  if (!g_runtime_retained) {
    g_primary->refs++;
    g_runtime_retained = true;
  }
  t_current = g_primary;
  *status = EMU_SUCCESS;
  return g_primary;
}

// ---- the driver API -----------------------------------------------------------------------------------------

typedef int CUresult;
typedef int CUdevice;
typedef unsigned long long CUdeviceptr;
typedef Context* CUcontext;
typedef Module* CUmodule;
typedef Function* CUfunction;
typedef void* CUstream;

#define DRIVER_API extern "C" __attribute__((visibility("default")))

namespace {
// Reads the configuration when the library loads and writes the launch counts when it unloads (at
// process exit). Defined after every global it uses, so C++ constructs it after them and destroys
// it before them.
struct Lifetime {
  Lifetime() {
    g_page = (size_t)sysconf(_SC_PAGESIZE);
    load_config();
  }
  ~Lifetime() {
    std::lock_guard<std::mutex> guard(g_device_lock);
    write_launch_log();
  }
} g_lifetime;

bool valid_context(Context* c) { return c != nullptr && g_contexts.count(c) != 0; }
bool valid_module(Module* m) { return m != nullptr && g_modules.count(m) != 0; }
bool valid_function(Function* f) { return f != nullptr && g_functions.count(f) != 0; }

int device_attribute(int attribute, int* value) {
  switch (attribute) {
    case 1: *value = kMaxThreadsPerBlock; break;           // MAX_THREADS_PER_BLOCK
    case 2: *value = (int)kMaxBlockX; break;
    case 3: *value = (int)kMaxBlockY; break;
    case 4: *value = (int)kMaxBlockZ; break;
    case 5: *value = (int)kMaxGridX; break;
    case 6: *value = (int)kMaxGridY; break;
    case 7: *value = (int)kMaxGridZ; break;
    case 8: *value = kDefaultSharedPerBlock; break;         // MAX_SHARED_MEMORY_PER_BLOCK
    case 9: *value = 65536; break;                          // TOTAL_CONSTANT_MEMORY
    case 10: *value = 32; break;                            // WARP_SIZE
    case 11: *value = 2147483647; break;                    // MAX_PITCH
    case 12: *value = 65536; break;                         // MAX_REGISTERS_PER_BLOCK
    case 13: *value = 1980000; break;                       // CLOCK_RATE (kHz)
    case 14: *value = 512; break;                           // TEXTURE_ALIGNMENT
    case 15: *value = 1; break;                             // GPU_OVERLAP
    case 16: *value = 132; break;                           // MULTIPROCESSOR_COUNT
    case 19: *value = 1; break;                             // CAN_MAP_HOST_MEMORY
    case 31: *value = 1; break;                             // CONCURRENT_KERNELS
    case 32: *value = 1; break;                             // ECC_ENABLED
    case 36: *value = 2619000; break;                       // MEMORY_CLOCK_RATE (kHz)
    case 37: *value = 5120; break;                          // GLOBAL_MEMORY_BUS_WIDTH
    case 38: *value = 50 * 1024 * 1024; break;              // L2_CACHE_SIZE
    case 39: *value = 2048; break;                          // MAX_THREADS_PER_MULTIPROCESSOR
    case 40: *value = 5; break;                             // ASYNC_ENGINE_COUNT
    case 41: *value = 1; break;                             // UNIFIED_ADDRESSING
    case 75: *value = 9; break;                             // COMPUTE_CAPABILITY_MAJOR
    case 76: *value = 0; break;                             // COMPUTE_CAPABILITY_MINOR
    case 81: *value = 228 * 1024; break;                    // MAX_SHARED_MEMORY_PER_MULTIPROCESSOR
    case 82: *value = 65536; break;                         // MAX_REGISTERS_PER_MULTIPROCESSOR
    case 83: *value = 1; break;                             // MANAGED_MEMORY
    case 97: *value = kOptinSharedPerBlock; break;          // MAX_SHARED_MEMORY_PER_BLOCK_OPTIN
    case 106: *value = 32; break;                           // MAX_BLOCKS_PER_MULTIPROCESSOR
    case 111: *value = 1024; break;                         // RESERVED_SHARED_MEMORY_PER_BLOCK
    default:
      if (attribute <= 0 || attribute > 140) return EMU_ERROR_INVALID_VALUE;
      *value = 0;
      break;
  }
  return EMU_SUCCESS;
}
}  // namespace

DRIVER_API CUresult cuInit(unsigned int flags) {
  std::lock_guard<std::mutex> guard(g_device_lock);
  if (flags != 0) return fail(EMU_ERROR_INVALID_VALUE, "cuInit(%u): flags must be 0", flags);
  g_initialized = true;
  return EMU_SUCCESS;
}

DRIVER_API CUresult cuDriverGetVersion(int* version) {
  if (version == nullptr) return EMU_ERROR_INVALID_VALUE;
  *version = 13000;
  return EMU_SUCCESS;
}

DRIVER_API CUresult cuDeviceGetCount(int* count) {
  if (count == nullptr) return EMU_ERROR_INVALID_VALUE;
  if (!g_initialized) return fail(EMU_ERROR_NOT_INITIALIZED, "cuDeviceGetCount: cuInit has not been called");
  *count = 1;
  return EMU_SUCCESS;
}

DRIVER_API CUresult cuDeviceGet(CUdevice* device, int ordinal) {
  if (device == nullptr) return EMU_ERROR_INVALID_VALUE;
  if (!g_initialized) return fail(EMU_ERROR_NOT_INITIALIZED, "cuDeviceGet: cuInit has not been called");
  if (ordinal != 0) return fail(EMU_ERROR_INVALID_DEVICE, "cuDeviceGet(%d): the emulator has one device, 0", ordinal);
  *device = 0;
  return EMU_SUCCESS;
}

DRIVER_API CUresult cuDeviceGetName(char* name, int len, CUdevice device) {
  if (name == nullptr || len <= 0) return EMU_ERROR_INVALID_VALUE;
  if (device != 0) return EMU_ERROR_INVALID_DEVICE;
  snprintf(name, (size_t)len, "%s", "CUDA emulator (CPU)");
  return EMU_SUCCESS;
}

DRIVER_API CUresult cuDeviceTotalMem_v2(size_t* bytes, CUdevice device) {
  if (bytes == nullptr) return EMU_ERROR_INVALID_VALUE;
  if (device != 0) return EMU_ERROR_INVALID_DEVICE;
  *bytes = kReportedMemory;
  return EMU_SUCCESS;
}

DRIVER_API CUresult cuDeviceGetAttribute(int* value, int attribute, CUdevice device) {
  if (value == nullptr) return EMU_ERROR_INVALID_VALUE;
  if (device != 0) return EMU_ERROR_INVALID_DEVICE;
  return device_attribute(attribute, value);
}

DRIVER_API CUresult cuDeviceGetUuid(void* uuid, CUdevice device) {
  if (uuid == nullptr) return EMU_ERROR_INVALID_VALUE;
  if (device != 0) return EMU_ERROR_INVALID_DEVICE;
  memset(uuid, 0, 16);
  memcpy(uuid, "recjpq-emulator", 15);
  return EMU_SUCCESS;
}

DRIVER_API CUresult cuDeviceGetUuid_v2(void* uuid, CUdevice device) { return cuDeviceGetUuid(uuid, device); }

DRIVER_API CUresult cuDevicePrimaryCtxRetain(CUcontext* context, CUdevice device) {
  std::lock_guard<std::mutex> guard(g_device_lock);
  if (context == nullptr) return EMU_ERROR_INVALID_VALUE;
  if (!g_initialized) return fail(EMU_ERROR_NOT_INITIALIZED, "cuDevicePrimaryCtxRetain: cuInit has not been called");
  if (device != 0) return EMU_ERROR_INVALID_DEVICE;
  if (g_primary == nullptr) {
    Context* c = new Context();
    c->id = g_next_context++;
    g_contexts.insert(c);
    g_primary = c;
  }
  g_primary->refs++;
  *context = g_primary;
  return EMU_SUCCESS;
}

DRIVER_API CUresult cuDevicePrimaryCtxRelease_v2(CUdevice device) {
  std::lock_guard<std::mutex> guard(g_device_lock);
  if (device != 0) return EMU_ERROR_INVALID_DEVICE;
  if (g_primary == nullptr || g_primary->refs <= 0) {
    return fail(EMU_ERROR_INVALID_CONTEXT, "cuDevicePrimaryCtxRelease(0): the primary context is not retained");
  }
  if (--g_primary->refs == 0) destroy_context(g_primary);
  return EMU_SUCCESS;
}

DRIVER_API CUresult cuDevicePrimaryCtxRelease(CUdevice device) { return cuDevicePrimaryCtxRelease_v2(device); }

DRIVER_API CUresult cuDevicePrimaryCtxGetState(CUdevice device, unsigned int* flags, int* active) {
  if (flags == nullptr || active == nullptr) return EMU_ERROR_INVALID_VALUE;
  if (device != 0) return EMU_ERROR_INVALID_DEVICE;
  std::lock_guard<std::mutex> guard(g_device_lock);
  *flags = 0;
  *active = g_primary != nullptr;
  return EMU_SUCCESS;
}

DRIVER_API CUresult cuCtxSetCurrent(CUcontext context) {
  std::lock_guard<std::mutex> guard(g_device_lock);
  if (!g_initialized) return fail(EMU_ERROR_NOT_INITIALIZED, "cuCtxSetCurrent: cuInit has not been called");
  if (context == nullptr) {
    t_current = nullptr;
    return EMU_SUCCESS;
  }
  if (!valid_context(context)) return fail(EMU_ERROR_INVALID_CONTEXT, "cuCtxSetCurrent(%p): not a context", (void*)context);
  if (context->destroyed) {
    return fail(EMU_ERROR_CONTEXT_IS_DESTROYED, "cuCtxSetCurrent(%p): the context was destroyed", (void*)context);
  }
  t_current = context;
  return EMU_SUCCESS;
}

DRIVER_API CUresult cuCtxGetCurrent(CUcontext* context) {
  if (context == nullptr) return EMU_ERROR_INVALID_VALUE;
  if (!g_initialized) return fail(EMU_ERROR_NOT_INITIALIZED, "cuCtxGetCurrent: cuInit has not been called");
  *context = t_current;
  return EMU_SUCCESS;
}

DRIVER_API CUresult cuCtxGetDevice(CUdevice* device) {
  std::lock_guard<std::mutex> guard(g_device_lock);
  if (device == nullptr) return EMU_ERROR_INVALID_VALUE;
  Context* c;
  int status = require_context("cuCtxGetDevice", &c);
  if (status != EMU_SUCCESS) return status;
  *device = 0;
  return EMU_SUCCESS;
}

DRIVER_API CUresult cuCtxSynchronize(void) {
  std::lock_guard<std::mutex> guard(g_device_lock);
  Context* c;
  return require_context("cuCtxSynchronize", &c);  // all work is synchronous
}

// Limits: the real ones are accepted (and mean nothing here); the emulator's own limit
// RECJPQ_EMU_LIMIT_ORDER (0x52450001) sets the thread and block order of later launches, 0 forward,
// 1 reverse, 2 shuffle, so that one process can run a kernel under several orders.
DRIVER_API CUresult cuCtxSetLimit(int limit, size_t value) {
  std::lock_guard<std::mutex> guard(g_device_lock);
  Context* c;
  int status = require_context("cuCtxSetLimit", &c);
  if (status != EMU_SUCCESS) return status;
  if (limit == 0x52450001) {
    if (value > 2) return fail(EMU_ERROR_INVALID_VALUE, "cuCtxSetLimit(emulator order, %zu): 0, 1 or 2", value);
    g_config.order = value == 0 ? Order::Forward : (value == 1 ? Order::Reverse : Order::Shuffle);
    return EMU_SUCCESS;
  }
  return limit >= 0 && limit <= 6 ? EMU_SUCCESS : fail(EMU_ERROR_INVALID_VALUE, "cuCtxSetLimit(%d): unknown limit", limit);
}

DRIVER_API CUresult cuCtxGetLimit(size_t* value, int limit) {
  if (value == nullptr) return EMU_ERROR_INVALID_VALUE;
  std::lock_guard<std::mutex> guard(g_device_lock);
  if (limit == 0x52450001) {
    *value = g_config.order == Order::Forward ? 0 : (g_config.order == Order::Reverse ? 1 : 2);
    return EMU_SUCCESS;
  }
  *value = limit == 0 ? kFiberStack : 0;
  return EMU_SUCCESS;
}

DRIVER_API CUresult cuStreamSynchronize(CUstream stream) {
  (void)stream;
  return cuCtxSynchronize();
}

DRIVER_API CUresult cuMemGetInfo_v2(size_t* free_bytes, size_t* total_bytes) {
  std::lock_guard<std::mutex> guard(g_device_lock);
  if (free_bytes == nullptr || total_bytes == nullptr) return EMU_ERROR_INVALID_VALUE;
  Context* c;
  int status = require_context("cuMemGetInfo", &c);
  if (status != EMU_SUCCESS) return status;
  size_t usable = std::min(kReportedMemory, g_config.memory_limit);
  *total_bytes = kReportedMemory;
  *free_bytes = g_allocated >= usable ? 0 : usable - g_allocated;
  return EMU_SUCCESS;
}

DRIVER_API CUresult cuMemAlloc_v2(CUdeviceptr* pointer, size_t bytes) {
  std::lock_guard<std::mutex> guard(g_device_lock);
  if (pointer == nullptr) return EMU_ERROR_INVALID_VALUE;
  Context* c;
  int status = require_context("cuMemAlloc", &c);
  if (status != EMU_SUCCESS) return status;
  if (bytes == 0) return fail(EMU_ERROR_INVALID_VALUE, "cuMemAlloc(0 bytes): the size must be positive");
  uintptr_t start = 0;
  status = allocate(bytes, c, &start);
  if (status != EMU_SUCCESS) return status;
  *pointer = start;
  return EMU_SUCCESS;
}

DRIVER_API CUresult cuMemFree_v2(CUdeviceptr pointer) {
  std::lock_guard<std::mutex> guard(g_device_lock);
  Context* c;
  int status = require_context("cuMemFree", &c);
  if (status != EMU_SUCCESS) return status;
  auto it = g_allocations.find((uintptr_t)pointer);
  if (it == g_allocations.end()) {
    return fail(EMU_ERROR_INVALID_VALUE, "cuMemFree(%s): not the start of a live allocation (freed twice?)",
                describe_address((uintptr_t)pointer).c_str());
  }
  release(it->second);
  g_allocations.erase(it);
  return EMU_SUCCESS;
}

namespace {
int copy(const char* call, uintptr_t dst, bool dst_device, uintptr_t src, bool src_device, size_t bytes) {
  std::lock_guard<std::mutex> guard(g_device_lock);
  Context* c;
  int status = require_context(call, &c);
  if (status != EMU_SUCCESS) return status;
  if (bytes == 0) return EMU_SUCCESS;
  std::string why;
  if (dst_device && check_range(dst, bytes, &why)) {
    return fail(EMU_ERROR_INVALID_VALUE, "%s(%zu bytes): the destination %s", call, bytes, why.c_str());
  }
  if (src_device && check_range(src, bytes, &why)) {
    return fail(EMU_ERROR_INVALID_VALUE, "%s(%zu bytes): the source %s", call, bytes, why.c_str());
  }
  if ((!dst_device && dst == 0) || (!src_device && src == 0)) {
    return fail(EMU_ERROR_INVALID_VALUE, "%s(%zu bytes): a null host pointer", call, bytes);
  }
  memmove(reinterpret_cast<void*>(dst), reinterpret_cast<const void*>(src), bytes);
  return EMU_SUCCESS;
}

int set_words(const char* call, uintptr_t dst, const void* word, size_t size, size_t count) {
  std::lock_guard<std::mutex> guard(g_device_lock);
  Context* c;
  int status = require_context(call, &c);
  if (status != EMU_SUCCESS) return status;
  if (count == 0) return EMU_SUCCESS;
  if (dst % size != 0) {
    return fail(EMU_ERROR_INVALID_VALUE, "%s: the destination 0x%" PRIxPTR " is not aligned to %zu bytes", call, dst, size);
  }
  std::string why;
  if (count > SIZE_MAX / size || check_range(dst, count * size, &why)) {
    return fail(EMU_ERROR_INVALID_VALUE, "%s(%zu words): the destination %s", call, count, why.c_str());
  }
  char* p = reinterpret_cast<char*>(dst);
  for (size_t i = 0; i < count; i++) memcpy(p + i * size, word, size);
  return EMU_SUCCESS;
}
}  // namespace

DRIVER_API CUresult cuMemcpyHtoD_v2(CUdeviceptr dst, const void* src, size_t bytes) {
  return copy("cuMemcpyHtoD", (uintptr_t)dst, true, reinterpret_cast<uintptr_t>(src), false, bytes);
}

DRIVER_API CUresult cuMemcpyDtoH_v2(void* dst, CUdeviceptr src, size_t bytes) {
  return copy("cuMemcpyDtoH", reinterpret_cast<uintptr_t>(dst), false, (uintptr_t)src, true, bytes);
}

DRIVER_API CUresult cuMemcpyDtoD_v2(CUdeviceptr dst, CUdeviceptr src, size_t bytes) {
  return copy("cuMemcpyDtoD", (uintptr_t)dst, true, (uintptr_t)src, true, bytes);
}

DRIVER_API CUresult cuMemcpyHtoDAsync_v2(CUdeviceptr dst, const void* src, size_t bytes, CUstream) {
  return cuMemcpyHtoD_v2(dst, src, bytes);
}

DRIVER_API CUresult cuMemcpyDtoHAsync_v2(void* dst, CUdeviceptr src, size_t bytes, CUstream) {
  return cuMemcpyDtoH_v2(dst, src, bytes);
}

DRIVER_API CUresult cuMemcpyDtoDAsync_v2(CUdeviceptr dst, CUdeviceptr src, size_t bytes, CUstream) {
  return cuMemcpyDtoD_v2(dst, src, bytes);
}

DRIVER_API CUresult cuMemsetD8_v2(CUdeviceptr dst, unsigned char value, size_t count) {
  return set_words("cuMemsetD8", (uintptr_t)dst, &value, 1, count);
}

DRIVER_API CUresult cuMemsetD16_v2(CUdeviceptr dst, unsigned short value, size_t count) {
  return set_words("cuMemsetD16", (uintptr_t)dst, &value, 2, count);
}

DRIVER_API CUresult cuMemsetD32_v2(CUdeviceptr dst, unsigned int value, size_t count) {
  return set_words("cuMemsetD32", (uintptr_t)dst, &value, 4, count);
}

DRIVER_API CUresult cuMemsetD8Async(CUdeviceptr dst, unsigned char value, size_t count, CUstream) {
  return cuMemsetD8_v2(dst, value, count);
}

DRIVER_API CUresult cuMemsetD32Async(CUdeviceptr dst, unsigned int value, size_t count, CUstream) {
  return cuMemsetD32_v2(dst, value, count);
}

DRIVER_API CUresult cuModuleLoadData(CUmodule* module, const void* image) {
  std::lock_guard<std::mutex> guard(g_device_lock);
  if (module == nullptr || image == nullptr) return EMU_ERROR_INVALID_VALUE;
  Context* c;
  int status = require_context("cuModuleLoadData", &c);
  if (status != EMU_SUCCESS) return status;
  const char* bytes = static_cast<const char*>(image);
  std::string set;
  uint32_t magic;
  memcpy(&magic, bytes, 4);
  if (strncmp(bytes, kImageMarker, strlen(kImageMarker)) == 0) {
    set.assign(bytes + strlen(kImageMarker), strnlen(bytes + strlen(kImageMarker), 64));
  } else if (magic == 0xBA55ED50u) {  // a fatbin (the project's kernels, built by nvcc)
    set = "project";
  } else {
    return fail(EMU_ERROR_INVALID_IMAGE,
                "cuModuleLoadData: the image is neither a fatbin (magic 0xba55ed50) nor an emulator kernel-set marker "
                "(\"%s<set>\"); its first word is 0x%08x", kImageMarker, magic);
  }
  const KernelLibrary* lib = nullptr;
  status = kernel_library(set, &lib);
  if (status != EMU_SUCCESS) return status;
  Module* m = new Module();
  m->ctx = c;
  m->lib = lib;
  g_modules.insert(m);
  c->modules.push_back(m);
  *module = m;
  return EMU_SUCCESS;
}

DRIVER_API CUresult cuModuleLoadDataEx(CUmodule* module, const void* image, unsigned int, void*, void**) {
  return cuModuleLoadData(module, image);
}

DRIVER_API CUresult cuModuleUnload(CUmodule module) {
  std::lock_guard<std::mutex> guard(g_device_lock);
  if (!valid_module(module) || module->unloaded) {
    return fail(EMU_ERROR_INVALID_HANDLE, "cuModuleUnload(%p): not a loaded module", (void*)module);
  }
  module->unloaded = true;
  auto& mods = module->ctx->modules;
  mods.erase(std::remove(mods.begin(), mods.end(), module), mods.end());
  return EMU_SUCCESS;
}

DRIVER_API CUresult cuModuleGetFunction(CUfunction* function, CUmodule module, const char* name) {
  std::lock_guard<std::mutex> guard(g_device_lock);
  if (function == nullptr || name == nullptr) return EMU_ERROR_INVALID_VALUE;
  if (!valid_module(module) || module->unloaded) {
    return fail(EMU_ERROR_INVALID_HANDLE, "cuModuleGetFunction(%s): the module %p was unloaded or never loaded", name,
                (void*)module);
  }
  auto it = module->functions.find(name);
  if (it != module->functions.end()) {
    *function = it->second;
    return EMU_SUCCESS;
  }
  const KernelLibrary* lib = module->lib;
  for (int i = 0; i < lib->count; i++) {
    const KernelInfo& k = lib->kernels[i];
    if (strcmp(k.name, name) == 0) {
      Function* f = new Function{module, &k, kDefaultSharedPerBlock - k.static_shared_bytes};
      g_functions.insert(f);
      module->functions[name] = f;
      *function = f;
      return EMU_SUCCESS;
    }
  }
  return fail(EMU_ERROR_NOT_FOUND,
              "cuModuleGetFunction(%s): the emulator's kernel set '%s' has no kernel of that name (its %d kernels are "
              "the extern \"C\" __global__ functions it was built from)", name, lib->set, lib->count);
}

DRIVER_API CUresult cuFuncSetAttribute(CUfunction function, int attribute, int value) {
  std::lock_guard<std::mutex> guard(g_device_lock);
  if (!valid_function(function) || function->module->unloaded) {
    return fail(EMU_ERROR_INVALID_HANDLE, "cuFuncSetAttribute: not a function of a loaded module");
  }
  const KernelInfo* k = function->kernel;
  switch (attribute) {
    case 8:  // MAX_DYNAMIC_SHARED_SIZE_BYTES
      if (value < 0 || value + k->static_shared_bytes > kOptinSharedPerBlock) {
        return fail(EMU_ERROR_INVALID_VALUE,
                    "cuFuncSetAttribute(%s, MAX_DYNAMIC_SHARED_SIZE_BYTES, %d): with its %d bytes of static shared "
                    "memory the most a block can have is %d bytes of dynamic shared memory",
                    k->name, value, k->static_shared_bytes, kOptinSharedPerBlock - k->static_shared_bytes);
      }
      function->max_dynamic_shared = value;
      return EMU_SUCCESS;
    case 9:  // PREFERRED_SHARED_MEMORY_CARVEOUT
      return value >= -1 && value <= 100 ? EMU_SUCCESS : EMU_ERROR_INVALID_VALUE;
    default:
      return fail(EMU_ERROR_INVALID_VALUE, "cuFuncSetAttribute(%s, attribute %d): not settable in the emulator", k->name,
                  attribute);
  }
}

DRIVER_API CUresult cuFuncGetAttribute(int* value, int attribute, CUfunction function) {
  std::lock_guard<std::mutex> guard(g_device_lock);
  if (value == nullptr) return EMU_ERROR_INVALID_VALUE;
  if (!valid_function(function) || function->module->unloaded) {
    return fail(EMU_ERROR_INVALID_HANDLE, "cuFuncGetAttribute: not a function of a loaded module");
  }
  switch (attribute) {
    case 0: *value = kMaxThreadsPerBlock; break;
    case 1: *value = function->kernel->static_shared_bytes; break;
    case 2: *value = 0; break;
    case 3: *value = 0; break;
    case 4: *value = 32; break;
    case 5: *value = 90; break;
    case 6: *value = 90; break;
    case 7: *value = 0; break;
    case 8: *value = function->max_dynamic_shared; break;
    case 9: *value = -1; break;
    default: *value = 0; break;
  }
  return EMU_SUCCESS;
}

DRIVER_API CUresult cuLaunchKernel(CUfunction function, unsigned int gx, unsigned int gy, unsigned int gz,
                                   unsigned int bx, unsigned int by, unsigned int bz, unsigned int shared,
                                   CUstream stream, void** params, void** extra) {
  std::lock_guard<std::mutex> guard(g_device_lock);
  Context* c;
  int status = require_context("cuLaunchKernel", &c);
  if (status != EMU_SUCCESS) return status;
  if (!valid_function(function)) {
    return fail(EMU_ERROR_INVALID_HANDLE, "cuLaunchKernel(%p): not a function handle", (void*)function);
  }
  const KernelInfo* k = function->kernel;
  Launch l{k, function->module->lib, nullptr, {gx, gy, gz}, {bx, by, bz}, shared, 0};
  if (function->module->unloaded) {
    return fail(EMU_ERROR_INVALID_HANDLE, "cuLaunchKernel(%s): its module was unloaded (or its context destroyed)",
                launch_text(l).c_str());
  }
  if (function->module->ctx != c) {
    return fail(EMU_ERROR_INVALID_HANDLE, "cuLaunchKernel(%s): the function belongs to another context",
                launch_text(l).c_str());
  }
  if (gx == 0 || gy == 0 || gz == 0 || bx == 0 || by == 0 || bz == 0) {
    return fail(EMU_ERROR_INVALID_VALUE, "cuLaunchKernel(%s): every grid and block dimension must be at least 1",
                launch_text(l).c_str());
  }
  uint64_t threads = (uint64_t)bx * by * bz;
  if (bx > kMaxBlockX || by > kMaxBlockY || bz > kMaxBlockZ || threads > (uint64_t)kMaxThreadsPerBlock) {
    return fail(EMU_ERROR_INVALID_VALUE,
                "cuLaunchKernel(%s): a block of %" PRIu64 " threads (%u x %u x %u) exceeds the device's limits (%d "
                "threads a block, %u x %u x %u)", launch_text(l).c_str(), threads, bx, by, bz, kMaxThreadsPerBlock,
                kMaxBlockX, kMaxBlockY, kMaxBlockZ);
  }
  if (gx > kMaxGridX || gy > kMaxGridY || gz > kMaxGridZ) {
    return fail(EMU_ERROR_INVALID_VALUE, "cuLaunchKernel(%s): the grid exceeds the device's limits (%u x %u x %u)",
                launch_text(l).c_str(), kMaxGridX, kMaxGridY, kMaxGridZ);
  }
  if ((int64_t)shared > function->max_dynamic_shared) {
    return fail(EMU_ERROR_INVALID_VALUE,
                "cuLaunchKernel(%s): %u bytes of dynamic shared memory plus the kernel's %d static bytes exceed the "
                "%d bytes a block may use (%s); opt in with cuFuncSetAttribute(MAX_DYNAMIC_SHARED_SIZE_BYTES), up to "
                "%d bytes in all", launch_text(l).c_str(), shared, k->static_shared_bytes,
                function->max_dynamic_shared + k->static_shared_bytes,
                function->max_dynamic_shared == kDefaultSharedPerBlock - k->static_shared_bytes
                    ? "the 48 KiB default" : "as raised by cuFuncSetAttribute",
                kOptinSharedPerBlock);
  }
  if ((size_t)shared > l.lib->dynamic_capacity) {
    return fail(EMU_ERROR_INVALID_VALUE, "cuLaunchKernel(%s): more dynamic shared memory than the emulator holds",
                launch_text(l).c_str());
  }
  uintptr_t s = reinterpret_cast<uintptr_t>(stream);
  if (s > 2) return fail(EMU_ERROR_NOT_SUPPORTED, "cuLaunchKernel(%s): the emulator has only the default stream",
                         launch_text(l).c_str());
  if (extra != nullptr) {
    return fail(EMU_ERROR_NOT_SUPPORTED, "cuLaunchKernel(%s): the `extra` parameter form is not emulated",
                launch_text(l).c_str());
  }
  if (k->arity > 0 && params == nullptr) {
    return fail(EMU_ERROR_INVALID_VALUE, "cuLaunchKernel(%s): the kernel takes %d parameters but kernelParams is null",
                launch_text(l).c_str(), k->arity);
  }
  return execute(l, params);
}

DRIVER_API CUresult cuGetErrorName(CUresult error, const char** text) {
  if (text == nullptr) return EMU_ERROR_INVALID_VALUE;
  const ErrorText* e = error_text(error);
  if (e == nullptr) {
    *text = nullptr;
    return EMU_ERROR_INVALID_VALUE;
  }
  *text = e->name;
  return EMU_SUCCESS;
}

DRIVER_API CUresult cuGetErrorString(CUresult error, const char** text) {
  if (text == nullptr) return EMU_ERROR_INVALID_VALUE;
  const ErrorText* e = error_text(error);
  if (e == nullptr) {
    *text = nullptr;
    return EMU_ERROR_INVALID_VALUE;
  }
  if (t_detail_status == error && error != 0) {
    snprintf(t_error_string, sizeof t_error_string, "%s [CUDA emulator: %s]", e->text, t_detail);
    *text = t_error_string;
  } else {
    *text = e->text;
  }
  return EMU_SUCCESS;
}
