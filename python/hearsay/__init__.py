"""hearsay: decentralized gossip training for models that live in your program.

A run is described by an experiment file (algorithm, codec, rounds, topology file with the
peers' addresses) exactly as for ``hearsay launch``; each process (or thread) is one peer:

    import numpy as np, hearsay
    x = initial_model()                       # float32, the same on every peer
    peer = hearsay.Peer("exp.yaml", rank=hearsay.rank_from_env(), x0=x)
    while True:
        loss = local_steps(x)                  # your optimizer, in place on x
        if not peer.round(x, loss):            # gossip; x becomes the next start point
            break
    peer.close()

For PyTorch, ``hearsay.torch.Gossip`` does the flattening (see its docstring).
``hearsay.Codec("qsgd:8").encode(x)`` gives the exact bytes a peer would send for x, and
``hearsay.load_topology(path)`` a topology file's mixing matrix and spectral gap.
"""

import os

from ._hearsay import (BuiltinModel, Codec, Peer, __version__, load_topology,  # noqa: F401
                       report)

_RANK_VARIABLES = ("HEARSAY_RANK", "SLURM_PROCID", "OMPI_COMM_WORLD_RANK", "PMI_RANK")


def rank_from_env():
    """This process's rank from the launcher's environment (Slurm, Open MPI, MPICH, or
    HEARSAY_RANK). Raises ValueError when none is set or two disagree."""
    found = {v: os.environ[v] for v in _RANK_VARIABLES if v in os.environ}
    if not found:
        raise ValueError("no rank in the environment: set one of " + ", ".join(_RANK_VARIABLES))
    values = set(found.values())
    if len(values) > 1:
        raise ValueError("rank variables disagree: " +
                         ", ".join(f"{k}={v}" for k, v in sorted(found.items())))
    value = values.pop()
    try:
        rank = int(value)
    except ValueError:
        raise ValueError(f"rank {value!r} (from {', '.join(sorted(found))}) is not an integer")
    if rank < 0:
        raise ValueError(f"rank {rank} is negative")
    return rank
