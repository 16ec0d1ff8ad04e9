#!/usr/bin/env bash
# SASRec-RecJPQ against its dense twin under one 60-minute budget per model (issue: RecJPQ as good
# as its dense twin). Each run is one `train` command with --max-minutes 60 (codes and a dense-pq
# twin count towards it), one engine thread, so that a dense run and a RecJPQ run share a 2-core
# machine side by side under the same conditions. From the repository root:
#   bash benchmarks/recjpq-60m.sh DATA RUN [OUT_DIR]
#     DATA: beauty or ml-1m (from ../shared/data);  RUN: dense, jpq or defaults
# dense and jpq are each model's best recipe found so far (benchmarks/recjpq-quality.md,
# benchmarks/train-quality.md); defaults passes nothing but the input and the budget.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
data="${1:?DATA: beauty or ml-1m}"
run="${2:?RUN: dense, jpq or defaults}"
out="${3:-target/recjpq-60m}"
case "$data" in
  beauty) raw=../shared/data/beauty/Beauty.txt; format=user-lines
    recipe="--max-len 50 --length-buckets --ffn-dim 256 --lr 0.003 --schedule cosine --warmup 100 --validation-users 4096 --patience 15 --epochs 60 --dropout 0.3"
    jpq="--codes-warmup-epochs 15" ;;
  ml-1m) raw=../shared/data/ml-1m/ml-1m.txt; format=sasrec-pairs
    recipe="--lr 0.003 --schedule cosine --warmup 100 --patience 15"
    jpq="--codes-warmup-epochs 60 --epochs 10" ;;
  *) echo "DATA must be beauty or ml-1m" >&2; exit 2 ;;
esac
case "$run" in
  dense) flags="$recipe --embedding dense"; [ "$data" = ml-1m ] && flags="$flags --epochs 60" ;;
  jpq) flags="$recipe --embedding jpq --codes dense-pq --splits 32 $jpq" ;;
  defaults) flags="" ;;
  *) echo "RUN must be dense, jpq or defaults" >&2; exit 2 ;;
esac
[ -f "$raw" ] || { echo "needs $raw (see ../shared/data/README.md)" >&2; exit 1; }
./recjpq --help >/dev/null   # build once
mkdir -p "$out"
[ -f "$out/$data.rjd" ] || ./recjpq prepare --input "$raw" --format "$format" --output "$out/$data.rjd" --quiet
# shellcheck disable=SC2086
/usr/bin/time -v ./recjpq train --input "$out/$data.rjd" --threads 1 --max-minutes 60 $flags \
  --output "$out/$data-$run.ckpt" 2>&1 | tee "$out/$data-$run.log"
