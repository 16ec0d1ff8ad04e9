#!/usr/bin/env bash
# The device check (docs/architecture.md §7), run THERE: on a GPU machine with a CUDA 13 driver, no Java, no
# Maven and no network, where cuBLAS and cuDNN live only inside python3's packages (nvidia/...).
#
#   bash native-build/gpu-check.sh      (from the repository root; the bundle is target/gpu-bundle)
#   bash gpu-check.sh                   (from inside the bundle folder)
#
# Needs the bundle made here by native-build/gpu-bundle.sh (carried as target/gpu-bundle).
# Steps: find the bundle; put the CUDA 13 libraries of python3's nvidia packages on
# LD_LIBRARY_PATH; print nvidia-smi's device/driver line; run DeviceCheck (the toolchain probe);
# run the gpu-tagged JUnit tests with the console launcher; end with a summary table. Everything
# is also written to $OUT/gpu-check.log (and the table to $OUT/gpu-check-summary.md) when OUT is
# set. Exit code: 0 all passed, 1 something failed, 2 no GPU, 3 the bundle is missing or broken.
# RECJPQ_BUNDLE=DIR overrides the bundle's location; RECJPQ_CUDA_LIB_DIRS=DIR:DIR replaces the
# library search.
set -u

main() {
  local t0 here bundle work
  t0="$(now)"
  here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
  echo "# recjpq GPU check, $(date -u +%Y-%m-%dT%H:%M:%SZ) on $(hostname 2>/dev/null || echo '?')" \
    "($(uname -srm 2>/dev/null))"

  # 1. The bundle.
  bundle=""
  for candidate in "${RECJPQ_BUNDLE:-}" "$here" "$here/../target/gpu-bundle" \
      "$PWD/target/gpu-bundle" "$PWD"; do
    if [ -n "$candidate" ] && [ -f "$candidate/BUNDLE.txt" ]; then
      bundle="$(cd "$candidate" && pwd)"
      break
    fi
  done
  if [ -z "$bundle" ]; then
    echo "ERROR: no bundle found (looked for BUNDLE.txt in \$RECJPQ_BUNDLE, $here," \
      "$here/../target/gpu-bundle and $PWD/target/gpu-bundle). Make it on a build machine with" \
      "native-build/gpu-bundle.sh and copy target/gpu-bundle along."
    row bundle FAIL "not found"
    finish "$t0" 3
    return 3
  fi
  local java="$bundle/runtime/bin/java"
  local console
  console="$(ls "$bundle"/junit-platform-console-standalone-*.jar 2>/dev/null | head -1)"
  local missing=""
  for f in "$java" "$bundle/recjpq.jar" "$bundle/recjpq-tests.jar" "$console"; do
    [ -n "$f" ] && [ -f "$f" ] || missing="$missing ${f:-junit-platform-console-standalone-*.jar}"
  done
  if [ -n "$missing" ]; then
    echo "ERROR: the bundle at $bundle is incomplete; missing:$missing. Remake it with" \
      "native-build/gpu-bundle.sh."
    row bundle FAIL "incomplete:$missing"
    finish "$t0" 3
    return 3
  fi
  # Carried files may lose their executable bits.
  chmod +x "$java" "$bundle"/runtime/lib/jspawnhelper 2>/dev/null || true
  sed -n '1,5p' "$bundle/BUNDLE.txt" | sed 's/^/  /'
  row bundle PASS "$bundle ($(du -sh "$bundle" 2>/dev/null | cut -f1))"

  work="$(mktemp -d "${TMPDIR:-/tmp}/recjpq-gpu-check.XXXXXX")"
  mkdir -p "$work/tmp" "$work/javacpp"

  # 2. The device, as nvidia-smi sees it.
  local gpu_present=0 smi
  if command -v nvidia-smi >/dev/null 2>&1; then
    smi="$(timeout 30 nvidia-smi --query-gpu=name,driver_version,memory.total,compute_cap \
      --format=csv,noheader 2>&1)"
    local rc=$?
    local cuda_version
    cuda_version="$(timeout 30 nvidia-smi 2>/dev/null | grep -o 'CUDA Version: [0-9.]*' | head -1)"
    if [ $rc = 0 ] && [ -n "$smi" ]; then
      gpu_present=1
      echo "nvidia-smi: $smi${cuda_version:+, $cuda_version}"
      row nvidia-smi PASS "$(echo "$smi" | head -1)${cuda_version:+, $cuda_version}"
    else
      echo "nvidia-smi failed (exit $rc): $smi"
      row nvidia-smi SKIP "failed (exit $rc): $(echo "$smi" | head -1)"
    fi
  else
    echo "nvidia-smi is not installed: no NVIDIA driver here."
    row nvidia-smi SKIP "not installed (no NVIDIA driver)"
  fi

  # 3. CUDA 13 libraries from python3's nvidia packages (cuBLAS, cuDNN, cudart).
  local dirs
  if [ -n "${RECJPQ_CUDA_LIB_DIRS:-}" ]; then
    dirs="$(echo "$RECJPQ_CUDA_LIB_DIRS" | tr ':' '\n')"
  else
    dirs="$(find_nvidia_lib_dirs)"
  fi
  # The driver's own folder, where containers mount libcuda.so.1 (never cuda/compat).
  for d in /usr/local/nvidia/lib64 /usr/local/nvidia/lib; do
    [ -e "$d/libcuda.so.1" ] && dirs="$dirs"$'\n'"$d"
  done
  dirs="$(echo "$dirs" | sed '/^$/d' | awk '!seen[$0]++')"
  local path_add
  path_add="$(echo "$dirs" | paste -sd: -)"
  if [ -n "$path_add" ]; then # never an empty entry: that would search the current folder
    export LD_LIBRARY_PATH="${path_add}${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
  fi
  echo "CUDA library folders ($(echo "$dirs" | sed '/^$/d' | wc -l)):"
  echo "$dirs" | sed '/^$/d; s/^/  /'
  local lib where libs_missing="" libs_found=""
  for lib in libcuda.so.1 libcudart.so.13 libcublas.so.13 libcublasLt.so.13 libcudnn.so.9; do
    where="$(locate_lib "$lib" "$dirs")"
    if [ -n "$where" ]; then
      echo "  $lib: $where"
      libs_found="$libs_found $lib"
    else
      echo "  $lib: NOT FOUND"
      libs_missing="$libs_missing $lib"
    fi
  done
  if [ -z "$libs_missing" ]; then
    row cuda-libs PASS "$(echo "$dirs" | sed '/^$/d' | wc -l) folders; all of libcuda.so.1," \
      "libcudart/libcublas/libcublasLt .so.13, libcudnn.so.9 found"
  elif [ "$gpu_present" = 1 ]; then
    echo "ERROR: missing on a GPU machine:$libs_missing (is python3 the one with PyTorch cu130" \
      "and the nvidia-* packages? set RECJPQ_CUDA_LIB_DIRS to their lib folders)."
    row cuda-libs FAIL "missing:$libs_missing"
  else
    row cuda-libs SKIP "missing:$libs_missing (no GPU here)"
  fi

  # 4. Java, the probe and the gpu tests. (No JUnit XML reports: they need the java.xml module,
  # which the bundle's runtime leaves out; the console's tree output is in the log.)
  local crash_dir="$work"
  [ -n "${OUT:-}" ] && [ -d "$OUT" ] && crash_dir="$OUT"
  local jvm_flags=("-Djava.io.tmpdir=$work/tmp" "-Dorg.bytedeco.javacpp.cachedir=$work/javacpp"
    "-Xmx8g" "-XX:ErrorFile=$crash_dir/hs_err_pid%p.log")
  local cp="$bundle/recjpq.jar:$bundle/recjpq-tests.jar:$(ls "$bundle"/lib/*.jar | paste -sd: -)"
  local java_version
  if java_version="$("$java" -version 2>&1)"; then
    echo "java: $(echo "$java_version" | head -1)"
    row java PASS "$(echo "$java_version" | head -1) (bundled jlink runtime)"
  else
    echo "ERROR: the bundled Java runtime does not start here: $java_version"
    ldd "$java" 2>&1 | sed 's/^/  /'
    row java FAIL "the bundled runtime does not start: $(echo "$java_version" | head -1)"
    finish "$t0" 3
    rm -rf "$work"
    return 3
  fi

  echo
  echo "## DeviceCheck"
  local t rc_check allow=()
  [ "$gpu_present" = 1 ] || allow=(--allow-no-gpu)
  t="$(now)"
  timeout 180 "$java" "${jvm_flags[@]}" -cp "$cp" org.recjpq.backend.cuda.probe.DeviceCheck \
    ${allow[@]+"${allow[@]}"} --summary "$work/device-check.md"
  rc_check=$?
  local check_counts=""
  [ -f "$work/device-check.md" ] && check_counts="$(grep -E '^[0-9]+ passed' "$work/device-check.md")"
  case $rc_check in
    0) if [ "$gpu_present" = 1 ]; then row device-check PASS "$check_counts ($(since "$t") s)"
       else row device-check SKIP "no GPU: $check_counts ($(since "$t") s)"; fi ;;
    124) row device-check FAIL "timed out after 180 s" ;;
    *) row device-check FAIL "exit $rc_check: ${check_counts:-no summary} ($(since "$t") s)" ;;
  esac

  echo
  echo "## JUnit tests tagged gpu"
  local rc_tests junit_log="$work/junit.log"
  t="$(now)"
  timeout 240 "$java" "${jvm_flags[@]}" -jar "$console" execute --disable-banner \
    --disable-ansi-colors \
    --details=tree --class-path="$cp" --scan-class-path="$bundle/recjpq-tests.jar" \
    --include-tag gpu 2>&1 | tee "$junit_log"
  rc_tests=${PIPESTATUS[0]}
  local n_ok n_failed n_skipped n_aborted n_found
  n_found="$(count_of "tests found" "$junit_log")"
  n_ok="$(count_of "tests successful" "$junit_log")"
  n_failed="$(count_of "tests failed" "$junit_log")"
  n_skipped="$(count_of "tests skipped" "$junit_log")"
  n_aborted="$(count_of "tests aborted" "$junit_log")"
  local tests_detail="$n_found found, $n_ok passed, $n_failed failed, $n_aborted skipped by an"
  tests_detail="$tests_detail assumption, $n_skipped disabled ($(since "$t") s)"
  if [ "$rc_tests" = 124 ]; then
    row junit-gpu FAIL "timed out after 240 s"
  elif [ "$rc_tests" != 0 ]; then
    row junit-gpu FAIL "exit $rc_tests: $tests_detail"
  elif [ "$gpu_present" = 1 ] && [[ "$n_ok" =~ ^[1-9][0-9]*$ ]] && [ "$n_aborted" = 0 ]; then
    row junit-gpu PASS "$tests_detail"
  elif [ "$gpu_present" = 1 ]; then
    row junit-gpu FAIL "nothing ran on the GPU: $tests_detail"
  else
    row junit-gpu SKIP "no GPU: $tests_detail"
  fi

  # 5. Training on the GPU: a short ML-1M run against the CPU engine's figure, then the speed
  # comparisons (skipped without a GPU, and the benchmarks when time runs short).
  if [ "$gpu_present" = 1 ]; then
    gpu_runs "$t0"
  fi

  local status=0
  if grep -q ' FAIL ' "$ROWS"; then
    status=1
  elif [ "$gpu_present" = 0 ]; then
    status=2
  fi
  finish "$t0" "$status" "$work/device-check.md"
  rm -rf "$work"
  return "$status"
}

# The CPU engine's test NDCG@10 for the short ML-1M run below (same command with --device cpu on
# the 2-vCPU build machine; see benchmarks/gpu.md). The GPU run must land within +-0.005.
ML1M_CPU_NDCG10="${RECJPQ_ML1M_CPU_NDCG10:-0.0745}"
ML1M_RUN_FLAGS=(--format sasrec-pairs --model sasrec --embedding jpq --codes svd --loss ce --preset cpu
  --lr 0.003 --warmup 100 --schedule cosine --epochs 10 --patience 0)

# Runs recjpq's CLI with the bundle's runtime: gpu_cli TIMEOUT ARGS...
gpu_cli() {
  local limit="$1"
  shift
  timeout "$limit" "$java" "${jvm_flags[@]}" -cp "$cp" org.recjpq.cli.Main "$@"
}

# A JSON field of the last JSON line of a file: json_field FILE KEY (empty when absent).
json_field() {
  python3 - "$1" "$2" <<'PYEOF' 2>/dev/null
import json, sys
last = None
for line in open(sys.argv[1], errors="replace"):
    line = line.strip()
    if line.startswith("{"):
        try:
            last = json.loads(line)
        except ValueError:
            pass
v = (last or {}).get(sys.argv[2])
print("" if v is None else v)
PYEOF
}

gpu_runs() {
  local t_start="$1" t data="$work/ml-1m.txt" log ndcg rc
  [ -f "$bundle/data/ml-1m.txt.xz" ] && python3 -c 'import lzma, sys; open(sys.argv[2], "wb").write(
      lzma.open(sys.argv[1]).read())' "$bundle/data/ml-1m.txt.xz" "$data"
  echo
  echo "## Short ML-1M training run on the GPU (SASRec-RecJPQ, full CE, 10 epochs)"
  if [ ! -f "$data" ]; then
    row gpu-train-ml1m SKIP "no data/ml-1m.txt.xz in the bundle (gpu-bundle.sh copies it from ../shared/data)"
  else
    t="$(now)"
    log="$work/train-ml1m.log"
    gpu_cli 240 train --input "$data" "${ML1M_RUN_FLAGS[@]}" --device cuda --output "$work/ml1m.ckpt" --json \
      2>&1 | tee "$log"
    rc=${PIPESTATUS[0]}
    ndcg="$(json_field "$log" "ndcg@10")"
    if [ "$rc" != 0 ] || [ -z "$ndcg" ]; then
      row gpu-train-ml1m FAIL "exit $rc, no NDCG ($(since "$t") s)"
    elif python3 -c "import sys; sys.exit(0 if abs($ndcg - $ML1M_CPU_NDCG10) <= 0.005 else 1)" 2>/dev/null; then
      row gpu-train-ml1m PASS "test NDCG@10 $ndcg vs CPU $ML1M_CPU_NDCG10 (+-0.005), $(since "$t") s"
    else
      row gpu-train-ml1m FAIL "test NDCG@10 $ndcg vs CPU $ML1M_CPU_NDCG10 (+-0.005), $(since "$t") s"
    fi
  fi

  if [ "${RECJPQ_GPU_BENCH:-1}" = 0 ]; then
    row gpu-bench SKIP "RECJPQ_GPU_BENCH=0"
    return
  fi
  echo
  echo "## Kernel and head benchmarks (GpuBench)"
  t="$(now)"
  log="$work/gpu-bench.log"
  timeout 150 "$java" "${jvm_flags[@]}" -cp "$cp" org.recjpq.backend.cuda.probe.GpuBench --items 1271638 2>&1 | tee "$log"
  rc=${PIPESTATUS[0]}
  [ -n "${OUT:-}" ] && [ -d "$OUT" ] && grep '^|' "$log" > "$OUT/gpu-bench.md" 2>/dev/null
  if [ "$rc" = 0 ]; then
    row gpu-bench PASS "$(grep -m1 '^summary:' "$log" | cut -c10-) ($(since "$t") s)"
  else
    row gpu-bench FAIL "exit $rc ($(since "$t") s)"
  fi

  echo
  echo "## Batched exact top-K on the GPU (serving) vs the CPU's GEMM strategy, 1M items, d 64, m 8"
  t="$(now)"
  gpu_cli 120 bench scoring --items 1000000 --dim 64 --splits 8 --k 10 --queries 20 --warmup 5 --batch 256 --gpu \
    --no-dense --json > "$work/batch-gpu.json" 2>"$work/batch-gpu.err"
  rc=$?
  cat "$work/batch-gpu.json" "$work/batch-gpu.err" 2>/dev/null | tail -3
  if [ "$rc" = 0 ] && grep -q '"batch_gpu_agree":true' "$work/batch-gpu.json"; then
    row gpu-batch-scoring PASS "same top-10 as the CPU; $(json_field "$work/batch-gpu.json" batch_gpu_users_per_s) users/s" \
      "vs CPU GEMM $(json_field "$work/batch-gpu.json" batch_gemm_users_per_s) ($(since "$t") s)"
  else
    row gpu-batch-scoring FAIL "exit $rc, agree: $(json_field "$work/batch-gpu.json" batch_gpu_agree) ($(since "$t") s)"
  fi

  echo
  echo "## Training throughput: recjpq (CUDA) vs the PyTorch reference, same model and batch"
  local datasets=() synth="$work/synth-1.27m.txt" name input loss ours theirs budget
  [ -f "$data" ] && datasets+=("ml1m:$data")
  if awk -v a="$t_start" -v b="$(now)" 'BEGIN { exit !(b - a < 330) }'; then
    gpu_cli 120 synth --users 86168 --items 1271638 --interactions 6400000 --seed 1 --output "$synth" \
      >/dev/null 2>&1 && datasets+=("synth1.27m:$synth")
  fi
  local pybench="$bundle/pytorch_sasrec_jpq.py"
  for entry in "${datasets[@]}"; do
    name="${entry%%:*}"
    input="${entry#*:}"
    for loss in bce gbce; do
      if ! awk -v a="$t_start" -v b="$(now)" 'BEGIN { exit !(b - a < 420) }'; then
        row "throughput-$name-$loss" SKIP "time budget of the check spent"
        continue
      fi
      gpu_cli 120 bench train --input "$input" --format sasrec-pairs --preset cpu --embedding jpq --codes random \
        --loss "$loss" --seconds 10 --device cuda --json > "$work/ours-$name-$loss.json" 2>"$work/ours.err"
      ours="$(json_field "$work/ours-$name-$loss.json" tokens_per_s)"
      PYTHONUNBUFFERED=1 timeout 120 python3 "$pybench" --input "$input" --loss "$loss" --seconds 10 \
        > "$work/torch-$name-$loss.json" 2>"$work/torch.err"
      theirs="$(json_field "$work/torch-$name-$loss.json" tokens_per_s)"
      echo "$name $loss: recjpq $(cat "$work/ours-$name-$loss.json" | tail -1)"
      echo "$name $loss: pytorch $(cat "$work/torch-$name-$loss.json" | tail -1)"
      if [ -n "$ours" ] && [ -n "$theirs" ]; then
        local ratio
        ratio="$(python3 -c "print(f'{$ours / $theirs:.2f}')")"
        if python3 -c "import sys; sys.exit(0 if $ours >= 2 * $theirs else 1)"; then
          row "throughput-$name-$loss" PASS "recjpq $ours tokens/s, pytorch $theirs: ${ratio}x (target >= 2x)"
        else
          row "throughput-$name-$loss" FAIL "recjpq $ours tokens/s, pytorch $theirs: ${ratio}x (target >= 2x)"
        fi
      else
        row "throughput-$name-$loss" FAIL "no figure (recjpq: $(tail -1 "$work/ours.err"); pytorch:" \
          "$(tail -1 "$work/torch.err"))"
      fi
    done
  done
}

now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }
row() { local name="$1" result="$2"; shift 2; printf '| %s | %s | %s |\n' "$name" "$result" "$*" >> "$ROWS"; }
count_of() {
  local n
  n="$(grep -E "\[ *[0-9]+ $1" "$2" | tail -1 | grep -oE '[0-9]+' | head -1)"
  echo "${n:-?}"
}

# Every folder holding lib*.so* under python3's nvidia packages (nvidia/cu13/lib, nvidia/cudnn/lib,
# ...), found through python3 itself; a bounded find is the fallback.
find_nvidia_lib_dirs() {
  local found=""
  if command -v python3 >/dev/null 2>&1; then
    found="$(timeout 60 python3 - <<'EOF' 2>/dev/null
import os, re, site, sys, sysconfig
roots = []
try:
    import nvidia  # a namespace package: one path per site-packages folder holding it
    roots += list(nvidia.__path__)
except Exception:
    pass
candidates = list(getattr(site, "getsitepackages", lambda: [])()) + [site.getusersitepackages()]
candidates += [sysconfig.get_paths().get(k) for k in ("purelib", "platlib")]
candidates += [p for p in sys.path if p.endswith(("site-packages", "dist-packages"))]
for base in candidates:
    if base and os.path.isdir(os.path.join(base, "nvidia")):
        roots.append(os.path.join(base, "nvidia"))
seen = []
pattern = re.compile(r"^lib.*\.so(\.[0-9]+)*$")
for root in dict.fromkeys(os.path.realpath(r) for r in roots):
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = [d for d in dirnames if d not in ("include", "__pycache__", "bin")]
        if any(pattern.match(f) for f in filenames) and dirpath not in seen:
            seen.append(dirpath)
print("\n".join(seen))
EOF
)"
  fi
  if [ -z "$found" ]; then
    echo "python3 is missing or has no nvidia packages; searching the file system instead." >&2
    found="$(timeout 60 find /usr /opt /root /home -maxdepth 8 -type d \
      -path '*-packages/nvidia/*' -name lib 2>/dev/null)"
  fi
  echo "$found"
}

locate_lib() { # name dirs
  local d
  while read -r d; do
    [ -n "$d" ] && [ -e "$d/$1" ] && { echo "$d/$1"; return; }
  done <<< "$2"
  while read -r d; do
    [ -n "$d" ] && [ -e "$d/$1" ] && { echo "$d/$1"; return; }
  done <<< "$(echo "${LD_LIBRARY_PATH:-}" | tr ':' '\n')"
  ldconfig -p 2>/dev/null | awk -v n="$1" '$1 == n { print $NF; exit }'
}

finish() { # t0 status [device-check table]
  {
    echo
    echo "## GPU check summary"
    echo
    echo "| check | result | detail |"
    echo "|---|---|---|"
    cat "$ROWS"
    echo "| total | exit $2 | $(since "$1") s |"
    if [ -n "${3:-}" ] && [ -f "$3" ]; then
      echo
      echo "### DeviceCheck steps"
      echo
      cat "$3"
    fi
  } | tee "$ROWS.summary"
  if [ -n "${OUT:-}" ] && [ -d "$OUT" ]; then
    cp "$ROWS.summary" "$OUT/gpu-check-summary.md"
  fi
}

ROWS="$(mktemp "${TMPDIR:-/tmp}/recjpq-gpu-check-rows.XXXXXX")"
if [ -n "${OUT:-}" ] && [ -d "${OUT:-}" ]; then
  main "$@" 2>&1 | tee "$OUT/gpu-check.log"
  status=${PIPESTATUS[0]}
else
  main "$@" 2>&1
  status=$?
fi
rm -f "$ROWS" "$ROWS.summary"
exit "$status"
