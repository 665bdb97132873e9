"""hearsay for PyTorch: gossip a model's parameters after your optimizer's steps.

    model = Net(); torch.manual_seed(0)       # the same initial weights on every rank
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    gossip = hearsay.torch.Gossip(model.parameters(), "exp.yaml", rank=rank)
    while True:
        for _ in range(local_steps):           # your inner loop, your optimizer
            opt.zero_grad(); loss = loss_fn(model(x), y); loss.backward(); opt.step()
        if not gossip.step(loss.item()):       # parameters become the next start point
            break
    gossip.close()

The run's algorithm (dpsgd, dcd, ecd, choco or allreduce), codec, topology and rounds come from
the experiment file; its ``outer_optimizer`` (sgd with lr 1 by default, or nesterov for
DiLoCo-style runs) is applied to the change your steps made. Parameters may live on any device;
they are copied through host memory each round.
"""

import numpy as np
import torch
from torch.nn.utils import parameters_to_vector, vector_to_parameters

from ._hearsay import Peer


class Gossip:
    def __init__(self, parameters, experiment, rank, run=None, out_dir=""):
        self._params = [p for p in parameters]
        if not self._params:
            raise ValueError("no parameters to gossip")
        with torch.no_grad():
            x0 = parameters_to_vector(self._params).detach().to("cpu", torch.float32).numpy()
        self._x = np.ascontiguousarray(x0, dtype=np.float32).copy()
        self.peer = Peer(experiment, rank, run=run, x0=self._x, out_dir=out_dir)

    def step(self, loss=float("nan")):
        """One round: gossip the parameters as they are now; returns False at the end of the run
        (the parameters then hold the final model)."""
        with torch.no_grad():
            flat = parameters_to_vector(self._params).detach().to("cpu", torch.float32)
            self._x[:] = flat.numpy()
            more = self.peer.round(self._x, float(loss))
            vector_to_parameters(
                torch.from_numpy(self._x).to(self._params[0].device, self._params[0].dtype),
                self._params)
        return more

    @property
    def round_index(self):
        return self.peer.round_index

    def close(self):
        self.peer.close()


class GossipOptimizer:
    """An inner optimizer whose parameters are gossiped every ``local_steps`` of its steps.

        inner = torch.optim.AdamW(model.parameters(), lr=1e-3)
        opt = hearsay.torch.GossipOptimizer(model.parameters(), inner, experiment="exp.yaml",
                                            rank=rank, local_steps=4)
        while not opt.finished:
            opt.zero_grad(); loss = loss_fn(model(x), y); loss.backward(); opt.step(loss.item())

    ``step`` runs the inner optimizer's step, and after every ``local_steps`` of them one gossip
    round (``Gossip.step``). ``finished`` turns True once the run's rounds are done; the
    parameters then hold the final model.
    """

    def __init__(self, params, inner_optimizer, experiment, rank, local_steps=1, run=None,
                 out_dir=""):
        if local_steps < 1:
            raise ValueError(f"local_steps must be >= 1, not {local_steps}")
        self.inner = inner_optimizer
        self.local_steps = int(local_steps)
        self.gossip = Gossip(params, experiment, rank, run=run, out_dir=out_dir)
        self.finished = False
        self._steps = 0

    def zero_grad(self, set_to_none=True):
        self.inner.zero_grad(set_to_none=set_to_none)

    def step(self, loss=float("nan")):
        if self.finished:
            raise RuntimeError("the run has ended: no more steps")
        self.inner.step()
        self._steps += 1
        if self._steps % self.local_steps == 0:
            self.finished = not self.gossip.step(loss)
            if self.finished:
                self.gossip.close()
        return self.finished

    @property
    def param_groups(self):
        return self.inner.param_groups
