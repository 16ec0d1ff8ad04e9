#!/usr/bin/env bash
# Builds cuda/*.cu into one fatbin with CMake + nvcc (called by Maven in generate-resources).
#   native-build/build-kernels.sh BUILD_DIR FATBIN_OUT
# Where nvcc or cmake is missing (or RECJPQ_SKIP_CUDA=1) it says so and exits 0: the Java build
# goes on, and the CUDA engine reports at run time that the kernels were not built.
# Where nvcc is present but the kernels do not compile, it fails the build.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build_dir="${1:-$root/target/cuda-build}"
out="${2:-$root/target/classes/org/recjpq/backend/cuda/recjpq.fatbin}"

say() { echo "[recjpq] $*"; }
if [ "${RECJPQ_SKIP_CUDA:-0}" = "1" ]; then
  say "RECJPQ_SKIP_CUDA=1: the CUDA kernels were NOT built (CPU engine only)."
  exit 0
fi
# nvcc: $CUDACXX, else the PATH, else $CUDA_HOME/bin (default /usr/local/cuda); first executable wins.
nvcc_bin=""
for candidate in "${CUDACXX:-}" "$(command -v nvcc 2>/dev/null || true)" "${CUDA_HOME:-/usr/local/cuda}/bin/nvcc"; do
  if [ -n "$candidate" ] && [ -x "$candidate" ]; then
    nvcc_bin="$candidate"
    break
  fi
done
if [ -z "$nvcc_bin" ]; then
  say "nvcc not found: the CUDA kernels were NOT built. The CPU engine works; the CUDA engine will report itself unavailable."
  exit 0
fi
if ! command -v cmake >/dev/null 2>&1; then
  say "cmake not found: the CUDA kernels were NOT built. The CPU engine works; the CUDA engine will report itself unavailable."
  exit 0
fi
mkdir -p "$build_dir" "$(dirname "$out")"
cmake -S "$root" -B "$build_dir" -DRECJPQ_NVCC="$nvcc_bin" -DRECJPQ_FATBIN_OUT="$out" >"$build_dir/configure.log" 2>&1 \
  || { cat "$build_dir/configure.log"; say "CMake configure failed"; exit 1; }
cmake --build "$build_dir" || { say "nvcc failed to build the CUDA kernels"; exit 1; }
[ -s "$out" ] || { say "nvcc produced no fatbin at $out"; exit 1; }
say "CUDA kernels built: $out ($(stat -c %s "$out") bytes, $("$nvcc_bin" --version | tail -1))"
# ptxas's resource report for sm_90 (registers, static shared memory per kernel): the CUDA emulator's
# shared-memory table is checked against it (CudaEmulatorSharedMemoryTest). Best effort: a failure
# here only leaves that check without its reference.
"$nvcc_bin" -cubin -arch=sm_90 -O3 -std=c++17 -Xptxas -v -I "$root/cuda" -o "$build_dir/recjpq_sm_90.cubin" \
  "$build_dir/recjpq_all.cu" 2>"$build_dir/ptxas-sm_90.txt" >/dev/null \
  || { say "ptxas resource report for sm_90 not produced (see $build_dir/ptxas-sm_90.txt)"; rm -f "$build_dir/ptxas-sm_90.txt"; }
