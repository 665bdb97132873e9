"""Per-round cost of hearsay.torch.Gossip with and without the zero-copy path.

Two peers on threads of this process (in-process transport, D-PSGD on the complete graph, no
emulation) gossip a model of P float32 parameters (one Linear layer) for R rounds, once with the
parameters as views of the buffer the C++ peer works on (zero_copy=True, the default) and once
gathering and scattering them each round (zero_copy=False, how hearsay.torch worked before).
Prints the model-sized copies per round and the median wall time of Gossip.step, both modes
measured in the same run. Usage:
    PYTHONPATH=build/python python3 examples/python/zero_copy_bench.py [--params P] [--rounds R]
"""
import argparse
import os
import statistics
import tempfile
import threading
import time

import torch

import hearsay.torch as ht


def run(exp, params, rounds, zero_copy):
    times = [[], []]
    errors = []

    def peer(i):
        try:
            layer = torch.nn.Linear(params // 1000, 1000, bias=False)
            with torch.no_grad():
                layer.weight.fill_(0.5)  # the same initial model on both peers
            gossip = ht.Gossip(layer.parameters(), exp, rank=i, transport="inproc",
                               zero_copy=zero_copy)
            while True:
                with torch.no_grad():
                    layer.weight.mul_(0.999)  # stands for the local step
                t0 = time.perf_counter()
                more = gossip.step(0.0)
                times[i].append(time.perf_counter() - t0)
                if not more:
                    break
            gossip.close()
            run.copies = gossip.copies_per_round
        except Exception as e:
            errors.append(e)

    threads = [threading.Thread(target=peer, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise errors[0]
    return run.copies, statistics.median(times[0][1:] + times[1][1:])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--params", type=int, default=4_000_000)
    ap.add_argument("--rounds", type=int, default=30)
    a = ap.parse_args()
    torch.set_num_threads(1)
    with tempfile.TemporaryDirectory() as d:
        with open(os.path.join(d, "topo.yaml"), "w") as f:
            f.write("nodes: 2\nbase_port: 20000\ngenerator: {kind: complete}\n"
                    "weights: metropolis\n")
        exp = os.path.join(d, "exp.yaml")
        with open(exp, "w") as f:
            f.write(f"topology: topo.yaml\nalgorithm: dpsgd\nrounds: {a.rounds}\n"
                    "emulate: false\nround_timeout: 120\n")
        print(f"{a.params} parameters ({a.params * 4 / 1e6:.0f} MB), 2 peers, {a.rounds} rounds")
        print(f"{'mode':<22}{'copies/round':>14}{'median step (ms)':>18}")
        results = {}
        for zero_copy in (False, True):
            copies, t = run(exp, a.params, a.rounds, zero_copy)
            results[zero_copy] = t
            name = "views (zero_copy)" if zero_copy else "gather/scatter"
            print(f"{name:<22}{copies:>14}{t * 1e3:>18.2f}")
        print(f"ratio gather/scatter : views = {results[False] / results[True]:.2f}")


if __name__ == "__main__":
    main()
