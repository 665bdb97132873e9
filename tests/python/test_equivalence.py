"""Python peers against the C++ runtime and against data-parallel SGD.

- The gradient form (Peer(gradient=True) + BuiltinModel) reproduces `hearsay launch
  --transport inproc` bit for bit: same final models, byte for byte.
- hearsay.torch on 4 in-process peers: all-reduce equals data-parallel SGD for any model; D-PSGD
  on the complete graph keeps the peers' average on the data-parallel SGD path when the peers'
  losses share their Hessian (in general it does not: each peer's gradient is taken at its own
  model, which differs from the average by lr times its gradient's deviation).
- The torch wrapper hands the C++ peer the parameters' own memory: no copy per round.
"""
import os
import subprocess
import threading

import numpy as np
import pytest

import hearsay

N = 4
# torch's default generator is process-wide: peers on threads seed it and draw their initial
# weights one at a time, so every rank gets the same ones.
INIT_LOCK = threading.Lock()
ROOT = os.environ.get("HEARSAY_SOURCE_DIR", os.path.join(os.path.dirname(__file__), "..", ".."))


def hearsay_binary():
    path = os.environ.get("HEARSAY_BINARY", os.path.join(ROOT, "build", "apps", "hearsay"))
    if not os.path.exists(path):
        pytest.skip(f"no hearsay executable at {path} (set HEARSAY_BINARY)")
    return path


def write_experiment(tmp_path, keys, rounds=20, topology="ring"):
    (tmp_path / "topo.yaml").write_text(
        f"nodes: {N}\nbase_port: 20000\ngenerator: {{kind: {topology}}}\nweights: metropolis\n")
    exp = tmp_path / "exp.yaml"
    exp.write_text("topology: topo.yaml\n"
                   "model: {kind: softmax, l2: 1.0e-4}\n"
                   "data: {kind: synthetic, samples: 800, features: 12, classes: 3, seed: 5}\n"
                   f"rounds: {rounds}\nbatch_size: 16\nseed: 9\neval_every: 10\n"
                   "lr: {kind: step, base: 0.2, decay: 0.5, step_every: 7}\n"
                   "emulate: false\nround_timeout: 60\n" + keys)
    return str(exp)


def on_threads(body):
    errors = [None] * N
    results = [None] * N

    def run(i):
        try:
            results[i] = body(i)
        except Exception as e:  # reported below
            errors[i] = e

    threads = [threading.Thread(target=run, args=(i,)) for i in range(N)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert not any(t.is_alive() for t in threads), "a peer thread hangs"
    assert errors == [None] * N, errors
    return results


@pytest.mark.parametrize("keys", [
    "algorithm: dpsgd\n",
    'algorithm: dcd\ncompressor: "qsgd:4"\n',
    'algorithm: choco\ncompressor: "topk:0.3"\nconsensus_step: 0.5\n',
    "algorithm: allreduce\n",
])
def test_gradient_form_is_bit_identical_to_launch(tmp_path, keys):
    exp = write_experiment(tmp_path, keys)
    out = tmp_path / "out"
    r = subprocess.run([hearsay_binary(), "launch", exp, "--transport", "inproc", "--out",
                        str(out)], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr[-2000:]

    def peer(i):
        model = hearsay.BuiltinModel(exp, rank=i)
        x = model.initial_model()
        g = np.empty_like(x)
        p = hearsay.Peer(exp, rank=i, x0=x, gradient=True, transport="inproc")
        while True:
            loss = model.loss_and_gradient(x, p.round_index, g)
            if not p.round_gradient(x, g, loss):
                break
        p.close()
        return x, model.initial_model()

    results = on_threads(peer)
    run_dirs = [d for d in out.iterdir() if d.is_dir()]  # OUT/<run name>/
    assert len(run_dirs) == 1, run_dirs
    for i, (x, x0) in enumerate(results):
        daemon = np.fromfile(run_dirs[0] / f"peer_{i}.final.f32", dtype=np.float32)
        assert daemon.shape == x.shape
        assert np.abs(daemon - x0).max() > 1e-2  # the run trained
        differing = int((daemon.view(np.uint32) != x.view(np.uint32)).sum())
        assert differing == 0, f"peer {i}: {differing} of {x.size} values differ"


def test_gradient_form_refuses_bad_input(tmp_path):
    exp = write_experiment(tmp_path, "algorithm: dpsgd\n", rounds=2)

    def peer(i):
        model = hearsay.BuiltinModel(exp, rank=i)
        x = model.initial_model()
        g = np.zeros_like(x)
        p = hearsay.Peer(exp, rank=i, x0=x, gradient=True, transport="inproc")
        with pytest.raises(RuntimeError, match="takes gradients"):
            p.round(x)
        with pytest.raises(TypeError):
            p.round_gradient(x, g.astype(np.float64))
        with pytest.raises(ValueError, match="g has 3 values; the model has"):
            p.round_gradient(x, np.zeros(3, np.float32))
        with pytest.raises(ValueError, match="g has"):
            model.loss_and_gradient(x, 1, np.zeros(3, np.float32))
        with pytest.raises(ValueError, match="round must be >= 1"):
            model.loss_and_gradient(x, 0, g)
        while p.round_gradient(x, g, 0.0):
            pass
        p.close()

    on_threads(peer)
    with pytest.raises(ValueError, match="transport must be 'tcp' or 'inproc'"):
        hearsay.Peer(exp, rank=0, x0=np.zeros(3, np.float32), transport="udp")


def torch_peers(exp, make_model, data, lr, **gossip_kw):
    """Every rank trains make_model() on data[i] with torch SGD through a GossipOptimizer on an
    in-process transport; returns the final parameter vectors."""
    torch = pytest.importorskip("torch")
    import hearsay.torch as ht

    def peer(i):
        with INIT_LOCK:
            torch.manual_seed(0)  # the same initial weights on every rank
            model = make_model()
        opt = ht.GossipOptimizer(model.parameters(), torch.optim.SGD(model.parameters(), lr=lr),
                                 exp, rank=i, transport="inproc", **gossip_kw)
        xs, ys = data[i]
        while not opt.finished:
            opt.zero_grad()
            loss = torch.nn.functional.mse_loss(model(xs), ys)
            loss.backward()
            opt.step(loss.item())
        return torch.nn.utils.parameters_to_vector(model.parameters()).detach().numpy().copy()

    return on_threads(peer)


def data_parallel_sgd(make_model, data, lr, rounds):
    """The reference: one model, each step the average of the peers' gradients."""
    import torch

    torch.manual_seed(0)
    model = make_model()
    params = list(model.parameters())
    for _ in range(rounds):
        grads = []
        for xs, ys in data:
            model.zero_grad()
            torch.nn.functional.mse_loss(model(xs), ys).backward()
            grads.append([p.grad.detach().clone() for p in params])
        with torch.no_grad():
            for k, p in enumerate(params):
                p -= lr * torch.stack([g[k] for g in grads]).mean(0)
    return torch.nn.utils.parameters_to_vector(params).detach().numpy()


def test_torch_allreduce_equals_data_parallel_sgd(tmp_path):
    torch = pytest.importorskip("torch")
    torch.set_num_threads(1)
    rounds, lr = 25, 0.1
    exp = write_experiment(tmp_path, "algorithm: allreduce\n", rounds=rounds)
    gen = torch.Generator().manual_seed(1)
    data = [(torch.randn(32, 6, generator=gen), torch.randn(32, 2, generator=gen))
            for _ in range(N)]

    def mlp():
        return torch.nn.Sequential(torch.nn.Linear(6, 16), torch.nn.Tanh(), torch.nn.Linear(16, 2))

    finals = torch_peers(exp, mlp, data, lr)
    ref = data_parallel_sgd(mlp, data, lr, rounds)
    torch.manual_seed(0)
    x0 = torch.nn.utils.parameters_to_vector(mlp().parameters()).detach().numpy()
    assert np.abs(ref - x0).max() > 0.05  # it trained
    for f in finals:
        np.testing.assert_allclose(f, ref, rtol=0, atol=2e-5)


def test_torch_dpsgd_complete_graph_follows_data_parallel_sgd(tmp_path):
    torch = pytest.importorskip("torch")
    torch.set_num_threads(1)
    rounds, lr = 30, 0.1
    exp = write_experiment(tmp_path, "algorithm: dpsgd\n", rounds=rounds, topology="complete")
    # Shared features, each peer its own targets: the losses share their Hessian, so the average
    # of the peers' gradients (each at its own model) is the gradient at the average model.
    gen = torch.Generator().manual_seed(2)
    xs = torch.randn(40, 5, generator=gen)
    data = [(xs, xs @ torch.randn(5, 1, generator=gen)) for _ in range(N)]

    def linear():
        return torch.nn.Linear(5, 1)

    finals = np.array(torch_peers(exp, linear, data, lr))
    ref = data_parallel_sgd(linear, data, lr, rounds)
    assert np.abs(finals - finals.mean(0)).max() > 1e-3  # the peers differ: not all-reduce
    np.testing.assert_allclose(finals.mean(0), ref, rtol=0, atol=1e-5)


def test_torch_gossip_hands_over_the_parameters_memory(tmp_path):
    torch = pytest.importorskip("torch")
    import hearsay.torch as ht

    exp = write_experiment(tmp_path, "algorithm: dpsgd\n", rounds=5)
    finals = {}
    for zero_copy in (True, False):
        def peer(i):
            with INIT_LOCK:
                torch.manual_seed(0)
                model = torch.nn.Sequential(torch.nn.Linear(4, 3), torch.nn.ReLU(),
                                            torch.nn.Linear(3, 1))
            params = list(model.parameters())
            gossip = ht.Gossip(params, exp, rank=i, transport="inproc", zero_copy=zero_copy)
            ptrs = [p.data_ptr() for p in params]
            if zero_copy:
                assert gossip.copies_per_round == 0
                flat = gossip.flat
                # Every parameter is a view of the flat buffer, and the peer's buffer is it too.
                assert gossip._x.ctypes.data == flat.data_ptr()
                offset = 0
                for p in params:
                    assert p.data_ptr() == flat.data_ptr() + 4 * offset
                    offset += p.numel()
            else:
                assert gossip.copies_per_round == 2 and gossip.flat is None
            opt = torch.optim.SGD(params, lr=0.05)
            xs = torch.full((8, 4), float(i))
            while True:
                opt.zero_grad()
                loss = model(xs).pow(2).mean()
                loss.backward()
                opt.step()
                if not gossip.step(loss.item()):
                    break
                if zero_copy:
                    assert [p.data_ptr() for p in params] == ptrs  # still the same memory
            gossip.close()
            return torch.nn.utils.parameters_to_vector(params).detach().numpy().copy()

        finals[zero_copy] = on_threads(peer)
    for a, b in zip(finals[True], finals[False]):
        np.testing.assert_array_equal(a, b)  # the same run either way
