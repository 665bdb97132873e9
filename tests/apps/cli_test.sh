#!/usr/bin/env bash
# Command-line behaviour of `hearsay`: --help everywhere, one-line errors and non-zero exits for
# bad flags and files, and a tiny end-to-end launch. Usage: cli_test.sh HEARSAY_BIN SOURCE_DIR
set -u
bin=$1
src=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fails=0
passes=0

expect() {  # expect NAME WANT_CODE GREP_PATTERN -- command...
  local name=$1 want=$2 pattern=$3
  shift 4
  local out code
  out=$("$@" 2>&1)
  code=$?
  if [ "$code" -ne "$want" ]; then
    echo "FAIL $name: exit $code, want $want"; echo "$out" | head -5; fails=$((fails + 1)); return
  fi
  if [ -n "$pattern" ] && ! grep -qE -- "$pattern" <<<"$out"; then
    echo "FAIL $name: output lacks /$pattern/"; echo "$out" | head -5; fails=$((fails + 1)); return
  fi
  echo "ok   $name"; passes=$((passes + 1))
}

expect help-top 0 "launch" -- "$bin" --help
expect help-launch 0 "--transport" -- "$bin" launch --help
expect help-peer 0 "--experiment" -- "$bin" peer --help
expect help-topo 0 "show" -- "$bin" topo --help
expect help-codec 0 "" -- "$bin" codec --help
# ef(C)'s first call (zero residual) sends what C sends: the same error, whatever --repeat is
# (the timing repetitions used to feed the residual, and the error grew with them).
codec_errors=$("$bin" codec -c topk:0.1 -c 'ef(topk:0.1)' -n 10000 --repeat 5 | awk '/^(ef\()?topk/ {print $5}' | sort -u)
if [ "$(echo "$codec_errors" | wc -l)" -eq 1 ] && [ -n "$codec_errors" ]; then
  echo "ok   codec-ef-error-first-call"; passes=$((passes + 1))
else
  echo "FAIL codec-ef-error-first-call: $codec_errors"; fails=$((fails + 1))
fi
# Exit codes, as --help documents: 1 for bad input or usage, CLI11's own errors included.
expect no-subcommand 1 "A subcommand is required" -- "$bin"
expect unknown-flag 1 "--bogus" -- "$bin" launch "$src/examples/demo.yaml" --bogus
expect flag-suggestion 1 "did you mean '--out'" -- "$bin" launch "$src/examples/demo.yaml" --ot x
expect command-suggestion 1 "unknown command 'lauch'; did you mean 'launch'" -- "$bin" lauch x.yaml
expect topo-suggestion 1 "did you mean 'show'" -- "$bin" topo shwo x.yaml
expect missing-file 1 "x.yaml" -- "$bin" launch "$tmp/x.yaml"
expect bad-transport 1 "transport" -- "$bin" launch "$src/examples/demo.yaml" --transport udp
expect version 0 "hearsay .*commit" -- "$bin" --version
expect topo-tc-names 0 "bandwidth: 20Mbit, latency: 20ms, jitter: 0s, loss: 0.01" -- \
  "$bin" topo gen ring -n 4 --link rate=20mbit,delay=20msec,loss=1%
# torus/grid: --rows and --cols give the node count; 0 rows and a missing count are named.
expect topo-rows-cols 0 "nodes 6, directed links" -- "$bin" topo gen torus --rows 2 --cols 3
expect topo-rows-zero 1 "--rows: Value 0 not in range 1" -- "$bin" topo gen torus --rows 0 --cols 3
expect topo-no-count 1 "ring: give the node count with -n/--nodes" -- "$bin" topo gen ring
# Network profiles are compiled in: found from any folder; a misspelt one is a line error.
printf 'nodes: 6\ngenerator: {kind: ring}\nlinks: {profile: wan-3-continents}\n' >"$tmp/wan.yaml"
expect profile-found 0 "0 -> 5: 1Gbit, 112ms" -- bash -c "cd / && '$(readlink -f "$bin")' topo show '$tmp/wan.yaml'"
printf 'nodes: 4\ngenerator: {kind: ring}\nlinks:\n  default: {profile: datacentre}\n' >"$tmp/prof.yaml"
expect profile-suggestion 1 "prof.yaml:4:22: .*'datacentre' is unknown; did you mean 'datacenter'" -- \
  "$bin" topo show "$tmp/prof.yaml"
printf 'topology: [1, 2\n' >"$tmp/bad.yaml"
expect malformed-yaml 1 "bad.yaml:.*malformed YAML" -- "$bin" launch "$tmp/bad.yaml"
cp "$src/examples/demo_ring8.yaml" "$tmp/ring.yaml"
printf 'topology: ring.yaml\nalgorithm: dcd\ncompressor: "qsgd:9"\n' >"$tmp/bits.yaml"
expect bad-codec 1 "qsgd:9" -- "$bin" launch "$tmp/bits.yaml"
expect unknown-run 1 "no run named 'nope'" -- "$bin" launch "$src/examples/demo.yaml" --run nope
expect peer-bad-id 1 "--id 99 is not a node" -- "$bin" peer --experiment "$src/examples/demo.yaml" --id 99
cat >"$tmp/tiny.yaml" <<YAML
topology: ring.yaml
data: {kind: synthetic, samples: 400, features: 8, classes: 3}
rounds: 6
eval_every: 3
emulate: false
runs:
  - {name: a, algorithm: dpsgd}
  - {name: b, algorithm: choco, compressor: "qsgd:4"}
YAML
printf 'topology: ring.yaml\nrouns: 5\n' >"$tmp/key.yaml"
expect key-suggestion 1 "key.yaml:2:1: .*unknown key 'rouns'; did you mean 'rounds'" -- "$bin" launch "$tmp/key.yaml"
printf 'topology: ring.yaml\nmodel: resnet\n' >"$tmp/model.yaml"
expect model-error-line 1 "model.yaml:2:8: model kind 'resnet' is unknown" -- "$bin" launch "$tmp/model.yaml"
expect dry-run 0 "dry run: nothing started" -- "$bin" launch "$tmp/tiny.yaml" --dry-run --out "$tmp/dry"
if [ ! -e "$tmp/dry" ] && "$bin" launch "$tmp/tiny.yaml" --dry-run | grep -q "algorithm: choco"; then
  echo "ok   dry-run-writes-nothing"; passes=$((passes + 1))
else
  echo "FAIL dry-run-writes-nothing"; fails=$((fails + 1))
fi
expect simulate 0 "simulate.*virtual time" -- "$bin" --help
expect simulate-dry-run 0 "transport sim" -- "$bin" simulate "$tmp/tiny.yaml" --dry-run
expect simulate-error-names-simulate 1 "^hearsay simulate: .*key.yaml:2:1: .*unknown key 'rouns'" -- "$bin" simulate "$tmp/key.yaml"
printf 'topology: ring.yaml\nrounds: 5\nrounds: 50\n' >"$tmp/twice.yaml"
expect key-given-twice 1 "twice.yaml:3:1: .rounds. is given twice in this map \\(first at line 2\\)" -- "$bin" launch "$tmp/twice.yaml"
# The sweep example expands to its 18 runs and simulates by default.
expect example-grid 0 "name: sweep-100Mbit-50ms-allreduce-16" -- "$bin" launch "$src/examples/grid.yaml" --dry-run
# In-process peers run on --threads workers; the flag means nothing to other transports.
expect threads-inproc 0 "choco" -- "$bin" launch "$tmp/tiny.yaml" --transport inproc --threads 1 --out "$tmp/one"
expect threads-not-tcp 1 "--threads 2 sets how many threads run in-process peers: it needs transport inproc, not tcp" -- "$bin" launch "$tmp/tiny.yaml" --transport tcp --threads 2
expect threads-zero 1 "--threads: Value 0 not in range" -- "$bin" launch "$tmp/tiny.yaml" --transport inproc --threads 0
expect simulate-runs 0 "choco" -- "$bin" simulate "$tmp/tiny.yaml" --out "$tmp/sim"
if grep -q ",sim,8,true," "$tmp/sim/summary.csv"; then
  echo "ok   simulate-summary"; passes=$((passes + 1))
else
  echo "FAIL simulate-summary"; head -3 "$tmp/sim/summary.csv"; fails=$((fails + 1))
fi
expect launch-inproc 0 "choco" -- "$bin" launch "$tmp/tiny.yaml" --transport inproc --out "$tmp/out"
if [ "$(wc -l <"$tmp/out/summary.csv")" -eq 3 ]; then
  echo "ok   summary-rows"; passes=$((passes + 1))
else
  echo "FAIL summary-rows"; fails=$((fails + 1))
fi
if grep -q "^hearsay:" "$tmp/out/config.yaml" && grep -q "name: b" "$tmp/out/config.yaml"; then
  echo "ok   config-yaml"; passes=$((passes + 1))
else
  echo "FAIL config-yaml"; fails=$((fails + 1))
fi
# 2: the run failed (a round waits longer than round_timeout on a 2 s link).
printf 'nodes: 4\nbase_port: 17500\ngenerator: {kind: ring}\nlinks: {default: {latency: 2s}}\n' >"$tmp/slow.yaml"
printf 'topology: slow.yaml\ndata: {samples: 400, features: 8, classes: 3}\nrounds: 3\nround_timeout: 200ms\n' >"$tmp/fail.yaml"
expect run-failed 2 "waited" -- "$bin" launch "$tmp/fail.yaml" --transport inproc --out "$tmp/fail"
# 0: a run that diverges is a result (status diverged in summary.csv), and the next run still
# runs; over tcp the peer process's exit and last log line carry the divergence.
printf 'topology: ring.yaml\ndata: {samples: 400, features: 8, classes: 3}\nrounds: 4\neval_every: 2\nemulate: false\nruns:\n  - {name: boom, lr: 1.0e30}\n  - {name: fine}\n' >"$tmp/diverge.yaml"
for transport in inproc tcp; do
  expect "diverged-$transport" 0 "run 'boom' diverged at round [0-9]+: .*going on" -- \
    "$bin" launch "$tmp/diverge.yaml" --transport $transport --out "$tmp/div-$transport"
  if grep -qE '^boom,.*,diverged,[0-9]+,' "$tmp/div-$transport/summary.csv" &&
    grep -qE '^fine,.*,ok,,' "$tmp/div-$transport/summary.csv"; then
    echo "ok   diverged-$transport-summary"; passes=$((passes + 1))
  else
    echo "FAIL diverged-$transport-summary"; cat "$tmp/div-$transport/summary.csv"; fails=$((fails + 1))
  fi
done
# 130: interrupted (SIGINT while the peers train).
printf 'topology: ring.yaml\ndata: {samples: 400, features: 8, classes: 3}\nrounds: 1000000\nemulate: false\n' >"$tmp/long.yaml"
"$bin" launch "$tmp/long.yaml" --transport inproc --out "$tmp/long" >/dev/null 2>&1 &
pid=$!
for _ in $(seq 100); do [ -s "$tmp/long/dpsgd/peer_0.jsonl" ] && break; sleep 0.1; done
kill -INT "$pid"
wait "$pid"
code=$?
if [ "$code" -eq 130 ]; then
  echo "ok   interrupted"; passes=$((passes + 1))
else
  echo "FAIL interrupted: exit $code, want 130"; fails=$((fails + 1))
fi
echo "$passes passed, $fails failed"
[ "$fails" -eq 0 ]
