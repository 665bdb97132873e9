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
expect no-subcommand 106 "" -- "$bin"
expect unknown-flag 109 "--bogus" -- "$bin" launch "$src/examples/demo.yaml" --bogus
expect missing-file 105 "x.yaml" -- "$bin" launch "$tmp/x.yaml"
expect bad-transport 105 "transport" -- "$bin" launch "$src/examples/demo.yaml" --transport udp
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
expect launch-inproc 0 "choco" -- "$bin" launch "$tmp/tiny.yaml" --transport inproc --out "$tmp/out"
if [ "$(wc -l <"$tmp/out/summary.csv")" -eq 3 ]; then
  echo "ok   summary-rows"; passes=$((passes + 1))
else
  echo "FAIL summary-rows"; fails=$((fails + 1))
fi
echo "$passes passed, $fails failed"
[ "$fails" -eq 0 ]
