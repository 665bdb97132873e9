#!/usr/bin/env python3
"""CPU per peer-round of a run whose model costs nothing: what the runtime itself costs a round.

An 8-peer ring of a tiny logistic model (10 features, batch 8, D-PSGD, no compressor, no link
limits) is launched with R1 and with R2 rounds on each transport; the CPU time of `hearsay launch`
and all its processes (user + system, from getrusage of the children) is taken, and the marginal
cost per peer-round is (cpu(R2) - cpu(R1)) / (8 x (R2 - R1)): start-up, connection set-up and the
final evaluation cancel out, what scales with the rounds stays (threads and their hand-offs,
messages, metrics lines, reading them back).

Baseline in the same run: the simulator (`--transport sim`), which runs the same peer cores and
the same arithmetic in one thread, with no real time, threads or sockets.

  bench/launch/round_overhead.py [--hearsay build/apps/hearsay] [--rounds 200,2200] [--repeat 3]
"""
import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile

TOPOLOGY = """\
nodes: 8
host: 127.0.0.1
base_port: {port}
generator: {{kind: ring}}
"""

EXPERIMENT = """\
name: overhead
topology: ring.yaml
output: {out}
defaults:
  model: {{kind: logistic}}
  data: {{kind: synthetic, samples: 2000, features: 10, classes: 2, seed: 7, test_fraction: 0.2}}
  rounds: {rounds}
  batch_size: 8
  lr: {{kind: constant, base: 0.1}}
  seed: 1
  eval_every: 1000000
runs:
  - {{name: dpsgd, algorithm: dpsgd}}
"""

PEERS = 8


def cpu_seconds(hearsay, folder, rounds, transport):
    exp = os.path.join(folder, f"exp{rounds}.yaml")
    with open(exp, "w") as f:
        f.write(EXPERIMENT.format(out=os.path.join(folder, f"out{rounds}"), rounds=rounds))
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    r = subprocess.run([hearsay, "launch", exp, "--transport", transport],
                       stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if r.returncode != 0:
        sys.exit(f"hearsay launch ({transport}, {rounds} rounds) failed:\n{r.stderr}")
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--hearsay", default="build/apps/hearsay")
    ap.add_argument("--rounds", default="200,2200", help="R1,R2")
    ap.add_argument("--repeat", type=int, default=3, help="repetitions (medians reported)")
    ap.add_argument("--port", type=int, default=17400, help="base port of the TCP runs")
    args = ap.parse_args()
    r1, r2 = (int(x) for x in args.rounds.split(","))
    if not 0 < r1 < r2:
        sys.exit("--rounds: want R1,R2 with 0 < R1 < R2")
    hearsay = os.path.abspath(args.hearsay)
    rows = []
    with tempfile.TemporaryDirectory(prefix="hearsay-overhead-") as folder:
        with open(os.path.join(folder, "ring.yaml"), "w") as f:
            f.write(TOPOLOGY.format(port=args.port))
        for transport in ("sim", "inproc", "tcp"):
            per_round = []
            for _ in range(args.repeat):
                a = cpu_seconds(hearsay, folder, r1, transport)
                b = cpu_seconds(hearsay, folder, r2, transport)
                per_round.append((b - a) / (PEERS * (r2 - r1)) * 1e6)
            rows.append((transport, statistics.median(per_round), min(per_round), max(per_round)))
    base = rows[0][1]
    print(f"CPU per peer-round, {PEERS}-peer ring, logistic d=10, rounds {r1} -> {r2}, "
          f"median of {args.repeat}")
    print(f"{'transport':<10} {'us':>8} {'(min':>8} {'max)':>8} {'x sim':>7}")
    for name, med, lo, hi in rows:
        print(f"{name:<10} {med:8.1f} {lo:8.1f} {hi:8.1f} {med / base if base > 0 else 0:7.1f}")


if __name__ == "__main__":
    main()
