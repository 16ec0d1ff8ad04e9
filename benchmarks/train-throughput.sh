#!/usr/bin/env bash
# Training throughput of the CPU engine, cpu preset (d 64, T 200, 2 blocks, 1 head, batch 128,
# m 8) on ML-1M: RecJPQ and dense items, BCE-1 and exact full CE, side by side in one run.
# From the repository root: bash benchmarks/train-throughput.sh [SECONDS]   (default 30)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
seconds="${1:-30}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
./recjpq --quiet prepare --input ../shared/data/ml-1m/ml-1m.txt --format sasrec-pairs --output "$work/ml-1m.rjd" >/dev/null
for emb in jpq dense; do
  for loss in bce ce; do
    echo "\$ ./recjpq bench train --input ml-1m.rjd --preset cpu --embedding $emb --loss $loss --seconds $seconds --json"
    ./recjpq bench train --input "$work/ml-1m.rjd" --preset cpu --embedding "$emb" --loss "$loss" --seconds "$seconds" --json
  done
done
