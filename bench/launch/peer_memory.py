#!/usr/bin/env python3
"""What the peer processes of a launch hold: their summed peak resident memory, and the CPU and
wall time of the whole launch, for one or more `hearsay` binaries run on the same experiment in
turn (interleaved, so that a before/after pair sees the same machine).

Per run:
  wall s        wall time of `hearsay launch EXPERIMENT` (start-up, data, rounds, evaluation)
  CPU s         user + system time of the launch and every process it started
  peers         how many `hearsay peer` processes were seen
  sum peak MB   the sum over those processes of their peak resident memory (VmHWM of
                /proc/PID/status, read every 20 ms while they run)
  max peak MB   the largest of them

Baseline: the first binary given (e.g. a copy of the build before a change). The peers are found
by their command line (a program named `hearsay` started with `peer`), so each binary must be
named `hearsay` (copy it into a folder of its own: /tmp/old/hearsay).

  bench/launch/peer_memory.py EXPERIMENT [--hearsay BIN ...] [--repeat 2] [--out DIR]

docs/performance.md ("Peer processes build only their own shard") has results.
"""
import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time


def peer_pids():
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                argv = f.read().split(b"\0")
        except OSError:
            continue
        if len(argv) >= 2 and os.path.basename(argv[0]) == b"hearsay" and argv[1] == b"peer":
            yield pid


def peak_kb(pid):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


def one_launch(hearsay, experiment, out):
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.monotonic()
    proc = subprocess.Popen([hearsay, "launch", experiment, "--transport", "tcp", "--out", out],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    peaks = {}
    while proc.poll() is None:
        for pid in peer_pids():
            kb = peak_kb(pid)
            if kb is not None:
                peaks[pid] = max(peaks.get(pid, 0), kb)
        time.sleep(0.02)
    wall = time.monotonic() - start
    err = proc.stderr.read().decode(errors="replace")
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    if proc.returncode != 0:
        sys.exit(f"{hearsay} launch {experiment} failed ({proc.returncode}):\n{err}")
    return wall, cpu, peaks


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("experiment")
    ap.add_argument("--hearsay", nargs="+", default=["build/apps/hearsay"])
    ap.add_argument("--repeat", type=int, default=2)
    ap.add_argument("--out", default=None, help="output folder (default: a temporary one)")
    args = ap.parse_args()
    for h in args.hearsay:
        if os.path.basename(h) != "hearsay":
            sys.exit(f"{h}: the binary must be named hearsay (the peers are found by that name)")
    out = args.out or tempfile.mkdtemp(prefix="hearsay_peer_memory_")
    print(f"{'binary':40} {'wall s':>7} {'CPU s':>7} {'peers':>6} {'sum peak MB':>12} "
          f"{'max peak MB':>12}")
    for _ in range(args.repeat):
        for h in args.hearsay:
            wall, cpu, peaks = one_launch(h, args.experiment, out)
            total = sum(peaks.values()) / 1024
            top = max(peaks.values()) / 1024 if peaks else 0
            print(f"{h:40} {wall:7.2f} {cpu:7.2f} {len(peaks):6d} {total:12.0f} {top:12.0f}",
                  flush=True)


if __name__ == "__main__":
    main()
