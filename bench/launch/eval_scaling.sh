#!/usr/bin/env bash
# Evaluation cost against the number of rounds (issue 8: it grew with the square of the rounds
# when every evaluation re-read every peer's metrics file). Runs an 8-peer in-process experiment
# on a tiny model with eval_every 1 (a snapshot every round, the worst case) for 500, 1000 and
# 2000 rounds and prints, per run: the whole launch, the training (the slowest peer's wall time,
# from summary.csv) and the rest (evaluation, plots, start-up).
# Usage: eval_scaling.sh HEARSAY_BIN [ROUNDS...]
set -euo pipefail
bin=$1
shift
rounds=("$@")
[ ${#rounds[@]} -gt 0 ] || rounds=(500 1000 2000)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
printf 'nodes: 8\nbase_port: 17600\ngenerator: {kind: ring}\n' >"$tmp/ring.yaml"
printf '%-8s %10s %12s %10s\n' rounds "launch s" "training s" "rest s"
for r in "${rounds[@]}"; do
  printf 'topology: ring.yaml\nmodel: softmax\ndata: {samples: 800, features: 8, classes: 3}\n'\
'rounds: %d\neval_every: 1\nemulate: false\n' "$r" >"$tmp/exp.yaml"
  start=$(date +%s.%N)
  "$bin" launch "$tmp/exp.yaml" --transport inproc --out "$tmp/out$r" >/dev/null
  end=$(date +%s.%N)
  train=$(tail -1 "$tmp/out$r/summary.csv" | cut -d, -f10)
  awk -v r="$r" -v s="$start" -v e="$end" -v t="$train" \
    'BEGIN { printf "%-8d %10.2f %12.2f %10.2f\n", r, e - s, t, e - s - t }'
done
