#!/usr/bin/env bash
# ML-1M quality runs of the CPU engine (cpu preset: d 64, 2 blocks, 1 head, length 200, batch 128,
# m 8), each capped at 52 min of training so that start-to-final-evaluation stays under 60 min.
# From the repository root:  bash benchmarks/train-quality.sh jpq-ce|dense-ce|jpq-bce [OUT_DIR [EXTRA_FLAGS...]]
# EXTRA_FLAGS (e.g. --dropout 0) are appended to the run's flags, so they override them.
# Needs ../shared/data/ml-1m/ml-1m.txt. Prints the per-epoch log, the final table and /usr/bin/time.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
what="${1:?usage: train-quality.sh jpq-ce|dense-ce|jpq-bce [OUT_DIR]}"
out="${2:-$(mktemp -d)}"
extra=("${@:3}")
data=../shared/data/ml-1m/ml-1m.txt
./recjpq --help >/dev/null   # build once, outside the timings
mkdir -p "$out/app" && cp -r target/recjpq.jar target/lib "$out/app/"   # rebuilding the tree cannot touch the run
common=(--input "$data" --format sasrec-pairs --model sasrec --preset cpu)
case "$what" in
  jpq-ce)   args=(--embedding jpq --codes svd --loss ce --lr 0.003 --warmup 100 --schedule cosine --epochs 100 --patience 0 --max-minutes 52) ;;
  dense-ce) args=(--embedding dense --loss ce --lr 0.003 --warmup 100 --schedule cosine --epochs 100 --patience 0 --max-minutes 52) ;;
  jpq-bce)  args=(--embedding jpq --codes svd --loss bce --lr 0.003 --warmup 100 --max-minutes 15) ;;
  *) echo "unknown run '$what'" >&2; exit 2 ;;
esac
args+=("${extra[@]}")
echo "\$ ./recjpq train ${common[*]} ${args[*]} --output $out/$what.ckpt"
/usr/bin/time -v java -jar "$out/app/recjpq.jar" train "${common[@]}" "${args[@]}" --output "$out/$what.ckpt" 2>"$out/$what.time"
grep -E "Elapsed \(wall|Maximum resident" "$out/$what.time" | sed 's/^\s*/  /'
echo "report: $out/$what.ckpt.report"
