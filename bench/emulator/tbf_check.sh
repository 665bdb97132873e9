#!/usr/bin/env bash
# Independent check of the emulator's bandwidth model against the Linux kernel's token-bucket
# rate limiter (TBF). Inside a private network namespace (loopback only, MTU 1500), TBF limits
# lo to RATE; a TCP transfer of S bytes is timed and compared with 8S/B, the transmission time
# hearsay's emulator charges a message of S wire bytes on an idle link of bandwidth B
# (docs/emulator.md). The emulator's own accuracy against 8S/B + L is measured by
# hearsay_bench_emulator_accuracy; together they tie the emulator to an independent reference.
# Needs root, iproute2 (ip, tc) and python3. Usage: tbf_check.sh [RATE_MBIT ...]
set -euo pipefail
if [ $# -gt 0 ]; then rates=("$@"); else rates=(10 20 100); fi
[ "$(id -u)" -eq 0 ] || { echo "tbf_check.sh: needs root (network namespaces, tc)" >&2; exit 1; }
ns="hearsay-tbf-$$"
probe=$(mktemp --suffix=.py)
trap 'ip netns del "$ns" 2>/dev/null || true; rm -f "$probe"' EXIT
cat >"$probe" <<'PY'
import socket, sys, threading, time
size, port = int(sys.argv[1]), 19099
srv = socket.socket(); srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind(("127.0.0.1", port)); srv.listen(1)
done = {}
def receive():
    c, _ = srv.accept(); got = 0
    while got < size:
        b = c.recv(1 << 20)
        if not b: break
        got += len(b)
    done["t"] = time.perf_counter(); c.sendall(b"k"); c.close()
th = threading.Thread(target=receive); th.start()
s = socket.create_connection(("127.0.0.1", port)); time.sleep(0.05)
t0 = time.perf_counter(); s.sendall(b"x" * size); s.recv(1); th.join()
print("%.6f" % (done["t"] - t0))
PY
ip netns add "$ns"
ip netns exec "$ns" ip link set lo mtu 1500
ip netns exec "$ns" ip link set lo up
printf "%8s %10s %12s %12s %9s\n" "Mbit/s" "bytes" "8S/B ms" "TBF ms" "rel err"
for rate in "${rates[@]}"; do
  ip netns exec "$ns" tc qdisc replace dev lo root tbf rate "${rate}mbit" burst 16kb latency 1s
  for size in 100000 1000000 4000000; do
    want=$(python3 -c "print(8 * $size / ($rate * 1e6))")
    best=""
    for _ in 1 2 3; do
      t=$(ip netns exec "$ns" python3 "$probe" "$size")
      best=$(python3 -c "print(min(float('$t'), float('${best:-$t}')))")
    done
    python3 -c "w=$want; m=$best; print('%8s %10d %12.1f %12.1f %+8.1f%%' % ('$rate', $size, w*1e3, m*1e3, 100*(m-w)/w))"
  done
done
echo "(TBF times include TCP/IP headers, about 3.6% of the payload at MTU 1500, and a 16 kB burst)"
