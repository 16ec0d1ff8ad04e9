#!/usr/bin/env bash
# ML-1M quality runs of the CPU engine (cpu preset: d 64, 2 blocks, 1 head, length 200, batch 128,
# m 8; cpu-bert4rec for BERT4Rec), capped at 52 min of training (82 for BERT4Rec) so that
# start-to-final-evaluation stays under 60 (90) min.
# From the repository root:  bash benchmarks/train-quality.sh RUN [OUT_DIR [EXTRA_FLAGS...]]
# RUN: jpq-ce, jpq-ce-tuned, dense-ce, jpq-bce (SASRec), gru4rec-jpq, gru4rec-dense, bert4rec-jpq, bert4rec-dense,
#   jpq-ce-model (two stages in one budget: a dense SASRec for DENSE_EPOCHS epochs, default 12, whose item
#   embeddings become model-pq codes, then SASRec-RecJPQ with those codes for the minutes left of 52).
# jpq-ce-tuned: SASRec-RecJPQ with nsvd-pq codes, a 256-wide feed-forward layer and dropout 0.1, cosine over
#   90 epochs (the recorded RecJPQ full-CE recipe; d, m, blocks, heads, length and batch stay the cpu preset's).
# EXTRA_FLAGS (e.g. --dropout 0) are appended to the run's flags and override them (a repeated option's last value wins).
# Needs ../shared/data/ml-1m/ml-1m.txt. Prints the per-epoch log, the final table and /usr/bin/time.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
what="${1:?usage: train-quality.sh jpq-ce|jpq-ce-tuned|dense-ce|jpq-bce|gru4rec-jpq|gru4rec-dense|bert4rec-jpq|bert4rec-dense|jpq-ce-model [OUT_DIR [EXTRA_FLAGS...]]}"
out="${2:-$(mktemp -d)}"
extra=("${@:3}")
data=../shared/data/ml-1m/ml-1m.txt
./recjpq --help >/dev/null   # build once, outside the timings
mkdir -p "$out/app" && cp -r target/recjpq.jar target/lib "$out/app/"   # rebuilding the tree cannot touch the run
common=(--input "$data" --format sasrec-pairs)
sasrec=(--model sasrec --preset cpu)
gru=(--model gru4rec --preset cpu --loss ce --lr 0.003 --warmup 100 --schedule cosine --epochs 100 --patience 0
  --max-minutes 52)
bert=(--preset cpu-bert4rec --loss ce --lr 0.003 --dropout 0.1 --warmup 100 --schedule cosine --epochs 200
  --patience 0 --max-minutes 82)
start=$(date +%s)
case "$what" in
  jpq-ce)   args=("${sasrec[@]}" --embedding jpq --codes svd --loss ce --lr 0.003 --warmup 100 --schedule cosine --epochs 100 --patience 0 --max-minutes 52) ;;
  jpq-ce-tuned) args=("${sasrec[@]}" --embedding jpq --codes nsvd-pq --loss ce --lr 0.003 --warmup 100 --schedule cosine
      --epochs 90 --patience 0 --max-minutes 52 --dropout 0.1 --ffn-dim 256) ;;
  dense-ce) args=("${sasrec[@]}" --embedding dense --loss ce --lr 0.003 --warmup 100 --schedule cosine --epochs 100 --patience 0 --max-minutes 52) ;;
  jpq-ce-model)
    stage1=("${sasrec[@]}" --embedding dense --loss ce --lr 0.003 --warmup 100 --schedule cosine
      --epochs "${DENSE_EPOCHS:-12}" --patience 0 --test-users 100)
    echo "\$ ./recjpq train ${common[*]} ${stage1[*]} --output $out/stage1-dense.ckpt"
    java -jar "$out/app/recjpq.jar" train "${common[@]}" "${stage1[@]}" --output "$out/stage1-dense.ckpt"
    echo "\$ ./recjpq assign-codes ${common[*]} --strategy model-pq --checkpoint $out/stage1-dense.ckpt --output $out/model-pq.codes"
    java -jar "$out/app/recjpq.jar" assign-codes "${common[@]}" --strategy model-pq \
      --checkpoint "$out/stage1-dense.ckpt" --output "$out/model-pq.codes"
    left=$(( 52 - ($(date +%s) - start + 59) / 60 ))
    args=("${sasrec[@]}" --embedding jpq --codes "$out/model-pq.codes" --loss ce --lr 0.003 --warmup 100 --schedule cosine
      --epochs 100 --patience 0 --max-minutes "$left") ;;
  jpq-bce)  args=("${sasrec[@]}" --embedding jpq --codes svd --loss bce --lr 0.003 --warmup 100 --max-minutes 15) ;;
  gru4rec-jpq)    args=("${gru[@]}" --embedding jpq --codes svd) ;;
  gru4rec-dense)  args=("${gru[@]}" --embedding dense) ;;
  bert4rec-jpq)   args=("${bert[@]}" --embedding jpq --codes svd) ;;
  bert4rec-dense) args=("${bert[@]}" --embedding dense) ;;
  *) echo "unknown run '$what'" >&2; exit 2 ;;
esac
args+=("${extra[@]}")
echo "\$ ./recjpq train ${common[*]} ${args[*]} --output $out/$what.ckpt"
/usr/bin/time -v java -jar "$out/app/recjpq.jar" train "${common[@]}" "${args[@]}" --output "$out/$what.ckpt" 2>"$out/$what.time"
grep -E "Elapsed \(wall|Maximum resident" "$out/$what.time" | sed 's/^\s*/  /'
echo "  all stages, start to final evaluation: $(( ($(date +%s) - start) / 60 )) min $(( ($(date +%s) - start) % 60 )) s"
echo "report: $out/$what.ckpt.report"
