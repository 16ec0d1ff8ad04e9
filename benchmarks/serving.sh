#!/usr/bin/env bash
# Serving benchmarks (issue: serving). From the repository root:
#   bash benchmarks/serving.sh random     scorers side by side on random RecJPQ heads: 1M items at
#                                         d = 64 and 512, 10M items at d = 64 (m = 8, K = 10)
#   bash benchmarks/serving.sh trained    train a SASRec-RecJPQ on a synthetic catalogue of 1.1M
#                                         items (gBCE, 10 minutes), then time the scorers on it;
#                                         DIM=512 for d = 512, MINUTES=M to train longer,
#                                         CODES=C for other codes (default svd), WORK=DIR to
#                                         keep the files (a data set already there is reused),
#                                         EXTRA="--item-bias ..." for more training flags
#   bash benchmarks/serving.sh http CKPT  serve CKPT and load it from a second process
# Each prints the commands it runs and their JSON; /usr/bin/time's peak RSS where relevant.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
what="${1:-random}"
work="${WORK:-$(mktemp -d)}"
./recjpq --help >/dev/null   # build once, outside the timings

run() { # heap, command...
  local heap="$1"; shift
  echo "\$ RECJPQ_JAVA_OPTS=-Xmx$heap ./recjpq $*" | sed "s#$work/##g"
  RECJPQ_JAVA_OPTS="-Xmx$heap" /usr/bin/time -v ./recjpq "$@" 2>"$work/time.txt" | sed "s#$work/##g"
  grep -E "Elapsed \(wall|Maximum resident" "$work/time.txt" | sed 's/^\s*/  /'
}

case "$what" in
  random)
    run 4g bench scoring --items 1000000 --dim 64 --splits 8 --k 10 --queries 50 --batch 64 --json
    run 8g bench scoring --items 1000000 --dim 512 --splits 8 --k 10 --queries 30 --batch 64 --json
    run 12g bench scoring --items 10000000 --dim 64 --splits 8 --k 10 --queries 20 --json
    ;;
  trained)
    # 1,101,826 of the 1.5M items occur (a dataset holds only the items that occur); clusters of
    # 50 items whose successors lie within 2 steps on a hidden ring
    dim="${DIM:-64}"
    codes="${CODES:-svd}"
    extra=(${EXTRA:-})
    tag="$(echo "${EXTRA:-}" | tr -d ' -')"
    ckpt="$work/s1m-d$dim-$codes${tag:+-$tag}.ckpt"
    if [ ! -f "$work/s1m.rjd" ]; then
      run 2g synth --users 100000 --items 1500000 --interactions 10000000 --locality 2 --seed 7 --output "$work/s1m.txt"
      run 6g prepare --input "$work/s1m.txt" --format sasrec-pairs --output "$work/s1m.rjd"
      for m in mostpop markov; do
        run 6g evaluate --input "$work/s1m.rjd" --model $m --phase validation --validation-users 2048 --json
      done
    fi
    # the final test over all 100,000 users x 1.1M items would take 10+ minutes: test 2,048
    run 8g train --input "$work/s1m.rjd" --model sasrec --embedding jpq --codes "$codes" --loss gbce --preset cpu --lr 0.003 --warmup 100 \
      --dim "$dim" --ffn-dim "$dim" --max-len 50 --validation-users 1024 --max-minutes "${MINUTES:-10}" --test-users 2048 ${extra[@]+"${extra[@]}"} --output "$ckpt" --json
    run 6g evaluate --checkpoint "$ckpt" --input "$work/s1m.rjd" --phase validation --validation-users 2048 --json
    run 4g bench scoring --checkpoint "$ckpt" --dataset "$work/s1m.rjd" --k 10 --queries 50 --batch 64 --json
    run 4g bench scoring --checkpoint "$ckpt" --k 10 --queries 50 --json
    echo "checkpoint kept at $ckpt"
    ;;
  http)
    ckpt="${2:?usage: serving.sh http CKPT}"
    RECJPQ_JAVA_OPTS=-Xmx2g ./recjpq serve --checkpoint "$ckpt" --port 18181 --threads 2 > "$work/serve.log" 2>&1 &
    server=$!
    trap 'kill $server 2>/dev/null || true' EXIT
    for _ in $(seq 60); do curl -sf localhost:18181/health >/dev/null 2>&1 && break; sleep 1; done
    echo "\$ ./recjpq serve --checkpoint $ckpt --port 18181 --threads 2   (in the background)"
    for rate in 50 200; do
      echo "\$ ./recjpq bench http --url http://127.0.0.1:18181 --rate $rate --seconds 30 --concurrency 16 --json"
      ./recjpq bench http --url http://127.0.0.1:18181 --rate "$rate" --seconds 30 --concurrency 16 --json
    done
    echo "\$ ./recjpq bench http --url http://127.0.0.1:18181 --rate 0 --seconds 30 --concurrency 8 --json"
    ./recjpq bench http --url http://127.0.0.1:18181 --rate 0 --seconds 30 --concurrency 8 --json
    kill -TERM $server; wait $server || true
    cat "$work/serve.log"
    ;;
  *) echo "usage: $0 random|trained|http CKPT" >&2; exit 2 ;;
esac
