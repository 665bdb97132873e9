"""A tiny character-level transformer learns hearsay's own documentation on 4 hearsay peers.

The text is the project's docs/*.md, concatenated at run time (text we own; about 170 kB). Its
last tenth is held out; the rest is cut into 4 contiguous parts, one per peer. Each peer is a
process with a 2-layer pre-norm transformer (d=48, 4 heads, context 64, about 52k parameters),
AdamW, and a hearsay.torch.GossipOptimizer that gossips the parameters with DCD and 8-bit QSGD
after every 2 local steps, on a ring over an emulated WAN (examples/python/char_transformer.yaml:
50 Mbit/s, 20 ms +- 10 ms one way). The peers write their metrics and snapshots into --out like
daemon peers; hearsay.report then evaluates the average model of every evaluation round (loss on
fixed training and held-out windows, next-character accuracy) and writes summary.csv, curves.csv
and the plots, as `hearsay launch` does. Prints the held-out loss and perplexity reached.

    PYTHONPATH=build/python /usr/bin/python3 examples/python/char_transformer.py [--rounds N]

Needs python3-torch and python3-numpy (Debian) and the hearsay package (docs/python.md).
"""
import argparse
import glob
import math
import multiprocessing as mp
import os
import socket
import sys
import tempfile

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
PEERS = 4
CONTEXT = 64
LOCAL_STEPS = 2
BATCH = 16
EVAL_WINDOWS = 96
# Printable ASCII and the newline; anything else reads as '?'.
VOCAB = ["\n"] + [chr(c) for c in range(32, 127)]


def load_text():
    """The docs as symbol ids: (training ids, held-out ids)."""
    paths = sorted(glob.glob(os.path.join(HERE, "..", "..", "docs", "*.md")))
    if not paths:
        sys.exit("no docs/*.md next to the examples: run from a hearsay source tree")
    text = "".join(open(p, encoding="utf-8").read() for p in paths)
    index = {ch: i for i, ch in enumerate(VOCAB)}
    unknown = index["?"]
    ids = np.array([index.get(ch, unknown) for ch in text], dtype=np.int64)
    cut = len(ids) * 9 // 10
    return ids[:cut], ids[cut:]


def make_model(torch):
    nn = torch.nn

    class Block(nn.Module):
        def __init__(self, d, heads, ff):
            super().__init__()
            self.ln1, self.ln2 = nn.LayerNorm(d), nn.LayerNorm(d)
            self.attn = nn.MultiheadAttention(d, heads, batch_first=True)
            self.mlp = nn.Sequential(nn.Linear(d, ff), nn.GELU(), nn.Linear(ff, d))

        def forward(self, h, mask):
            a = self.ln1(h)
            h = h + self.attn(a, a, a, attn_mask=mask, need_weights=False)[0]
            return h + self.mlp(self.ln2(h))

    class CharTransformer(nn.Module):
        def __init__(self, vocab, d=48, heads=4, layers=2, ff=96):
            super().__init__()
            self.tok = nn.Embedding(vocab, d)
            self.pos = nn.Parameter(0.02 * torch.randn(CONTEXT, d))
            self.blocks = nn.ModuleList(Block(d, heads, ff) for _ in range(layers))
            self.ln = nn.LayerNorm(d)
            self.head = nn.Linear(d, vocab)
            # True above the diagonal: a position sees only itself and what precedes it.
            self.register_buffer(
                "mask", torch.triu(torch.ones(CONTEXT, CONTEXT, dtype=torch.bool), 1),
                persistent=False)

        def forward(self, idx):
            t = idx.shape[1]
            h = self.tok(idx) + self.pos[:t]
            for b in self.blocks:
                h = b(h, self.mask[:t, :t])
            return self.head(self.ln(h))

    torch.manual_seed(0)  # the same initial weights on every peer
    return CharTransformer(len(VOCAB))


def windows(torch, ids, starts):
    x = torch.stack([torch.from_numpy(ids[s:s + CONTEXT]) for s in starts])
    y = torch.stack([torch.from_numpy(ids[s + 1:s + CONTEXT + 1]) for s in starts])
    return x, y


def peer(rank, experiment, out_dir, queue):
    try:
        import torch

        import hearsay.torch
        torch.set_num_threads(1)
        train, _ = load_text()
        part = np.array_split(train, PEERS)[rank]  # contiguous: each peer reads other chapters
        model = make_model(torch)
        inner = torch.optim.AdamW(model.parameters(), lr=1e-2, weight_decay=0.01)
        opt = hearsay.torch.GossipOptimizer(model.parameters(), inner, experiment, rank=rank,
                                            local_steps=LOCAL_STEPS, out_dir=out_dir)
        gen = np.random.default_rng(100 + rank)
        while not opt.finished:
            x, y = windows(torch, part, gen.integers(0, len(part) - CONTEXT - 1, BATCH))
            opt.zero_grad()
            loss = torch.nn.functional.cross_entropy(model(x).reshape(-1, len(VOCAB)),
                                                     y.reshape(-1))
            loss.backward()
            opt.step(loss.item())
        queue.put((rank, None))
    except Exception as e:  # the parent reports it
        queue.put((rank, f"{type(e).__name__}: {e}"))


def make_evaluate(torch, model, train, test):
    """evaluate(x) for hearsay.report: losses on fixed windows, next-character accuracy."""
    gen = np.random.default_rng(7)
    train_xy = windows(torch, train, gen.integers(0, len(train) - CONTEXT - 1, EVAL_WINDOWS))
    test_xy = windows(torch, test, gen.integers(0, len(test) - CONTEXT - 1, EVAL_WINDOWS))

    def loss_acc(x, y):
        logits = model(x).reshape(-1, len(VOCAB))
        y = y.reshape(-1)
        loss = torch.nn.functional.cross_entropy(logits, y).item()
        return loss, (logits.argmax(1) == y).float().mean().item()

    def evaluate(x):
        with torch.no_grad():
            torch.nn.utils.vector_to_parameters(torch.from_numpy(np.array(x)),
                                                model.parameters())
            train_loss, _ = loss_acc(*train_xy)
            test_loss, acc = loss_acc(*test_xy)
        return train_loss, test_loss, acc

    return evaluate


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rounds", type=int, default=200, help="gossip rounds (default 200)")
    ap.add_argument("--out", default="results/char_transformer",
                    help="output folder (default results/char_transformer)")
    args = ap.parse_args()
    import torch

    import hearsay
    torch.set_num_threads(1)

    # The experiment with this run's round count, next to its topology file with free ports
    # (base_port: auto is for `hearsay launch`; here the script picks them).
    workdir = tempfile.mkdtemp(prefix="hearsay_chars_")
    socks = []
    for _ in range(PEERS):
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        socks.append(s)
    topo = open(os.path.join(HERE, "char_transformer_ring4.yaml")).read()
    nodes = "nodes:\n" + "".join(f"  - {{name: p{i}, port: {s.getsockname()[1]}}}\n"
                                 for i, s in enumerate(socks))
    for s in socks:
        s.close()
    open(os.path.join(workdir, "char_transformer_ring4.yaml"), "w").write(
        topo.replace("nodes: 4\nbase_port: auto\n", nodes))
    exp = open(os.path.join(HERE, "char_transformer.yaml")).read().replace(
        "rounds: 200", f"rounds: {args.rounds}")
    experiment = os.path.join(workdir, "char_transformer.yaml")
    open(experiment, "w").write(exp)

    model = make_model(torch)
    n_params = sum(p.numel() for p in model.parameters())
    train, test = load_text()
    print(f"{len(train) + len(test)} characters of docs/*.md, {len(VOCAB)} symbols; "
          f"model {n_params} parameters; {PEERS} peers, {args.rounds} rounds")
    out_dir = os.path.abspath(args.out)
    ctx = mp.get_context("spawn")
    queue = ctx.Queue()
    procs = [ctx.Process(target=peer, args=(r, experiment, out_dir, queue))
             for r in range(PEERS)]
    for p in procs:
        p.start()
    results = dict(queue.get(timeout=1200) for _ in range(PEERS))
    for p in procs:
        p.join()
    failed = {r: e for r, e in results.items() if e}
    if failed or any(p.exitcode != 0 for p in procs):
        sys.exit(f"a peer failed: {failed}")

    x0 = torch.nn.utils.parameters_to_vector(model.parameters()).detach().numpy().copy()
    r = hearsay.report(out_dir, experiment, make_evaluate(torch, model, train, test), x0)
    print(f"{'round':>6} {'wall s':>7} {'MB/peer':>8} {'train loss':>11} {'test loss':>10} "
          f"{'perplexity':>11} {'accuracy':>9}")
    for p in r["curve"]:
        print(f"{p['round']:>6} {p['wall_s']:>7.1f} {p['mb_sent_per_peer']:>8.2f} "
              f"{p['train_loss']:>11.3f} {p['test_loss']:>10.3f} "
              f"{math.exp(p['test_loss']):>11.2f} {p['accuracy']:>9.3f}")
    last = r["curve"][-1]
    print(f"average model after {last['round']} rounds: held-out loss {last['test_loss']:.3f} "
          f"nats/char, perplexity {math.exp(last['test_loss']):.2f}, "
          f"next-character accuracy {last['accuracy']:.3f}")
    print(f"summary, curves and plots in {out_dir}")


if __name__ == "__main__":
    main()
