#!/usr/bin/env bash
# Data-pipeline timings: prepare and load the real datasets, evaluate MostPop on them, and
# synthesise + prepare a Gowalla-sized log. Prints a markdown table; run from the repository root:
#   bash benchmarks/data-pipeline.sh > benchmarks/data-pipeline.md.new
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
data="${RECJPQ_SHARED_DATA:-../shared/data}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
./recjpq --help >/dev/null   # builds the jar once, outside the timings

secs() { local t0 t1; t0=$(date +%s.%N); "$@" >"$work/last.out" 2>&1 || { cat "$work/last.out"; exit 1; }; t1=$(date +%s.%N); printf "%.2f" "$(echo "$t1 - $t0" | bc)"; }

echo "| step | wall s (whole command, JVM start included) | detail |"
echo "|---|---|---|"
for spec in "ml-1m/ml-1m.txt sasrec-pairs" "beauty/Beauty.txt user-lines" "ml-100k/u.data movielens"; do
  set -- $spec
  f="$data/$1"; fmt="$2"; name="$(basename "$(dirname "$1")")"
  [ -f "$f" ] || { echo "| $name | skipped | $f absent |"; continue; }
  s=$(secs ./recjpq --quiet prepare --input "$f" --format "$fmt" --output "$work/$name.rjd")
  echo "| prepare $name | $s | $(grep -o 'wrote.*' "$work/last.out") |"
  for i in 1 2 3; do ./recjpq --quiet info --dataset "$work/$name.rjd" | grep -o 'loaded and checked in [0-9.]* ms'; done >"$work/load.txt"
  echo "| load $name.rjd (3 runs) | | $(tr '\n' ';' <"$work/load.txt") |"
  s=$(secs ./recjpq --quiet evaluate --input "$work/$name.rjd" --model mostpop --json)
  echo "| evaluate mostpop $name | $s | $(cat "$work/last.out") |"
done
s=$(secs ./recjpq --quiet synth --users 86168 --items 1271638 --interactions 6400000 --seed 1 --output "$work/g.txt")
echo "| synth Gowalla-sized (86,168 u, 1,271,638 i, 6.4M) | $s | $(cat "$work/last.out") |"
s=$(secs ./recjpq --quiet prepare --input "$work/g.txt" --format sasrec-pairs --output "$work/g.rjd")
echo "| prepare Gowalla-sized | $s | $(grep -o 'wrote.*' "$work/last.out") |"
for i in 1 2 3; do ./recjpq --quiet info --dataset "$work/g.rjd" | grep -o 'loaded and checked in [0-9.]* ms'; done >"$work/load.txt"
echo "| load Gowalla-sized .rjd (3 runs) | | $(tr '\n' ';' <"$work/load.txt") |"
