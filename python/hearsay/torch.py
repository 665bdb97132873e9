"""hearsay for PyTorch: gossip a model's parameters after your optimizer's steps.

    model = Net(); torch.manual_seed(0)       # the same initial weights on every rank
    gossip = hearsay.torch.Gossip(model.parameters(), "exp.yaml", rank=rank)
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    while True:
        for _ in range(local_steps):           # your inner loop, your optimizer
            opt.zero_grad(); loss = loss_fn(model(x), y); loss.backward(); opt.step()
        if not gossip.step(loss.item()):       # parameters become the next start point
            break
    gossip.close()

The run's algorithm (dpsgd, dcd, ecd, choco or allreduce), codec, topology and rounds come from
the experiment file; its ``outer_optimizer`` (sgd with lr 1 by default, or nesterov for
DiLoCo-style runs) is applied to the change your steps made.

No copies: when the parameters are float32 on one device, Gossip moves them once, at the start,
into one flat buffer and makes each parameter a view of its slice (``param.data`` re-pointed;
the Parameter objects, and so your optimizer's references to them, stay the same). On the CPU the
C++ peer then reads and writes that buffer in place each round (``copies_per_round == 0``); CUDA
parameters are staged through one pinned host buffer (one copy each way). Other parameter sets
(mixed dtypes or devices) are gathered and scattered each round (2 copies on the CPU, 4 with a
device). If something
re-points a parameter later (``model.to(...)``, assigning ``param.data``), the next step notices
and moves it back into the buffer.
"""

import warnings

import torch
from torch.nn.utils import parameters_to_vector, vector_to_parameters

from ._hearsay import Peer


class Gossip:
    """Gossips ``parameters`` (an iterable of tensors) through a hearsay peer; see the module
    docstring. ``transport="inproc"`` runs peers on threads of one process without sockets;
    ``zero_copy=False`` forces the gather/scatter path (for comparisons)."""

    def __init__(self, parameters, experiment, rank, run=None, out_dir="", transport="tcp",
                 zero_copy=True):
        self._params = [p for p in parameters]
        if not self._params:
            raise ValueError("no parameters to gossip")
        device = self._params[0].device
        self._views = zero_copy and all(
            p.dtype == torch.float32 and p.device == device for p in self._params)
        self._staged = self._views and device.type != "cpu"
        with torch.no_grad():
            if self._views:
                self._flat = self._flatten(device)
                # The buffer the C++ peer reads and writes: the flat buffer itself on the CPU,
                # a pinned host copy of it otherwise.
                self._host = (torch.empty(self._flat.numel(), dtype=torch.float32,
                                          pin_memory=torch.cuda.is_available())
                              if self._staged else self._flat)
                if self._staged:
                    self._host.copy_(self._flat)
            else:
                self._host = parameters_to_vector(self._params).detach().to("cpu", torch.float32)
        self._x = self._host.numpy()  # shares memory with self._host
        # Model-sized copies each round: none on the CPU, the two staging copies on a GPU; the
        # gather/scatter path copies into a new vector and from it into the peer's buffer (and
        # to and from the device where the parameters are elsewhere); the scatter re-points the
        # parameters into that buffer (vector_to_parameters), which copies nothing.
        if self._views:
            self.copies_per_round = 2 if self._staged else 0
        else:
            on_cpu = all(p.device.type == "cpu" and p.dtype == torch.float32
                         for p in self._params)
            self.copies_per_round = 2 if on_cpu else 4
        self.peer = Peer(experiment, rank, run=run, x0=self._x, out_dir=out_dir,
                         transport=transport)

    def _flatten(self, device):
        """One flat float32 buffer on `device` holding the parameters, which become views of it."""
        flat = torch.empty(sum(p.numel() for p in self._params), dtype=torch.float32,
                           device=device)
        offset = 0
        for p in self._params:
            n = p.numel()
            flat[offset:offset + n].copy_(p.detach().reshape(-1))
            p.data = flat[offset:offset + n].view_as(p)
            offset += n
        self._ptrs = [p.data_ptr() for p in self._params]
        return flat

    def _check_views(self):
        if [p.data_ptr() for p in self._params] == self._ptrs:
            return
        device = self._params[0].device
        if any(p.dtype != torch.float32 or p.device != device for p in self._params):
            raise RuntimeError("a gossiped parameter changed dtype or device during the run")
        warnings.warn("hearsay.torch.Gossip: a parameter was re-pointed (model.to(), "
                      "param.data = ...); moving the parameters back into the flat buffer")
        self._flat = self._flatten(device)
        if not self._staged:
            self._host = self._flat
            self._x = self._host.numpy()

    def step(self, loss=float("nan")):
        """One round: gossip the parameters as they are now; returns False at the end of the run
        (the parameters then hold the final model)."""
        with torch.no_grad():
            if self._views:
                self._check_views()
                if self._staged:
                    self._host.copy_(self._flat)
                more = self.peer.round(self._x, float(loss))
                if self._staged:
                    self._flat.copy_(self._host)
            else:
                self._host.copy_(parameters_to_vector(self._params).detach().to("cpu"))
                more = self.peer.round(self._x, float(loss))
                first = self._params[0]
                vector_to_parameters(self._host.to(first.device, first.dtype), self._params)
        return more

    @property
    def flat(self):
        """The flat buffer the parameters are views of (None on the gather/scatter path)."""
        return self._flat if self._views else None

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
                 out_dir="", transport="tcp", zero_copy=True):
        if local_steps < 1:
            raise ValueError(f"local_steps must be >= 1, not {local_steps}")
        self.inner = inner_optimizer
        self.local_steps = int(local_steps)
        self.gossip = Gossip(params, experiment, rank, run=run, out_dir=out_dir,
                             transport=transport, zero_copy=zero_copy)
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
