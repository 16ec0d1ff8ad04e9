#!/usr/bin/env bash
# Where RecJPQ's quality goes against its dense twin: SASRec on Amazon Beauty (../shared/data), the
# same recipe for every run (length 50, FFN 256, lr 0.003 with 100 warm-up steps and a cosine decay
# over 60 epochs, full softmax CE, early stopping with patience 15 on 4,096 validation users, one
# engine thread each so that two runs can share a 2-core machine), changing one thing at a time.
# Epoch budgets, not minutes, so that the figures do not depend on what else the machine runs.
# From the repository root:
#   bash benchmarks/recjpq-quality.sh RUN [OUT_DIR]     (RUN: a name below, or 'list')
# Each run writes OUT_DIR/RUN.ckpt, its report folder (curves.csv, summary.md) and OUT_DIR/RUN.log.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
run="${1:-list}"
out="${2:-target/recjpq-quality}"
data=../shared/data/beauty/Beauty.txt

declare -A runs=(
  [dense-d64]="--embedding dense --dropout 0.1"
  [dense-d64-drop03]="--embedding dense --dropout 0.3"
  [jpq-m8-d64]="--embedding jpq --codes nsvd-pq --dropout 0.1"
  [jpq-m8-d128]="--embedding jpq --codes nsvd-pq --dropout 0.1 --dim 128"
  [jpq-m8-d64-bias-untied]="--embedding jpq --codes nsvd-pq --dropout 0.1 --item-bias --untied"
  [jpq-m16-d64]="--embedding jpq --codes nsvd-pq --dropout 0.1 --splits 16"
  [jpq-m8-d64-drop03]="--embedding jpq --codes nsvd-pq --dropout 0.3"
  [jpq-m8-d64-cooc]="--embedding jpq --codes cooc-pq --dropout 0.1"
  # codes from the item embeddings of the dense-d64-drop03 run (run it first)
  [jpq-m8-d64-modelpq]="--embedding jpq --codes MODELPQ --dropout 0.1"
  [jpq-m8-d64-modelpq-drop03]="--embedding jpq --codes MODELPQ --dropout 0.3"
  # the same in one command: a 10-epoch dense warm-up gives the codes
  [jpq-m8-d64-densepq-drop03]="--embedding jpq --codes dense-pq --codes-warmup-epochs 10 --dropout 0.3"
  # dense-pq since the RecJPQ model starts from its dense twin (backbone and codebook means)
  [jpq-m8-d64-twin15-drop03]="--embedding jpq --codes dense-pq --codes-warmup-epochs 15 --dropout 0.3"
  [jpq-m4-d64-twin15-drop03]="--embedding jpq --codes dense-pq --codes-warmup-epochs 15 --dropout 0.3 --splits 4"
  [jpq-m16-d64-twin15-drop03]="--embedding jpq --codes dense-pq --codes-warmup-epochs 15 --dropout 0.3 --splits 16"
  [jpq-m32-d64-twin15-drop03]="--embedding jpq --codes dense-pq --codes-warmup-epochs 15 --dropout 0.3 --splits 32"
)
if [ "$run" = list ] || [ -z "${runs[$run]+x}" ]; then
  echo "runs: ${!runs[*]}"
  [ "$run" = list ] && exit 0 || exit 2
fi
[ -f "$data" ] || { echo "needs $data (see ../shared/data/README.md)" >&2; exit 1; }
./recjpq --help >/dev/null   # build once
mkdir -p "$out"
[ -f "$out/beauty.rjd" ] || ./recjpq prepare --input "$data" --format user-lines --output "$out/beauty.rjd" --quiet
flags="${runs[$run]}"
if [[ "$flags" == *MODELPQ* ]]; then
  [ -f "$out/dense-d64-drop03.ckpt" ] || { echo "run dense-d64-drop03 first: its item embeddings give the codes" >&2; exit 1; }
  [ -f "$out/model-pq.codes" ] || ./recjpq assign-codes --input "$out/beauty.rjd" --strategy model-pq \
    --checkpoint "$out/dense-d64-drop03.ckpt" --splits 8 --output "$out/model-pq.codes" --quiet
  flags="${flags/MODELPQ/$out/model-pq.codes}"
fi
# shellcheck disable=SC2086
./recjpq train --input "$out/beauty.rjd" --max-len 50 --length-buckets --ffn-dim 256 --lr 0.003 --schedule cosine \
  --warmup 100 --validation-users 4096 --patience 15 --threads 1 --epochs 60 $flags \
  --output "$out/$run.ckpt" --quiet | tee "$out/$run.log"
