"""A small PyTorch CNN learns handwritten digits on 4 hearsay peers.

Each peer is a process with its own shard of examples/data/digits.csv (scikit-learn's 8x8
digits), its own model and its own torch optimizer; after every local step the peers gossip
their parameters with DCD and 8-bit QSGD over loopback TCP through the network emulator
(examples/python/digits.yaml). At the end the script averages the peers' models and prints
each peer's and the average's held-out accuracy.

    PYTHONPATH=build/python /usr/bin/python3 examples/python/digits_torch.py [--rounds N]

Needs python3-torch and python3-numpy (Debian) and the hearsay package (docs/python.md).
"""
import argparse
import multiprocessing as mp
import os
import socket
import sys
import tempfile

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
PEERS = 4


def load_digits():
    data = np.loadtxt(os.path.join(HERE, "..", "data", "digits.csv"), delimiter=",",
                      skiprows=1, dtype=np.float32)
    y, x = data[:, 0].astype(np.int64), data[:, 1:] / 16.0
    rng = np.random.default_rng(0)
    order = rng.permutation(len(y))
    test, train = order[:360], order[360:]
    return x[train], y[train], x[test], y[test]


def make_model(torch):
    torch.manual_seed(0)  # the same initial weights on every peer
    return torch.nn.Sequential(
        torch.nn.Unflatten(1, (1, 8, 8)),
        torch.nn.Conv2d(1, 8, 3, padding=1), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
        torch.nn.Flatten(), torch.nn.Linear(8 * 4 * 4, 32), torch.nn.ReLU(),
        torch.nn.Linear(32, 10))


def accuracy(torch, model, x, y):
    with torch.no_grad():
        return float((model(torch.from_numpy(x)).argmax(1).numpy() == y).mean())


def peer(rank, experiment, queue):
    import torch

    import hearsay.torch
    torch.set_num_threads(1)
    x, y, x_test, y_test = load_digits()
    shard = np.arange(rank, len(y), PEERS)  # iid shards
    x, y = torch.from_numpy(x[shard]), torch.from_numpy(y[shard])
    model = make_model(torch)
    opt = hearsay.torch.GossipOptimizer(model.parameters(),
                                        torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9),
                                        experiment, rank=rank)
    gen = torch.Generator().manual_seed(rank)
    while not opt.finished:
        batch = torch.randint(0, len(y), (32,), generator=gen)
        opt.zero_grad()
        loss = torch.nn.functional.cross_entropy(model(x[batch]), y[batch])
        loss.backward()
        opt.step(loss.item())
    params = torch.nn.utils.parameters_to_vector(model.parameters()).detach().numpy()
    queue.put((rank, params, accuracy(torch, model, x_test, y_test)))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rounds", type=int, default=150, help="gossip rounds (default 150)")
    args = ap.parse_args()
    import torch

    # The experiment with this run's round count, next to its topology file. base_port: auto
    # is for `hearsay launch`; here the script picks free ports itself.
    workdir = tempfile.mkdtemp(prefix="hearsay_digits_")
    ports = []
    for _ in range(PEERS):
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        ports.append(s)
    topo = open(os.path.join(HERE, "digits_ring4.yaml")).read()
    nodes = "nodes:\n" + "".join(f"  - {{name: p{i}, port: {s.getsockname()[1]}}}\n"
                                 for i, s in enumerate(ports))
    for s in ports:
        s.close()
    topo = topo.replace("nodes: 4\nbase_port: auto\n", nodes)
    open(os.path.join(workdir, "digits_ring4.yaml"), "w").write(topo)
    exp = open(os.path.join(HERE, "digits.yaml")).read().replace(
        "rounds: 150", f"rounds: {args.rounds}")
    experiment = os.path.join(workdir, "digits.yaml")
    open(experiment, "w").write(exp)

    ctx = mp.get_context("spawn")
    queue = ctx.Queue()
    procs = [ctx.Process(target=peer, args=(r, experiment, queue)) for r in range(PEERS)]
    for p in procs:
        p.start()
    results = sorted(queue.get(timeout=600) for _ in range(PEERS))
    for p in procs:
        p.join()
    if any(p.exitcode != 0 for p in procs):
        sys.exit("a peer failed")
    _, _, x_test, y_test = load_digits()
    model = make_model(torch)
    avg = np.mean([params for _, params, _ in results], axis=0)
    torch.nn.utils.vector_to_parameters(torch.from_numpy(avg), model.parameters())
    for rank, _, acc in results:
        print(f"peer {rank}: held-out accuracy {acc:.3f}")
    print(f"average model: held-out accuracy {accuracy(torch, model, x_test, y_test):.3f}")


if __name__ == "__main__":
    main()
