"""Local steps on a WAN: DiLoCo vs gossip DiLoCo vs per-step communication, time and bytes to a
target loss. Builds docs/results/diloco.md from one launch of reproduce/diloco.yaml.
"""
import os
import re

from common import REPRO_DIR, fmt, num, table
from svg import line_chart

RUNS = [  # (run, label, H)
    ("allreduce-H1", "all-reduce every step", 1),
    ("dpsgd-H1", "D-PSGD every step", 1),
    ("choco-qsgd4-H1", "CHOCO qsgd:4 every step", 1),
    ("diloco-H20", "DiLoCo (all-reduce), H = 20", 20),
    ("choco-qsgd4-H20", "gossip DiLoCo, CHOCO qsgd:4, H = 20", 20),
    ("dpsgd-H20", "gossip DiLoCo, D-PSGD, H = 20", 20),
    ("diloco-H100", "DiLoCo (all-reduce), H = 100", 100),
    ("choco-qsgd4-H100", "gossip DiLoCo, CHOCO qsgd:4, H = 100", 100),
    ("dpsgd-H100", "gossip DiLoCo, D-PSGD, H = 100", 100),
]


def build(ctx):
    launch = ctx.launch("diloco.yaml", "diloco")
    target = float(ctx.key("diloco.yaml", "target_loss"))
    ttt = {r: launch.to_target(r, target) for r, _, _ in RUNS}
    rows = []
    for r, label, h in RUNS:
        v = ttt[r]
        rows.append([label, launch.row(r)["status"],
                     fmt(v[0] * h, 3) if v else "not reached",
                     fmt(v[1], 3) if v else "-", fmt(v[2], 3) if v else "-",
                     fmt(launch.final(r, "final_loss"), 3),
                     fmt(100 * launch.final(r, "accuracy"), 3),
                     fmt(launch.final(r, "consensus_distance"), 2),
                     fmt(launch.final(r, "wall_seconds"), 4),
                     fmt(launch.final(r, "mb_sent_per_peer"), 3)])
    curves = {r: launch.curve(r) for r, _, _ in RUNS}
    plots = {}
    for key, col, xlabel, logx in (("time", "wall_seconds", "virtual seconds", True),
                                   ("mb", "mb_sent_per_peer", "MB sent per peer", True),
                                   ("steps", "round", "inner steps", False)):
        series = []
        for r, label, h in RUNS:
            scale = h if col == "round" else 1
            series.append((label, [(num(x[col]) * scale, num(x["train_loss"]))
                                   for x in curves[r]]))
        plots[key] = ctx.write_asset(f"loss_vs_{key}.svg", line_chart(
            series, "training loss of the average model", xlabel, "loss", logx=logx, logy=True))
    inner = int(launch.row("allreduce-H1")["rounds"])
    # Virtual seconds one inner step takes when every step communicates.
    per_step = {r: launch.final(r, "wall_seconds") / inner for r in ("allreduce-H1", "dpsgd-H1")}
    wan12 = os.path.join(REPRO_DIR, "topologies", "wan12.yaml")
    show = ctx.run(["topo", "show", wan12], "topo show")
    m = re.search(r"^spectral gap (\S+)", show, re.M)
    per_step["gap"] = num(m.group(1)) if m else float("nan")
    return {
        "title": "Local steps on a WAN: DiLoCo and gossip DiLoCo (3 regions, 12 peers)",
        "files": ["diloco.yaml", "topologies/wan12.yaml", "../profiles/wan-3-continents.yaml"],
        "body": _body(rows, plots, _verdicts(launch, ttt), target, inner, per_step),
        "rows": len(launch.summary),
    }


def _verdicts(launch, t):
    def s(r):
        return "never" if t[r] is None else f"{fmt(t[r][1], 3)} s and {fmt(t[r][2], 3)} MB"

    out = []
    base = t["allreduce-H1"]
    for h in (20, 100):
        d = t[f"diloco-H{h}"]
        ok = d is not None and (base is None or (d[1] < base[1] and d[2] < base[2]))
        ratio = "" if (d is None or base is None) else \
            f" ({base[1] / d[1]:.1f}x less time, {base[2] / d[2]:.0f}x fewer bytes)"
        out.append((f"DiLoCo with H = {h} reaches the target sooner and with fewer bytes than "
                    f"all-reduce after every step", ok,
                    f"DiLoCo {s(f'diloco-H{h}')}, per-step all-reduce {s('allreduce-H1')}{ratio}"))
        lb, ld = launch.final("allreduce-H1", "final_loss"), launch.final(f"diloco-H{h}",
                                                                          "final_loss")
        out.append((f"DiLoCo with H = {h} loses nothing against per-step all-reduce at equal "
                    f"inner steps", ld <= 1.25 * lb,
                    f"final loss {fmt(ld, 3)} against {fmt(lb, 3)}"))
    for h in (20, 100):
        best = min((f"choco-qsgd4-H{h}", f"dpsgd-H{h}"),
                   key=lambda r: t[r][1] if t[r] else float("inf"))
        d = t[f"diloco-H{h}"]
        g = t[best]
        if g is None:
            out.append((f"Gossip DiLoCo (H = {h}) against DiLoCo", None,
                        f"neither gossip DiLoCo run reaches the target; DiLoCo {s(f'diloco-H{h}')}"
                        f"; their consensus distance at the end is "
                        f"{fmt(launch.final(f'choco-qsgd4-H{h}', 'consensus_distance'), 2)} "
                        f"(CHOCO) and "
                        f"{fmt(launch.final(f'dpsgd-H{h}', 'consensus_distance'), 2)} (D-PSGD)"))
        else:
            label = dict((r, lab) for r, lab, _ in RUNS)[best]
            out.append((f"Gossip DiLoCo (H = {h}) against DiLoCo", None,
                        f"the faster gossip run ({label}) {s(best)}, DiLoCo "
                        f"{s(f'diloco-H{h}')}"))
    return out


def _body(rows, plots, verdicts, target, inner, per_step):
    word = {True: "agrees", False: "differs", None: "measured (no paper claim)"}
    claims = "\n".join(f"- **{c}: {word[ok]}** -- {why}." for c, ok, why in verdicts)
    return f"""
## Setup

12 peers on a ring over three cloud regions (`profiles/wan-3-continents.yaml`: nodes 0-3 in the
US, 4-7 in Europe, 8-11 in Asia; within a region 10 Gbit/s and 0.5 ms, between regions 1 Gbit/s
and the profile's one-way latencies, the ring crossing US-EU, EU-Asia and Asia-US once each).
The digits MLP (64-32-10, `examples/data/digits.csv`, iid shards), minibatch 16, inner SGD with
lr 0.02, each inner step taking `compute_time: 10ms` of virtual time; every run takes {inner}
inner steps (rounds x H). DiLoCo = `algorithm: allreduce` with `local_steps: H` and
`outer_optimizer: {{kind: nesterov, lr: 0.7, momentum: 0.9}}` (Douillard et al.'s outer
settings; their inner optimizer is AdamW, here it is SGD for every run). Gossip DiLoCo = the
same local steps and outer optimizer with CHOCO-SGD + qsgd:4 (gamma 0.5) or D-PSGD as the
communication round (docs/algorithms.md, "Local steps and outer optimizers"). Target: training
loss **{target}** of the average model, interpolated between evaluations (every 100 inner
steps).

## The papers' claims

DiLoCo (Douillard et al. 2023; INTELLECT-1 and Streaming DiLoCo after it): H local steps
between synchronizations with a Nesterov outer step on the averaged pseudo-gradient reach the
loss of synchronous data-parallel training with H times less communication, which on slow
networks means far less wall time. No paper states a result for gossip DiLoCo; its rows are
measurements.

## Time and bytes to loss {target}

{table(["run", "status", "inner steps to target", "seconds to target", "MB/peer to target",
        "final loss", "test acc. %", "consensus dist.", "virtual s in all", "MB/peer in all"],
       rows)}

![loss vs time]({plots["time"]})

![loss vs MB]({plots["mb"]})

![loss vs inner steps]({plots["steps"]})

## Agrees / differs

{claims}
- Where the time goes. Communicating after every step, a step takes
  {fmt(per_step["allreduce-H1"], 3)} s with the ring all-reduce (its chunks travel twice around
  the ring, crossing all three inter-region links twice) and {fmt(per_step["dpsgd-H1"], 3)} s
  with a gossip round (one trip over the slowest link in the ring), against 0.01 s of
  computation. With local steps, a gossip round sends the model the peer starts the round from
  (s_i), so its messages travel while the H inner steps run: with H x 10 ms longer than the
  slowest link, the round costs no more than its computation. DiLoCo's
  all-reduce of pseudo-gradients can only start after the H steps, so it pays the all-reduce's
  cost on top of them every round.
- Why gossip DiLoCo falls behind as H grows: a gossip round only averages neighbours (the 12-peer
  ring's spectral gap is {fmt(per_step["gap"], 3)}), so between two rounds the peers' models
  drift apart over H local steps and a few rounds do not pull them back together (the consensus
  distance column); DiLoCo's all-reduce makes every peer start each round from the exact
  average. With H = 100 there are only {inner // 100} rounds in all.
"""
