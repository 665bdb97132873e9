#!/usr/bin/env python3
"""What a hearsay process costs: start-up, an idle peer, and N TCP peers launched together.

First table, per configuration:
  --version ms   median wall time of `hearsay --version` over 21 runs (the floor: /bin/true
                 started the same way, printed first)
  idle peer MB   VmRSS of a `hearsay peer` waiting for its neighbours (1 s after start)

Second table: `hearsay launch` of an N-node ring of a tiny model over TCP, per configuration:
  spawn s   wall time from the start of `hearsay launch` until all N peer processes run
  round1 s  ... until every peer has finished round 1 (its first metrics line): spawned,
            connected to its neighbours and through one exchange
  run s     wall time of the whole launch (spawn, connect, the rounds, evaluation)
  RSS MB    peak over the run of the sum of the peers' resident memory (VmRSS; shared library
            pages are counted once per process, as `ps` does)
  PSS MB    peak of the sum of the peers' proportional set size (shared pages split between
            the processes that map them: what the peers really cost the machine together)
  RSS/peer  the RSS sum divided by N

Baseline in the same run: the same binary with the CUDA runtime and cuBLAS preloaded into every
peer (LD_PRELOAD), which is what every `hearsay` process paid before CUDA became a plugin. The
baseline runs with --baseline-peers peers (default 16: 64 preloaded peers need about 13 GB); the
table scales nothing, compare the RSS/peer column.

  bench/launch/spawn_bench.py [--hearsay build/apps/hearsay] [--peers 64] [--baseline-peers 16]
"""
import argparse
import glob
import os
import subprocess
import sys
import tempfile
import time

EXPERIMENT = """\
topology: ring.yaml
data: {{kind: synthetic, samples: {samples}, features: 8, classes: 3}}
model: {{kind: softmax}}
rounds: {rounds}
eval_every: {rounds}
emulate: false
connect_timeout: 60
runs:
  - {{name: spawn, algorithm: dpsgd}}
"""


def children_of(pid):
    kids = []
    for path in glob.glob(f"/proc/{pid}/task/*/children"):
        try:
            with open(path) as f:
                kids += [int(p) for p in f.read().split()]
        except OSError:
            pass
    return kids


def memory_kb(pid):
    rss = pss = 0
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    rss = int(line.split()[1])
        with open(f"/proc/{pid}/smaps_rollup") as f:
            for line in f:
                if line.startswith("Pss:"):
                    pss = int(line.split()[1])
    except OSError:
        pass
    return rss, pss


def run_once(hearsay, peers, port, rounds, preload, workdir):
    os.makedirs(workdir, exist_ok=True)
    topo = os.path.join(workdir, "ring.yaml")
    subprocess.run([hearsay, "topo", "gen", "ring", "-n", str(peers), "--base-port", str(port),
                    "-o", topo], check=True, capture_output=True)
    exp = os.path.join(workdir, "exp.yaml")
    with open(exp, "w") as f:
        f.write(EXPERIMENT.format(samples=peers * 40, rounds=rounds))
    env = dict(os.environ)
    if preload:
        env["LD_PRELOAD"] = preload
    metrics = [os.path.join(workdir, "out", "spawn", f"peer_{i}.jsonl") for i in range(peers)]
    t0 = time.monotonic()
    launcher = subprocess.Popen([hearsay, "launch", exp, "--transport", "tcp", "--out",
                                 os.path.join(workdir, "out")], env=env,
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    spawned = round1 = None
    peak_rss = peak_pss = 0
    while launcher.poll() is None:
        kids = children_of(launcher.pid)
        if spawned is None and len(kids) >= peers:
            spawned = time.monotonic() - t0
        if round1 is None and all(os.path.exists(m) and os.path.getsize(m) > 0 for m in metrics):
            round1 = time.monotonic() - t0
        rss = pss = 0
        for child in kids:
            r, p = memory_kb(child)
            rss += r
            pss += p
        peak_rss = max(peak_rss, rss)
        peak_pss = max(peak_pss, pss)
        time.sleep(0.05)
    total = time.monotonic() - t0
    err = launcher.stderr.read()
    if launcher.returncode != 0:
        sys.exit(f"spawn_bench: hearsay launch failed ({launcher.returncode}): {err.strip()[-400:]}")
    return {"spawn": spawned, "round1": round1, "run": total, "rss": peak_rss / 1024.0, "pss": peak_pss / 1024.0}


def version_ms(hearsay, env):
    times = []
    for _ in range(21):
        t0 = time.monotonic()
        subprocess.run([hearsay, "--version"], env=env, stdout=subprocess.DEVNULL)
        times.append((time.monotonic() - t0) * 1000.0)
    return sorted(times)[len(times) // 2]


def idle_peer_mb(hearsay, env, port, workdir):
    os.makedirs(workdir, exist_ok=True)
    topo = os.path.join(workdir, "ring.yaml")
    subprocess.run([hearsay, "topo", "gen", "ring", "-n", "3", "--base-port", str(port), "-o",
                    topo], check=True, capture_output=True)
    exp = os.path.join(workdir, "exp.yaml")
    with open(exp, "w") as f:
        f.write(EXPERIMENT.format(samples=120, rounds=3))
    peer = subprocess.Popen([hearsay, "peer", "--experiment", exp, "--id", "0", "--out",
                             os.path.join(workdir, "out")], env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    time.sleep(1.0)
    rss, _ = memory_kb(peer.pid)
    peer.kill()
    peer.wait()
    return rss / 1024.0


def cuda_preload():
    libs = []
    for pattern in ("libcudart.so.*", "libcublas.so.*"):
        found = sorted(glob.glob("/usr/local/cuda/lib64/" + pattern) +
                       glob.glob("/usr/local/cuda/lib/" + pattern))
        found = [p for p in found if p.count(".so.") == 1 and p.split(".so.")[1].isdigit()]
        if found:
            libs.append(found[0])
    return ":".join(libs) if len(libs) == 2 else None


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--hearsay", default="build/apps/hearsay")
    ap.add_argument("--peers", type=int, default=64)
    ap.add_argument("--baseline-peers", type=int, default=16,
                    help="peers of the CUDA-preloaded baseline (0: skip it)")
    ap.add_argument("--rounds", type=int, default=300)
    ap.add_argument("--port", type=int, default=23000)
    args = ap.parse_args()
    hearsay = os.path.abspath(args.hearsay)
    rows = []
    with tempfile.TemporaryDirectory(prefix="hearsay_spawn_") as tmp:
        preload = cuda_preload()
        configs = [("hearsay (CUDA on demand)", dict(os.environ))]
        if preload:
            configs.insert(0, ("CUDA preloaded (before)", dict(os.environ, LD_PRELOAD=preload)))
        print(f"{'configuration':26} {'--version ms':>12} {'idle peer MB':>13}")
        print(f"{'/bin/true (start floor)':26} {version_ms('/bin/true', dict(os.environ)):12.1f}")
        for i, (name, env) in enumerate(configs):
            ms = version_ms(hearsay, env)
            mb = idle_peer_mb(hearsay, env, args.port + 2000 + 10 * i, os.path.join(tmp, f"idle{i}"))
            print(f"{name:26} {ms:12.1f} {mb:13.1f}")
        print()
        if args.baseline_peers > 0:
            if preload:
                r = run_once(hearsay, args.baseline_peers, args.port, args.rounds, preload,
                             os.path.join(tmp, "baseline"))
                rows.append(("CUDA preloaded (before)", args.baseline_peers, r))
            else:
                print("no CUDA runtime/cuBLAS in /usr/local/cuda: baseline skipped")
        r = run_once(hearsay, args.peers, args.port + 1000, args.rounds, None,
                     os.path.join(tmp, "plain"))
        rows.append(("hearsay (CUDA on demand)", args.peers, r))
    def sec(v):
        return f"{v:.2f}" if v is not None else "n/a"
    print(f"{'configuration':26} {'peers':>5} {'spawn s':>8} {'round1 s':>9} {'run s':>7} "
          f"{'RSS MB':>8} {'PSS MB':>8} {'RSS/peer':>9}")
    for name, n, r in rows:
        print(f"{name:26} {n:5d} {sec(r['spawn']):>8} {sec(r['round1']):>9} {r['run']:7.2f} "
              f"{r['rss']:8.0f} {r['pss']:8.0f} {r['rss'] / n:9.1f}")
    if len(rows) == 2:
        b, p = rows[0][2], rows[1][2]
        print(f"RSS per peer: {p['rss'] / rows[1][1]:.1f} MB vs {b['rss'] / rows[0][1]:.1f} MB "
              f"before ({(p['rss'] / rows[1][1]) / (b['rss'] / rows[0][1]):.3f}x)")


if __name__ == "__main__":
    main()
