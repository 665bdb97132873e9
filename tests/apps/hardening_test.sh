#!/usr/bin/env bash
# Bad input from issue 8 given to the `hearsay` binary, each with its original input: device
# files, secrets that protect nothing, empty secrets. Every case must end quickly with a one-line
# error naming the input and exit code 1. Usage: hardening_test.sh HEARSAY_BIN SOURCE_DIR
set -u
bin=$1
src=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fails=0
passes=0

expect() {  # expect NAME WANT_CODE GREP_PATTERN -- command...  (each case bounded to 20 s)
  local name=$1 want=$2 pattern=$3
  shift 4
  local out code
  out=$(timeout 20 "$@" 2>&1)
  code=$?
  if [ "$code" -ne "$want" ]; then
    echo "FAIL $name: exit $code, want $want"; echo "$out" | head -5; fails=$((fails + 1)); return
  fi
  if [ -n "$pattern" ] && ! grep -qE -- "$pattern" <<<"$out"; then
    echo "FAIL $name: output lacks /$pattern/"; echo "$out" | head -5; fails=$((fails + 1)); return
  fi
  echo "ok   $name"; passes=$((passes + 1))
}

# `hearsay codec --input /dev/zero` never ended.
expect codec-dev-zero 1 "/dev/zero: codec input is a character device" -- \
  "$bin" codec --input /dev/zero
mkfifo "$tmp/fifo"
expect codec-fifo 1 "codec input is a FIFO" -- "$bin" codec --input "$tmp/fifo"

# A cluster on real addresses with no secret, the built-in development secret, or an empty one.
cat >"$tmp/remote.yaml" <<YAML
nodes:
  - {name: a, host: 10.254.0.1, port: 17100}
  - {name: b, host: 10.254.0.2, port: 17100}
generator: {kind: ring}
YAML
cat >"$tmp/exp.yaml" <<YAML
topology: remote.yaml
data: {kind: synthetic, samples: 100, features: 4, classes: 2}
rounds: 2
emulate: false
YAML
expect peer-dev-secret-remote 1 "no cluster secret: peer 0 is at 10.254.0.1" -- \
  env -u HEARSAY_SECRET "$bin" peer --experiment "$tmp/exp.yaml" --id 1
expect peer-empty-env-secret 1 "HEARSAY_SECRET is set but empty" -- \
  env HEARSAY_SECRET= "$bin" peer --experiment "$tmp/exp.yaml" --id 1
printf 'secret: ""\n' >>"$tmp/exp.yaml"
expect peer-empty-inline-secret 1 "secret:. is empty" -- \
  env -u HEARSAY_SECRET "$bin" peer --experiment "$tmp/exp.yaml" --id 1
sed -i 's/^secret: ""$/secret: hearsay-dev-secret/' "$tmp/exp.yaml"
expect peer-explicit-dev-secret-remote 1 "no cluster secret" -- \
  env -u HEARSAY_SECRET "$bin" peer --experiment "$tmp/exp.yaml" --id 1

echo "$passes passed, $fails failed"
[ "$fails" -eq 0 ]
