#!/usr/bin/env bash
# Training throughput of two builds side by side (A, B alternating, so that a machine's drift hits
# both alike): the cpu preset's model (d 64, T 200, 2 blocks, 1 head, batch 128, m 8) on ML-1M,
# RecJPQ and dense items, BCE-1 and exact full CE, with the same explicit schedule for both.
# From the repository root:
#   bash benchmarks/train-throughput-ab.sh DIR_A DIR_B [SECONDS] [ROUNDS]
# DIR_A, DIR_B: folders holding recjpq.jar and lib/ (a build's target/ folder, or a copy of it).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
a="${1:?DIR_A}"; b="${2:?DIR_B}"; seconds="${3:-30}"; rounds="${4:-2}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
java -jar "$a/recjpq.jar" --quiet prepare --input ../shared/data/ml-1m/ml-1m.txt --format sasrec-pairs \
  --output "$work/ml-1m.rjd" >/dev/null
flags=(--preset cpu --lr 0.001 --warmup 0 --schedule constant --threads 2 --seconds "$seconds" --json)
printf '| embedding | loss | round | A seq/s | B seq/s | B/A |\n|---|---|---|---|---|---|\n'
for emb in jpq dense; do
  for loss in bce ce; do
    for r in $(seq 1 "$rounds"); do
      sa=$(java -jar "$a/recjpq.jar" bench train --input "$work/ml-1m.rjd" --embedding "$emb" --loss "$loss" "${flags[@]}" \
        | python3 -c 'import json,sys; print(json.load(sys.stdin)["seqs_per_s"])')
      sb=$(java -jar "$b/recjpq.jar" bench train --input "$work/ml-1m.rjd" --embedding "$emb" --loss "$loss" "${flags[@]}" \
        | python3 -c 'import json,sys; print(json.load(sys.stdin)["seqs_per_s"])')
      python3 -c "print(f'| $emb | $loss | $r | {float($sa):.1f} | {float($sb):.1f} | {float($sb)/float($sa):.3f} |')"
    done
  done
done
