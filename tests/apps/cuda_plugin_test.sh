#!/usr/bin/env bash
# CUDA is loaded only when used (issue 13): a CPU-only `hearsay` process maps no CUDA library,
# works where no CUDA library or plugin exists, and `device: cuda` loads the plugin on demand or
# says clearly why it cannot. Usage: cuda_plugin_test.sh HEARSAY_BIN SOURCE_DIR
set -u
bin=$1
src=$2
tmp=$(mktemp -d)
peer_pid=
cleanup() {
  [ -n "$peer_pid" ] && kill "$peer_pid" 2>/dev/null
  rm -rf "$tmp"
}
trap cleanup EXIT
fails=0
passes=0
ok() { echo "ok   $1"; passes=$((passes + 1)); }
fail() { echo "FAIL $1"; shift; [ $# -gt 0 ] && printf '%s\n' "$@" | head -5; fails=$((fails + 1)); }
cuda_re='libcuda|libcudart|libcublas|libnvidia'

# 1. The executable does not link CUDA: no DT_NEEDED entry names a CUDA library.
if LC_ALL=C readelf -d "$bin" | grep NEEDED | grep -qE "$cuda_re"; then
  fail no-cuda-needed "$(readelf -d "$bin" | grep NEEDED)"
else
  ok no-cuda-needed
fi

# A 3-node ring on a port nobody else uses, and a tiny CPU experiment on it.
port=$((20000 + ($$ * 7 + RANDOM) % 30000))
"$bin" topo gen ring -n 3 --base-port "$port" -o "$tmp/ring.yaml" >/dev/null 2>&1 ||
  fail topo-gen
cat >"$tmp/cpu.yaml" <<YAML
topology: ring.yaml
data: {kind: synthetic, samples: 300, features: 8, classes: 3}
rounds: 4
eval_every: 2
emulate: false
runs:
  - {name: a, algorithm: choco, compressor: "qsgd:4"}
YAML
sed 's/^emulate: false$/emulate: false\ndevice: cuda/' "$tmp/cpu.yaml" >"$tmp/cuda.yaml"

# 2. Short-lived commands load no CUDA library (LD_DEBUG lists every library the loader opens,
#    dlopen included).
loaded_cuda() {  # loaded_cuda NAME command...
  local name=$1
  shift
  local log="$tmp/ld-$name"
  LD_DEBUG=libs LD_DEBUG_OUTPUT="$log" "$@" >"$tmp/out-$name" 2>&1
  local code=$?
  if [ "$code" -ne 0 ]; then
    fail "$name-runs" "exit $code" "$(cat "$tmp/out-$name")"
  elif cat "$log".* 2>/dev/null | grep -E "calling init: .*($cuda_re)" >"$tmp/hits-$name"; then
    fail "$name-maps-no-cuda" "$(cat "$tmp/hits-$name")"
  else
    ok "$name-maps-no-cuda"
  fi
}
loaded_cuda version "$bin" --version
loaded_cuda topo "$bin" topo show "$tmp/ring.yaml"
loaded_cuda codec "$bin" codec -c qsgd:4 -n 4096
loaded_cuda launch "$bin" launch "$tmp/cpu.yaml" --transport inproc --out "$tmp/out-inproc"

# 3. An idle peer (waiting for its neighbours) maps no CUDA library.
"$bin" peer --experiment "$tmp/cpu.yaml" --id 0 --out "$tmp/peer0" >/dev/null 2>&1 &
peer_pid=$!
for _ in $(seq 50); do
  grep -q libstdc "/proc/$peer_pid/maps" 2>/dev/null && break
  sleep 0.1
done
sleep 0.5
if [ ! -r "/proc/$peer_pid/maps" ]; then
  fail idle-peer-alive "the peer exited early"
elif grep -E "$cuda_re" "/proc/$peer_pid/maps" >"$tmp/peer-hits"; then
  fail idle-peer-maps-no-cuda "$(head -3 "$tmp/peer-hits")"
else
  ok idle-peer-maps-no-cuda
  echo "     idle peer $(grep VmRSS "/proc/$peer_pid/status" | tr -s ' ')"
fi
kill "$peer_pid" 2>/dev/null
wait "$peer_pid" 2>/dev/null
peer_pid=

# 4. A copy of the executable alone (no plugin, no CUDA library reachable) runs CPU experiments,
#    and `device: cuda` says there is no plugin.
mkdir -p "$tmp/alone"
cp "$bin" "$tmp/alone/hearsay"
cp "$tmp/ring.yaml" "$tmp/cpu.yaml" "$tmp/cuda.yaml" "$tmp/alone/"
if env -u HEARSAY_CUDA_PLUGIN LD_LIBRARY_PATH=/nonexistent "$tmp/alone/hearsay" launch \
  "$tmp/alone/cpu.yaml" --transport inproc --out "$tmp/alone/out" >"$tmp/alone.log" 2>&1; then
  ok cpu-run-without-cuda
else
  fail cpu-run-without-cuda "$(tail -3 "$tmp/alone.log")"
fi
env -u HEARSAY_CUDA_PLUGIN "$tmp/alone/hearsay" launch "$tmp/alone/cuda.yaml" --transport inproc \
  --out "$tmp/alone/out2" >"$tmp/alone-cuda.log" 2>&1
code=$?
if [ "$code" -ne 0 ] && grep -q "device 'cuda' requested, but this hearsay has no CUDA plugin" \
  "$tmp/alone-cuda.log"; then
  ok cuda-without-plugin-says-why
else
  fail cuda-without-plugin-says-why "exit $code" "$(tail -3 "$tmp/alone-cuda.log")"
fi

# 5. A file that is not a plugin: dlopen's reason, not a crash.
echo "not a library" >"$tmp/alone/fake.so"
HEARSAY_CUDA_PLUGIN="$tmp/alone/fake.so" "$tmp/alone/hearsay" launch "$tmp/alone/cuda.yaml" \
  --transport inproc --out "$tmp/alone/out3" >"$tmp/fake.log" 2>&1
code=$?
if [ "$code" -ne 0 ] && grep -q "could not be loaded: .*fake.so" "$tmp/fake.log"; then
  ok bad-plugin-says-why
else
  fail bad-plugin-says-why "exit $code" "$(tail -3 "$tmp/fake.log")"
fi

# 6. CUDA builds: the plugin next to the executable loads (every symbol resolves against the
#    executable) and, without a GPU, fails with CheckCudaDevice's message as before the plugin.
plugin="$(dirname "$bin")/libhearsay_cuda.so"
if [ -f "$plugin" ]; then
  "$bin" launch "$tmp/cuda.yaml" --transport inproc --out "$tmp/out-cuda" >"$tmp/cuda.log" 2>&1
  code=$?
  if [ "$code" -eq 0 ]; then
    ok cuda-run-on-gpu
  elif grep -q "device cuda:0 requested but no usable GPU" "$tmp/cuda.log"; then
    ok cuda-without-gpu-says-why
  else
    fail cuda-plugin-loads "exit $code" "$(tail -3 "$tmp/cuda.log")"
  fi
else
  echo "skip cuda-plugin-loads (CPU-only build: no $plugin)"
fi

echo "$passes passed, $fails failed"
[ "$fails" -eq 0 ]
