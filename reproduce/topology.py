"""Topology: loss against rounds for five graphs of 64 peers, next to each graph's spectral gap.

Builds docs/results/topology.md from one launch of reproduce/topology.yaml; the gaps come from
`hearsay topo show` on a topology file per graph written into the work folder.
"""
import os
import re

from common import ReproError, fmt, num, table
from svg import line_chart

GRAPHS = [  # (grid value as the run name's suffix, generator as written, label)
    ("ring", "ring", "ring"),
    ("kind:_torus_rows:_8_cols:_8", "{kind: torus, rows: 8, cols: 8}", "torus 8 x 8"),
    ("exponential", "exponential", "exponential"),
    ("one-peer-exponential", "one-peer-exponential", "one-peer exponential"),
    ("complete", "complete", "complete"),
]
SPLITS = [("iid", "iid shards"), ("dirichlet0.1", "Dirichlet alpha 0.1")]


def _gap(ctx, generator, n):
    """(gap, text) from `hearsay topo show`: the spectral gap of a static graph, or the
    per-round gap and the contraction over one period of a time-varying one."""
    path = os.path.join(ctx.work, f"graph-{re.sub(r'[^a-z0-9]+', '_', generator)}.yaml")
    with open(path, "w", encoding="utf-8") as f:
        f.write(f"nodes: {n}\ngenerator: {generator}\n")
    out = ctx.run(["topo", "show", path], f"topo show {generator}")
    m = re.search(r"^spectral gap (\S+)", out, re.M)
    if m:
        return num(m.group(1)), fmt(num(m.group(1)), 3)
    m = re.search(r"^contraction over one period \|\|(\S+) - J\|\|_2 = (\S+), per-round gap (\S+)",
                  out, re.M)
    if m:
        period = re.search(r"period (\d+)", out)
        return num(m.group(3)), (f"{fmt(num(m.group(3)), 3)} per round; contraction over a "
                                 f"period of {period.group(1) if period else '?'}: "
                                 f"{fmt(num(m.group(2)), 3)}")
    raise ReproError(f"hearsay topo show {generator}: no spectral gap line")


def _sends(ctx, generator, n):
    """Messages a peer sends per round (its out-degree; 1 for one-peer exponential)."""
    if generator == "one-peer-exponential":
        return 1
    out = ctx.run(["topo", "show", os.path.join(
        ctx.work, f"graph-{re.sub(r'[^a-z0-9]+', '_', generator)}.yaml")], "topo show")
    m = re.search(r"out (\d+)/", out)
    if not m:
        raise ReproError(f"hearsay topo show {generator}: no degree line")
    return int(m.group(1))


def build(ctx):
    n = 64
    launch = ctx.launch("topology.yaml", "topology")
    gaps = {g: _gap(ctx, gen, n) for g, gen, _ in GRAPHS}
    sends = {g: _sends(ctx, gen, n) for g, gen, _ in GRAPHS}
    rounds = int(launch.row("iid-ring")["rounds"])
    marks = [r for r in (10, 50, 100) if r < rounds] + [rounds]
    tables, plots = [], {}
    for split, split_label in SPLITS:
        rows = []
        complete = launch.final(f"{split}-complete", "final_loss")
        for g, _, label in GRAPHS:
            run = f"{split}-{g}"
            rows.append([label, str(sends[g]), gaps[g][1]] +
                        [fmt(launch.loss_at(run, r), 4) for r in marks] +
                        [fmt(launch.final(run, "final_loss") - complete, 2),
                         fmt(launch.final(run, "consensus_distance"), 3),
                         fmt(100 * launch.final(run, "accuracy"), 3)])
        tables.append(f"{split_label}:\n\n" + table(
            ["graph", "sends / round", "spectral gap"] + [f"loss @ {r}" for r in marks] +
            ["final - complete", "consensus dist.", "test acc. %"], rows,
            "lrl" + "r" * (len(marks) + 3)))
        series = [(label, [(num(x["round"]), num(x["train_loss"]))
                           for x in launch.curve(f"{split}-{g}")]) for g, _, label in GRAPHS]
        plots[split] = ctx.write_asset(f"loss_{split}.svg", line_chart(
            series, f"D-PSGD, 64 peers, {split_label}: loss of the average model", "round",
            "training loss", logy=True))
        cons = [(label, [(num(x["round"]), num(x["consensus_distance"]))
                         for x in launch.curve(f"{split}-{g}")]) for g, _, label in GRAPHS]
        plots[split + "-c"] = ctx.write_asset(f"consensus_{split}.svg", line_chart(
            cons, f"{split_label}: consensus distance", "round", "consensus distance",
            logy=True))
    return {
        "title": "Topology: loss against rounds and the spectral gap (64 peers)",
        "files": ["topology.yaml", "topologies/ring64.yaml"],
        "body": _body(tables, plots, _verdicts(launch, gaps, sends), rounds),
        "rows": len(launch.summary),
    }


def _verdicts(launch, gaps, sends):
    static = ["ring", "kind:_torus_rows:_8_cols:_8", "exponential", "complete"]
    names = {g: label for g, _, label in GRAPHS}
    out = []
    by_gap = sorted(static, key=lambda g: gaps[g][0])
    for column, what in (("final_loss", "final loss"), ("consensus_distance",
                                                        "consensus distance")):
        vals = {g: launch.final(f"dirichlet0.1-{g}", column) for g in static}
        ordered = all(vals[a] >= vals[b] for a, b in zip(by_gap, by_gap[1:]))
        out.append((f"Under label skew, a larger spectral gap gives a lower {what}", ordered,
                    "from the smallest gap to the largest: " + ", ".join(
                        f"{names[g]} {fmt(vals[g], 4)}" for g in by_gap)))
    iid = [launch.final(f"iid-{g}", "final_loss") for g, _, _ in GRAPHS]
    spread = max(iid) - min(iid)
    out.append(("With iid data the graph barely changes the loss of the average model",
                spread < 0.01 * min(iid),
                f"the final losses of the five graphs differ by {fmt(spread, 2)} "
                f"(of {fmt(min(iid), 4)})"))
    ope = launch.final("dirichlet0.1-one-peer-exponential", "final_loss")
    exp = launch.final("dirichlet0.1-exponential", "final_loss")
    ring = launch.final("dirichlet0.1-ring", "final_loss")
    out.append((f"One-peer exponential ({sends['one-peer-exponential']} message per round) is "
                f"close to the static exponential graph ({sends['exponential']} per round)",
                abs(ope - exp) <= 0.25 * abs(ring - exp) + 1e-9,
                f"final loss under label skew {fmt(ope, 4)} against {fmt(exp, 4)} "
                f"(ring: {fmt(ring, 4)})"))
    return out


def _body(tables, plots, verdicts, rounds):
    nl = "\n\n"
    word = {True: "agrees", False: "differs"}
    claims = "\n".join(f"- **{c}: {word[ok]}** -- {why}." for c, ok, why in verdicts)
    return f"""
## Setup

D-PSGD on 64 peers, softmax regression on a synthetic 10-class problem (32 features, 32000
examples, 5% label noise), minibatch 16, constant lr 0.1, {rounds} rounds; Metropolis weights on
the static graphs, weight 1/2 on the one-peer exponential graph (round t: i sends to
i + 2^(t mod 6)). Two splits of the data over the peers: iid shards, and Dirichlet label skew
with alpha = 0.1 (each peer's examples come mostly from a few classes). The spectral gap 1 - |lambda_2(W)|
is what `hearsay topo show` prints for the 64-node graph. Losses are the training loss of the
average model; "final - complete" is the final loss's excess over the complete graph's;
the consensus distance is the peers' mean squared distance to their average (the summary's
column) at the end.

## What theory says

The consensus error of D-PSGD shrinks by about (1 - gap) per round, so in rounds a graph with a
larger spectral gap tracks centralized SGD more closely; with iid data the average model barely
notices (its update is the average gradient either way), with heterogeneous data the peers'
disagreement biases it, by an amount that grows as the gap shrinks (Lian et al. 2017,
Koloskova et al. 2020). Ying et al. (2021) show the one-peer exponential graph, one message per
round, doing about as well as the static exponential graph.

## Loss and consensus

{nl.join(tables)}

![loss, iid]({plots["iid"]})

![loss, dirichlet]({plots["dirichlet0.1"]})

![consensus, iid]({plots["iid-c"]})

![consensus, dirichlet]({plots["dirichlet0.1-c"]})

## Agrees / differs

{claims}
"""
