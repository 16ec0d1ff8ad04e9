#!/usr/bin/env bash
# Builds the CUDA emulator (cuda-emulator/, CMake + the host C++ compiler; no nvcc) and copies its
# libraries into the classpath, so that -Drecjpq.cuda=emulator can run the CUDA engine on the CPU
# (called by Maven in generate-resources, after build-kernels.sh).
#   native-build/build-emulator.sh BUILD_DIR OUT_DIR
# OUT_DIR gets libcuda.so.1, the kernel libraries, the fake cuBLAS/runtime/cuDNN, kernels-*.tsv
# and MANIFEST (the file names, one a line). Where cmake or a C++ compiler is missing (or
# RECJPQ_SKIP_EMULATOR=1) it says so and exits 0: the build goes on and the GPU tests are skipped
# with that reason. Where they are present but the emulator does not build, it fails the build.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build_dir="${1:-$root/target/cuda-emulator-build}"
out="${2:-$root/target/classes/org/recjpq/backend/cuda/emulator}"

say() { echo "[recjpq] $*"; }
if [ "${RECJPQ_SKIP_EMULATOR:-0}" = "1" ]; then
  say "RECJPQ_SKIP_EMULATOR=1: the CUDA emulator was NOT built (GPU tests will be skipped)."
  exit 0
fi
if [ "$(uname -s)-$(uname -m)" != "Linux-x86_64" ]; then
  say "the CUDA emulator needs x86-64 Linux ($(uname -s)-$(uname -m) here): NOT built (GPU tests will be skipped)."
  exit 0
fi
if ! command -v cmake >/dev/null 2>&1; then
  say "cmake not found: the CUDA emulator was NOT built (GPU tests will be skipped)."
  exit 0
fi
if ! command -v "${CXX:-c++}" >/dev/null 2>&1 && ! command -v g++ >/dev/null 2>&1; then
  say "no C++ compiler (c++ or g++) found: the CUDA emulator was NOT built (GPU tests will be skipped)."
  exit 0
fi
mkdir -p "$build_dir"
cmake -S "$root/cuda-emulator" -B "$build_dir" -DCMAKE_BUILD_TYPE=Release >"$build_dir/configure.log" 2>&1 \
  || { cat "$build_dir/configure.log"; say "CMake configure of the CUDA emulator failed"; exit 1; }
jobs="$(nproc 2>/dev/null || echo 2)"
cmake --build "$build_dir" -j "$jobs" >"$build_dir/build.log" 2>&1 \
  || { cat "$build_dir/build.log"; say "the CUDA emulator failed to build"; exit 1; }
rm -rf "$out"
mkdir -p "$out"
(cd "$build_dir/lib" && cp -p ./*.so* ./*.tsv "$out/" && ls -1 ./*.so* ./*.tsv | sed 's|^\./||' >"$out/MANIFEST")
say "CUDA emulator built: $out ($(wc -l <"$out/MANIFEST") files; select it with -Drecjpq.cuda=emulator)"
