// Turns an extern "C" __global__ function into the emulator's KernelInfo: its parameter types as
// the compiler sees them, a capture of cuLaunchKernel's `void** kernelParams` into a typed tuple
// (copied at launch, as a GPU does), and a call of the kernel with that tuple. Included by the
// generated kernel libraries (see tools/scan_kernels.cpp) after the kernel sources.
#ifndef RECJPQ_EMU_KERNEL_REGISTRY_H
#define RECJPQ_EMU_KERNEL_REGISTRY_H

#include <cstddef>
#include <new>
#include <string>
#include <tuple>
#include <type_traits>
#include <utility>

#include "emu_device.h"

namespace recjpq_emu {

template <typename T>
const char* type_name() {
  static const std::string name = [](std::string s) {  // "... type_name() [with T = const float*]"
    size_t from = s.find("T = ");
    if (from == std::string::npos) return std::string("?");
    from += 4;
    size_t to = s.find_first_of(";]", from);
    return s.substr(from, to - from);
  }(__PRETTY_FUNCTION__);
  return name.c_str();
}

template <typename F>
struct KernelTraits;

template <typename... A>
struct KernelTraits<void (*)(A...)> {
  using Tuple = std::tuple<A...>;
  static_assert(std::is_trivially_destructible<Tuple>::value, "kernel parameters must be plain values");
  static constexpr int arity = (int)sizeof...(A);

  static const char* const* types() {
    static const char* const names[] = {type_name<A>()..., nullptr};
    return names;
  }

  static const unsigned char* pointers() {
    static const unsigned char flags[] = {(unsigned char)std::is_pointer<A>::value..., 0};
    return flags;
  }

  template <size_t... I>
  static void capture_with(void** params, void* storage, std::index_sequence<I...>) {
    (void)params;
    new (storage) Tuple(*static_cast<A*>(params[I])...);
  }

  static void capture(void** params, void* storage) {
    capture_with(params, storage, std::index_sequence_for<A...>{});
  }

  template <size_t... I>
  static void invoke_with(const void* function, const void* storage, std::index_sequence<I...>) {
    const Tuple& args = *static_cast<const Tuple*>(storage);
    (void)args;
    reinterpret_cast<void (*)(A...)>(const_cast<void*>(function))(std::get<I>(args)...);
  }

  static void invoke(const void* function, const void* storage) {
    invoke_with(function, storage, std::index_sequence_for<A...>{});
  }
};

}  // namespace recjpq_emu

#define RECJPQ_EMU_KERNEL(name, static_shared)                                                   \
  {                                                                                             \
    #name, reinterpret_cast<const void*>(&name), recjpq_emu::KernelTraits<decltype(&name)>::arity, \
        recjpq_emu::KernelTraits<decltype(&name)>::types(),                                     \
        recjpq_emu::KernelTraits<decltype(&name)>::pointers(),                                  \
        &recjpq_emu::KernelTraits<decltype(&name)>::capture,                                    \
        &recjpq_emu::KernelTraits<decltype(&name)>::invoke,                                     \
        sizeof(recjpq_emu::KernelTraits<decltype(&name)>::Tuple), static_shared                 \
  }

#endif  // RECJPQ_EMU_KERNEL_REGISTRY_H
