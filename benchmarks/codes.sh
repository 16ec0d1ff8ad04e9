#!/usr/bin/env bash
# SVD code assignment at scale: a Gowalla-sized synthetic set (>= 1,271,638 items in the dataset,
# 86,168 users, 6.4M interactions) with a 2 GB heap, and 10M items / 100M interactions with 8 GB.
# Prints each command's output and /usr/bin/time's wall time and peak RSS. From the repository root:
#   bash benchmarks/codes.sh [gowalla|big|pq|all]   (default all; 'big' needs ~6 GB of disk in $TMPDIR)
# 'pq': the product-quantisation strategies (svd-pq, nsvd-pq, cooc-pq) on the Gowalla-sized set, 8 GB heap.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
what="${1:-all}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
./recjpq --help >/dev/null   # build once, outside the timings

timed() { # label, heap, command...
  local label="$1" heap="$2"; shift 2
  echo "### $label (-Xmx$heap)"
  echo '```'
  echo "RECJPQ_JAVA_OPTS=-Xmx$heap ./recjpq --quiet $*" | sed "s#$work/##g"
  RECJPQ_JAVA_OPTS="-Xmx$heap" /usr/bin/time -v ./recjpq --quiet "$@" 2>"$work/time.txt" | sed "s#$work/##g"
  grep -E "Elapsed \(wall|Maximum resident" "$work/time.txt" | sed 's/^\s*/  /'
  echo '```'
}

gowalla_set() { # g.rjd: --items 1450000 --zipf 0.3 makes 1,287,091 items occur, at least Gowalla's 1,271,638.
  timed "synth, Gowalla-sized" 2g synth --users 86168 --items 1450000 --interactions 6400000 --seed 1 --zipf 0.3 --output "$work/g.txt"
  timed "prepare" 2g prepare --input "$work/g.txt" --format sasrec-pairs --output "$work/g.rjd"
  rm -f "$work/g.txt"
}

if [ "$what" = gowalla ] || [ "$what" = all ]; then
  gowalla_set
  timed "assign-codes svd, m = 8" 2g assign-codes --input "$work/g.rjd" --strategy svd --splits 8 --seed 42 --output "$work/g.codes"
fi
if [ "$what" = pq ]; then
  gowalla_set
  for s in svd-pq nsvd-pq cooc-pq; do
    timed "assign-codes $s, m = 8" 8g assign-codes --input "$work/g.rjd" --strategy "$s" --splits 8 --seed 42 --output "$work/g-$s.codes"
  done
fi
if [ "$what" = big ] || [ "$what" = all ]; then
  timed "synth, 10M items / 100M interactions" 8g synth --users 1000000 --items 10000000 --interactions 100000000 --seed 42 --output "$work/big.txt"
  timed "prepare" 8g prepare --input "$work/big.txt" --format sasrec-pairs --output "$work/big.rjd"
  rm -f "$work/big.txt"
  timed "assign-codes svd, m = 8" 8g assign-codes --input "$work/big.rjd" --strategy svd --splits 8 --seed 42 --output "$work/big.codes"
fi
