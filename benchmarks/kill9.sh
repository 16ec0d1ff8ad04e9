#!/usr/bin/env bash
# kill -9 at random points of `train` (resumable: a checkpoint every epoch) and of `assign-codes`,
# TRIALS times each (default 20), then checks, per trial:
#   - the output file is whole and loads (`recjpq info --checkpoint/--codes` checks every section's
#     CRC and the weights' finiteness): the previous complete file, or a newer complete one;
#   - train: `--resume` from it, with no setting retyped, ends with the same weights, Adam moments
#     and iterate, bit for bit (SHA-256 of the floats), as an uninterrupted run;
#   - assign-codes: whatever version is there holds the same codes as an uninterrupted run;
#   - the next run that writes the same output leaves no temporary file behind.
# Prints a Markdown table per command and a summary; exit code 1 if any check failed.
# From the repository root:   bash benchmarks/kill9.sh        (TRIALS=N, SEED=S, WORK=DIR to change)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
trials="${TRIALS:-20}"
RANDOM="${SEED:-20261206}"
work="${WORK:-target/kill9}"
./recjpq --help >/dev/null   # build once, outside the timings
R=(java -jar target/recjpq.jar)
rm -rf "$work"
mkdir -p "$work/train" "$work/codes"
failures=0

now_ms() { date +%s%3N; }
sha256() { sha256sum "$1" | cut -c1-64; }
temps() { find "$1" -maxdepth 1 -name '.*.tmp' | wc -l; }
digests() { "${R[@]}" info "$@" 2>/dev/null | grep '^sha256' | sed 's/  */ /g' | tr '\n' ';'; }
# sleep for a random time in [lo, hi) milliseconds (bash's RANDOM, seeded above: the same kill points each run)
random_ms() { echo $(($1 + (RANDOM * 32768 + RANDOM) % ($2 - $1))); }
sleep_ms() { sleep "$(awk -v m="$1" 'BEGIN { printf "%.3f", m / 1000 }')"; }
# kill -9 PID once a temporary output appears in DIR (the process is writing), or after MAX ms
kill_in_write() { # pid dir max_ms -> prints the ms waited
  local pid="$1" dir="$2" max="$3" t0
  t0="$(now_ms)"
  while kill -0 "$pid" 2>/dev/null && [ $(($(now_ms) - t0)) -lt "$max" ]; do
    if compgen -G "$dir/.*.tmp" >/dev/null; then
      break
    fi
  done
  kill -9 "$pid" 2>/dev/null || true
  echo $(($(now_ms) - t0))
}
# runs the command in the background and kills it: odd trials after `delay` ms, even trials after
# `delay` ms as soon as a temporary output appears in dir (at most `hi` ms more); prints when. The
# delays come from the caller: RANDOM is re-seeded in the $(...) subshell this runs in.
run_and_kill() { # trial delay hi dir command...
  local trial="$1" delay="$2" hi="$3" dir="$4" pid at
  shift 4
  "${R[@]}" "$@" >/dev/null 2>&1 &
  pid=$!
  sleep_ms "$delay"
  if ((trial % 2)); then
    kill -9 "$pid" 2>/dev/null || true
    at="${delay} ms"
  else
    at="in a write, $(kill_in_write "$pid" "$dir" "$hi") ms after a wait of ${delay} ms"
  fi
  wait "$pid" 2>/dev/null || true
  echo "$at"
}
check() { # condition-as-status, description
  if [ "$1" != 0 ]; then
    echo "FAILED: $2" >&2
    failures=$((failures + 1))
    return 1
  fi
}

echo "# kill -9 during train and assign-codes ($trials trials each, seed ${SEED:-20261206})"
echo
echo "Machine: $(nproc) CPUs ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')), $(java -version 2>&1 | head -1)."
"${R[@]}" synth --users 3000 --items 4000 --interactions 90000 --seed 7 -o "$work/small.txt" --quiet >/dev/null
"${R[@]}" prepare --input "$work/small.txt" --format sasrec-pairs --output "$work/small.rjd" --quiet >/dev/null
"${R[@]}" synth --users 60000 --items 150000 --interactions 2500000 --seed 7 -o "$work/big.txt" --quiet >/dev/null
"${R[@]}" prepare --input "$work/big.txt" --format sasrec-pairs --output "$work/big.rjd" --quiet >/dev/null

# ---- train ---------------------------------------------------------------------------------
TRAIN=(train --input "$work/small.rjd" --dim 32 --max-len 30 --epochs 6 --lr 0.01 --validation-users 500
  --test-users 200 --quiet --save-optimizer)
t0="$(now_ms)"
"${R[@]}" "${TRAIN[@]}" --output "$work/train/ref.ckpt" >/dev/null
full_train=$(($(now_ms) - t0))
ref_train="$(digests --checkpoint "$work/train/ref.ckpt")"
"${R[@]}" "${TRAIN[@]}" --output "$work/train/out.ckpt" >/dev/null   # the previous output of the first trial
echo
echo "## train"
echo
echo "\`./recjpq ${TRAIN[*]} --output out.ckpt\` (6 epochs, a resumable checkpoint written atomically"
echo "after each), killed: odd trials at a random time in [0.3 s, ${full_train} ms) (an uninterrupted run's wall"
echo "time); even trials after a random wait, as soon as a temporary output appears (in a checkpoint write);"
echo "then \`train --input small.rjd --resume out.ckpt --output resumed.ckpt --save-optimizer\` (no setting"
echo "retyped; --save-optimizer so that Adam's moments are compared too), and the next run of the same"
echo "command. Reference digests: \`$ref_train\`."
echo
echo "| trial | killed at | out.ckpt after the kill | loads | temporaries left | resumed = uninterrupted | temporaries after the next run |"
echo "|---|---|---|---|---|---|---|"
for ((i = 1; i <= trials; i++)); do
  before="$(sha256 "$work/train/out.ckpt")"
  if ((i % 2)); then delay="$(random_ms 300 "$full_train")"; else delay="$(random_ms 0 $((full_train / 2)))"; fi
  at="$(run_and_kill "$i" "$delay" "$full_train" "$work/train" "${TRAIN[@]}" --output "$work/train/out.ckpt")"
  loads=yes
  info="$("${R[@]}" info --checkpoint "$work/train/out.ckpt" 2>&1)" || loads=no
  check "$([ $loads = yes ] && echo 0 || echo 1)" "train trial $i: out.ckpt does not load: $info" || true
  if [ "$(sha256 "$work/train/out.ckpt")" = "$before" ]; then
    state="the previous file"
  else
    state="new, $(echo "$info" | awk '/^trained/ { print $2, $3 }' | tr -d ,)"
  fi
  left="$(temps "$work/train")"
  rm -f "$work/train/resumed.ckpt"
  same=no
  if "${R[@]}" train --input "$work/small.rjd" --resume "$work/train/out.ckpt" --output "$work/train/resumed.ckpt" \
      --save-optimizer --quiet >/dev/null 2>"$work/resume.err"; then
    [ "$(digests --checkpoint "$work/train/resumed.ckpt")" = "$ref_train" ] && same=yes
  else
    sed 's/^/  /' "$work/resume.err" >&2
  fi
  check "$([ $same = yes ] && echo 0 || echo 1)" "train trial $i: the resumed run differs from the uninterrupted one" || true
  "${R[@]}" "${TRAIN[@]}" --output "$work/train/out.ckpt" >/dev/null
  after="$(temps "$work/train")"
  check "$([ "$after" = 0 ] && echo 0 || echo 1)" "train trial $i: $after temporaries after the next run" || true
  echo "| $i | $at | $state | $loads | $left | $same | $after |"
done

# ---- assign-codes --------------------------------------------------------------------------
CODES=(assign-codes --input "$work/big.rjd" --quiet)
t0="$(now_ms)"
"${R[@]}" "${CODES[@]}" --output "$work/codes/ref.codes" >/dev/null
full_codes=$(($(now_ms) - t0))
ref_codes="$(digests --codes "$work/codes/ref.codes")"
"${R[@]}" "${CODES[@]}" --output "$work/codes/out.codes" >/dev/null
echo
echo "## assign-codes"
echo
echo "\`./recjpq ${CODES[*]} --output out.codes\` (SVD codes, 137,639 items x 8), killed: odd trials at a"
echo "random time in [0.2 s, ${full_codes} ms), even trials as soon as its temporary output appears; then"
echo "the next run of the same command. Reference: \`$ref_codes\`."
echo
echo "| trial | killed at | out.codes after the kill | loads, same codes | temporaries left | temporaries after the next run |"
echo "|---|---|---|---|---|---|"
for ((i = 1; i <= trials; i++)); do
  before="$(sha256 "$work/codes/out.codes")"
  if ((i % 2)); then delay="$(random_ms 200 "$full_codes")"; else delay=0; fi
  at="$(run_and_kill "$i" "$delay" "$full_codes" "$work/codes" "${CODES[@]}" --output "$work/codes/out.codes")"
  [ "$(sha256 "$work/codes/out.codes")" = "$before" ] && state="the previous file" || state="new"
  ok=no
  [ "$(digests --codes "$work/codes/out.codes")" = "$ref_codes" ] && ok=yes
  check "$([ $ok = yes ] && echo 0 || echo 1)" "codes trial $i: out.codes does not load or differs" || true
  left="$(temps "$work/codes")"
  "${R[@]}" "${CODES[@]}" --output "$work/codes/out.codes" >/dev/null
  after="$(temps "$work/codes")"
  check "$([ "$after" = 0 ] && echo 0 || echo 1)" "codes trial $i: $after temporaries after the next run" || true
  echo "| $i | $at | $state | $ok | $left | $after |"
done

echo
if [ "$failures" = 0 ]; then
  echo "All checks passed: $trials kills of train and $trials of assign-codes."
else
  echo "$failures checks FAILED."
  exit 1
fi
