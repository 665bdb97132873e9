#!/usr/bin/env bash
# Deployment behaviour of `hearsay peer` and `hearsay launch` (docs/deploy.md): the rank from the
# variables srun / mpirun set, `base_port: auto` with two launches at once, the live metrics
# endpoint scraped during a run, and its one-line error when the port is taken.
# Usage: deploy_test.sh HEARSAY_BIN SOURCE_DIR. Bounded: about 20 s.
set -u
bin=$(realpath "$1")
src=$(realpath "$2")
py=/usr/bin/python3
tmp=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
  rm -rf "$tmp"
}
trap cleanup EXIT
fails=0
passes=0
fail() { echo "FAIL $1"; fails=$((fails + 1)); }
ok() { echo "ok   $1"; passes=$((passes + 1)); }

# Every rank variable unset, whatever environment runs the test (a Slurm job, say).
clean=(env -u SLURM_PROCID -u OMPI_COMM_WORLD_RANK -u PMI_RANK -u HEARSAY_RANK)

expect() {  # expect NAME WANT_CODE REGEX -- command...: one line on stderr matching REGEX
  local name=$1 want=$2 pattern=$3
  shift 4
  local out code
  out=$("$@" 2>&1 >/dev/null)
  code=$?
  if [ "$code" -ne "$want" ]; then
    fail "$name: exit $code, want $want"; echo "$out" | head -5; return
  fi
  if ! grep -qE -- "$pattern" <<<"$out" || [ "$(wc -l <<<"$out")" -ne 1 ]; then
    fail "$name: want one line matching /$pattern/, got:"; echo "$out" | head -5; return
  fi
  ok "$name"
}

cd "$tmp" || exit 1
printf 'nodes: 4\nbase_port: auto\ngenerator: {kind: ring}\n' >ring.yaml
cat >exp.yaml <<YAML
topology: ring.yaml
transport: tcp
data: {kind: synthetic, samples: 400, features: 8, classes: 3}
rounds: 20
eval_every: 10
emulate: false
runs:
  - {name: a, algorithm: dpsgd}
YAML

# --- rank from the environment -------------------------------------------------------------
for var in SLURM_PROCID OMPI_COMM_WORLD_RANK PMI_RANK HEARSAY_RANK; do
  expect "rank-range-$var" 1 "^hearsay peer: $var=7 is not a node of .*ring.yaml \(ids are 0..3\)$" \
    -- "${clean[@]}" "$var=7" "$bin" peer -e exp.yaml
done
expect rank-disagree 1 "SLURM_PROCID=1 and PMI_RANK=2 disagree" -- \
  "${clean[@]}" SLURM_PROCID=1 PMI_RANK=2 "$bin" peer -e exp.yaml
expect rank-not-number 1 "OMPI_COMM_WORLD_RANK='x' is not a rank" -- \
  "${clean[@]}" OMPI_COMM_WORLD_RANK=x "$bin" peer -e exp.yaml
expect rank-none 1 "no rank: give --id" -- "${clean[@]}" "$bin" peer -e exp.yaml
# base_port: auto without the launcher's address book: the peer cannot know where to connect.
expect auto-needs-book 1 "has no port \(base_port: auto\)" -- "${clean[@]}" "$bin" peer -e exp.yaml --id 0

# --- base_port: auto, two launches at once ---------------------------------------------------
"$bin" launch exp.yaml -o out1 >l1.txt 2>&1 &
p1=$!
"$bin" launch exp.yaml -o out2 >l2.txt 2>&1 &
p2=$!
wait $p1
c1=$?
wait $p2
c2=$?
if [ $c1 -ne 0 ] || [ $c2 -ne 0 ]; then
  fail "concurrent-launches: exits $c1 $c2"; tail -n 3 l1.txt l2.txt
else
  ports=$(grep -ho 'port: [0-9]*' out1/a/addresses.yaml out2/a/addresses.yaml | sort -u | wc -l)
  rows=$(cat out1/summary.csv out2/summary.csv | grep -c '^a,')
  if [ "$ports" -eq 8 ] && [ "$rows" -eq 2 ]; then ok concurrent-launches
  else fail "concurrent-launches: $ports distinct ports (want 8), $rows summary rows (want 2)"; fi
fi

# --- mpirun: four peers, ranks from OMPI_COMM_WORLD_RANK, models bit-identical to launch's ----
free_ports() {  # free_ports N: N ports free right now on 127.0.0.1
  # Below the kernel's ephemeral range (32768-60999), like the C++ tests' FreePortBase: a port the
  # kernel hands out (bind to 0) may meanwhile become another test's outgoing connection's local
  # port, as once took the metrics port here under `ctest -j2`.
  "$py" -c '
import random, socket, sys
want, socks = int(sys.argv[1]), []
for port in random.sample(range(10000, 32000), 2000):
    s = socket.socket()
    try:
        s.bind(("127.0.0.1", port))
    except OSError:
        s.close()
        continue
    socks.append(s)
    if len(socks) == want: break
print(*[s.getsockname()[1] for s in socks])' "$1"
}
write_book() {  # write_book FILE PORT...: an address book of 127.0.0.1 peers
  local file=$1 i=0
  shift
  echo "nodes:" >"$file"
  for p in "$@"; do echo "  - {name: n$i, host: 127.0.0.1, port: $p}" >>"$file"; i=$((i + 1)); done
}
if command -v mpirun >/dev/null 2>&1; then
  # shellcheck disable=SC2046
  write_book mpi_book.yaml $(free_ports 4)
  # Open MPI refuses root unless told (CI containers run as root); --oversubscribe: 2-core CI.
  if OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 timeout 60 mpirun --oversubscribe \
    -np 4 env -u SLURM_PROCID -u PMI_RANK -u HEARSAY_RANK "$bin" peer -e exp.yaml \
    --addresses mpi_book.yaml --out mpi/a --log-level error >mpirun.txt 2>&1; then
    same=0
    total=0
    for f in out1/a/*.f32; do
      total=$((total + 1))
      cmp -s "$f" "mpi/a/$(basename "$f")" && same=$((same + 1))
    done
    if [ "$total" -eq 12 ] && [ "$same" -eq "$total" ]; then ok "mpirun-equals-launch ($same models)"
    else fail "mpirun-equals-launch: $same of $total model files identical (want 12)"; fi
  else
    fail "mpirun: exit $?"; tail -n 5 mpirun.txt
  fi
else
  echo "skip mpirun-equals-launch: no mpirun (Debian: apt-get install openmpi-bin)"
fi

# --- launch --hosts over ssh ------------------------------------------------------------------
# A fake `ssh` first on PATH runs the remote command here (no sshd in CI) and notes where each
# command was meant to go; 127.0.0.1 and 127.0.0.2 are both this machine (loopback).
mkdir fakebin
cat >fakebin/ssh <<'SH'
#!/bin/sh
while [ $# -gt 0 ]; do case $1 in -o) shift 2 ;; -*) shift ;; *) break ;; esac; done
dest=$1
shift
echo "$dest" >>"$FAKE_SSH_LOG"
exec /bin/sh -c "$*"
SH
chmod +x fakebin/ssh
printf '# two machines\n127.0.0.1 slots=2\nalice@127.0.0.2 slots=2   # peers 2, 3\n' >hosts.txt
if PATH="$tmp/fakebin:$PATH" FAKE_SSH_LOG="$tmp/ssh_calls.txt" "$bin" launch exp.yaml -o outh \
  --hosts hosts.txt >lh.txt 2>&1 && grep -q '^a,' outh/summary.csv; then
  # One push of the address book per host, then one ssh per peer (they start concurrently).
  calls="$(head -n 2 ssh_calls.txt | tr '\n' ' ')$(tail -n +3 ssh_calls.txt | sort | tr '\n' ' ')"
  hosts_in_book=$(grep -o 'host: "[0-9.]*"' outh/a/addresses.yaml | tr '\n' ' ')
  if [ "$calls" = "127.0.0.1 alice@127.0.0.2 127.0.0.1 127.0.0.1 alice@127.0.0.2 alice@127.0.0.2 " ] &&
    [ "$hosts_in_book" = 'host: "127.0.0.1" host: "127.0.0.1" host: "127.0.0.2" host: "127.0.0.2" ' ] &&
    cmp -s outh/a/peer_3.final.f32 out1/a/peer_3.final.f32; then
    ok launch-hosts-ssh
  else
    fail "launch-hosts-ssh: ssh calls '$calls', book '$hosts_in_book'"
  fi
else
  fail launch-hosts-ssh; tail -n 3 lh.txt
fi
printf 'h1 slots=2\nh2 slot=2\n' >bad_hosts.txt
expect hosts-bad-line 1 "^hearsay launch: bad_hosts.txt:2: unknown field 'slot=2'" -- \
  "$bin" launch exp.yaml -o outx --hosts bad_hosts.txt
printf 'h1 slots=3\n' >few_hosts.txt
expect hosts-too-few 1 "few_hosts.txt: 3 slots for 4 peers" -- \
  "$bin" launch exp.yaml -o outx --hosts few_hosts.txt

# --- hearsay report rebuilds what launch wrote, from the peers' files alone ------------------
mkdir rep
cp -r out1/a rep/a
rm -f rep/a/eval.jsonl
if "$bin" report rep >report.txt 2>&1; then
  same=1
  for f in summary.csv curves.csv a/eval.jsonl loss_vs_rounds.svg loss_vs_time.svg loss_vs_mb.svg \
    consensus_vs_rounds.svg; do
    cmp -s "out1/$f" "rep/$f" || { same=0; echo "  differs: $f"; }
  done
  if [ $same -eq 1 ]; then ok report-equals-launch; else fail report-equals-launch; fi
else
  fail "report-equals-launch: exit $?"; cat report.txt
fi
mkdir empty
expect report-empty 1 "^hearsay report: empty: no run folder names its experiment" -- "$bin" report empty
expect report-unknown-run 1 "no run named 'zz'" -- "$bin" report rep --run zz

# --- bind: listen on every interface, advertise loopback ---------------------------------------
printf 'nodes: 4\nbase_port: auto\nbind: 0.0.0.0\ngenerator: {kind: ring}\n' >ring.yaml
if HEARSAY_SECRET=deploy-test-secret-0123456789abcdef "$bin" launch exp.yaml -o out3 >l3.txt 2>&1 &&
  grep -q '^a,' out3/summary.csv; then
  ok bind-any-interface
else
  fail bind-any-interface; tail -n 3 l3.txt
fi
# Listening on 0.0.0.0 with the development secret would let anyone join: refused.
# (The launcher warns as each peer fails; its last line is the error.)
out=$(env -u HEARSAY_SECRET "$bin" launch exp.yaml -o out4 2>&1 >/dev/null)
code=$?
if [ $code -eq 2 ] && tail -n 1 <<<"$out" | grep -qE "^hearsay launch: run 'a': peer [0-9] exited with code 1: hearsay peer: no cluster secret: this peer listens on 0.0.0.0, not a loopback address"; then
  ok bind-needs-secret
else
  fail "bind-needs-secret: exit $code"; tail -n 2 <<<"$out"
fi

# --- live metrics during a run -----------------------------------------------------------------
# Four peers started by hand, ranks from HEARSAY_RANK, ports from an address book; emulated
# 20 ms links make the run last a few seconds.
read -r m_port p0 p1 p2 p3 < <(free_ports 5)
write_book book.yaml "$p0" "$p1" "$p2" "$p3"
cat >slow.yaml <<YAML
topology: slow_ring.yaml
data: {kind: synthetic, samples: 400, features: 8, classes: 3}
rounds: 150
eval_every: 50
runs:
  - {name: m, algorithm: dpsgd}
YAML
printf 'nodes: 4\nbase_port: auto\ngenerator: {kind: ring}\nlinks:\n  default: {latency: 20ms}\n' \
  >slow_ring.yaml
for i in 0 1 2 3; do
  extra=()
  [ $i -eq 0 ] && extra=(--metrics-port "$m_port")
  [ $i -eq 1 ] && extra=(--log-format json --progress-every 0.5)
  [ $i -eq 2 ] && extra=(--log-level debug)
  "${clean[@]}" HEARSAY_RANK=$i "$bin" peer -e slow.yaml --addresses book.yaml --out byhand/m \
    "${extra[@]}" >peer$i.log 2>&1 &
  pids+=($!)
done
# Scrape until the run is past round 5, then parse what came back.
"$py" - "$m_port" >scrape.txt 2>&1 <<'PY'
import re, sys, time, urllib.request
port = sys.argv[1]
deadline = time.time() + 30
last = ""
while time.time() < deadline:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=2) as r:
            ctype = r.headers["Content-Type"]
            last = r.read().decode()
    except OSError:
        time.sleep(0.05)
        continue
    values = {}
    for line in last.splitlines():
        if line.startswith("#") or not line: continue
        m = re.fullmatch(r'([a-z_]+)(\{[^}]*\})? (\S+)', line)
        if not m: sys.exit(f"unparsable line: {line!r}")
        values[m.group(1) + (m.group(2) or "")] = float(m.group(3))
    rnd = values.get('hearsay_round{peer="0"}', 0)
    if rnd >= 5:
        want = {
            'hearsay_peer_status{peer="0",state="running"}': lambda v: v == 1,
            'hearsay_peer_status{peer="0",state="done"}': lambda v: v == 0,
            'hearsay_edge_bytes_sent_total{peer="0",neighbor="1"}': lambda v: v > 0,
            'hearsay_edge_bytes_received_total{peer="0",neighbor="3"}': lambda v: v > 0,
            'hearsay_edge_messages_sent_total{peer="0",neighbor="1",kind="gossip"}':
                lambda v: v >= rnd,
            'hearsay_local_loss{peer="0"}': lambda v: 0 < v < 10,
            'hearsay_compute_seconds_total{peer="0"}': lambda v: v > 0,
            'hearsay_wait_seconds_total{peer="0"}': lambda v: v > 0,
            'hearsay_wire_bytes_sent_total{peer="0"}': lambda v: v > 0,
            'hearsay_edge_rtt_seconds{peer="0",neighbor="1"}': lambda v: 0 < v < 1,
        }
        bad = [k for k, f in want.items() if k not in values or not f(values[k])]
        if bad: sys.exit(f"round {rnd}: wrong or missing {bad}")
        if not ctype.startswith("text/plain; version=0.0.4"): sys.exit(f"content type {ctype}")
        open("scrape_metrics.txt", "w").write(last)
        print(f"scraped round {rnd:.0f}, {len(values)} samples")
        sys.exit(0)
    time.sleep(0.1)
sys.exit("never saw round 5; last scrape:\n" + last[:2000])
PY
if [ $? -eq 0 ]; then ok "metrics-scrape ($(cat scrape.txt))"; else fail "metrics-scrape"; cat scrape.txt; fi
# Every series the Grafana dashboard plots is one the endpoint serves.
if "$py" - "$src/examples/grafana/hearsay.json" <<'PY'
import json, re, sys
served = set(re.findall(r"^# TYPE (\S+)", open("scrape_metrics.txt").read(), re.M))
dash = json.load(open(sys.argv[1]))
used = {m for p in dash["panels"] for t in p["targets"] for m in re.findall(r"hearsay_\w+", t["expr"])}
missing = used - served
sys.exit(f"dashboard uses unserved series {sorted(missing)}" if missing or not used else 0)
PY
then ok grafana-series; else fail grafana-series; fi
# The endpoint's port is taken now: a second peer with it is a one-line error, exit 1.
expect metrics-port-in-use 1 "^hearsay peer: --metrics-port: metrics endpoint 127.0.0.1:$m_port: cannot listen" \
  -- "${clean[@]}" HEARSAY_RANK=0 "$bin" peer -e slow.yaml --addresses book.yaml --metrics-port "$m_port"
codes=""
for p in "${pids[@]}"; do wait "$p"; codes="$codes $?"; done
pids=()
if [ "$codes" = " 0 0 0 0" ]; then ok "metrics-run-finished"; else fail "metrics-run: exits$codes"; tail -n 3 peer*.log; fi
# Peer 1: JSON lines with progress lines; peer 2: one debug line per round.
if "$py" -c '
import json, sys
lines = [json.loads(l) for l in open("peer1.log") if l.strip()]
assert all({"ts", "level", "msg"} <= set(l) for l in lines), lines[:2]
assert any(l["msg"].startswith("round ") and "rounds/s" in l["msg"] for l in lines), lines
'; then ok json-progress-lines; else fail json-progress-lines; head -3 peer1.log; fi
# Peers started by hand: `report` gives them the launcher's summary.
if "$bin" report byhand -e slow.yaml >report2.txt 2>&1 && grep -q '^m,dpsgd,' byhand/summary.csv &&
  [ "$(grep -c '^m,' byhand/curves.csv)" -eq 4 ]; then
  ok report-by-hand
else
  fail report-by-hand; cat report2.txt byhand/summary.csv
fi
debug=$(grep -c 'round [0-9]* at .* s: loss' peer2.log)
if [ "$debug" -ge 150 ]; then ok "debug-lines ($debug)"; else fail "debug-lines: $debug, want >= 150"; fi

# Packaging: --version names the build options; the license and citation files are there.
if "$bin" --version | grep -qE '^build: type=.* compiler=.* cuda=' &&
  grep -q 'Apache License' "$src/LICENSE" && grep -q '^cff-version: 1.2.0' "$src/CITATION.cff"; then
  ok version-and-license
else
  fail version-and-license; "$bin" --version
fi

echo "deploy_test: $passes passed, $fails failed"
[ $fails -eq 0 ]
