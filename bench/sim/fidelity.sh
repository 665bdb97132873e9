#!/usr/bin/env bash
# Fidelity of the simulator's virtual time (issue 12 item 3): the same experiment -- 8 peers on an
# emulated ring, 20 ms latency and 20 Mbit/s per link, a logistic model with d = 50, 100 rounds,
# compute time measured -- run in the simulator, in one process in real time, and as 8 peer
# processes over TCP; prints each driver's wall time (the slowest peer's, from summary.csv) and
# its ratio to the simulator's. Repeats each real run REPEATS times (default 3) and reports the
# median. NODES (default 8) changes the ring's size (fewer processes than cores shows how much of
# the TCP gap is the host's CPU contention). Usage: fidelity.sh HEARSAY_BIN [ROUNDS] [REPEATS] [NODES]
set -euo pipefail
bin=$1
rounds=${2:-100}
repeats=${3:-3}
nodes=${4:-8}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
printf 'nodes: %d\nbase_port: auto\ngenerator: {kind: ring}\nweights: metropolis\n'\
'links:\n  default: {bandwidth: 20Mbit, latency: 20ms}\n' "$nodes" >"$tmp/ring.yaml"
printf 'topology: ring.yaml\nmodel: {kind: logistic}\n'\
'data: {kind: synthetic, samples: 4000, features: 50, classes: 2, seed: 3}\n'\
'rounds: %d\neval_every: %d\nalgorithm: dcd\ncompressor: "qsgd:8"\nemulate: true\n' \
  "$rounds" "$rounds" >"$tmp/exp.yaml"
wall() { tail -1 "$1/summary.csv" | cut -d, -f10; }
median() { sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
"$bin" launch "$tmp/exp.yaml" --transport sim --out "$tmp/sim" >/dev/null
sim=$(wall "$tmp/sim")
printf '%-10s %10s %8s\n' driver "wall s" "x sim"
printf '%-10s %10.3f %8.3f\n' sim "$sim" 1
for transport in inproc tcp; do
  for k in $(seq 1 "$repeats"); do
    "$bin" launch "$tmp/exp.yaml" --transport "$transport" --out "$tmp/$transport$k" >/dev/null
    wall "$tmp/$transport$k"
  done | median >"$tmp/median"
  awk -v t="$transport" -v w="$(cat "$tmp/median")" -v s="$sim" \
    'BEGIN { printf "%-10s %10.3f %8.3f\n", t, w, w / s }'
done
