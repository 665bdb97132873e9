"""The Python package: peers whose model lives in Python, over loopback TCP.

Four peers on threads of this interpreter (the binding releases the GIL while it blocks) train
f_i(x) = 0.5 ||x - b_i||^2 with one SGD step per round; the result must equal D-PSGD computed
here in numpy with the ring's Metropolis weights (1/3 each), up to float rounding.
"""
import math
import os
import socket
import threading

INIT_LOCK = threading.Lock()  # torch's generator is process-wide: seed and draw one at a time

import numpy as np
import pytest

import hearsay

N, D, ROUNDS, LR = 4, 16, 30, 0.2


def free_base(count):
    """A base port with `count` free ports after it, below the ephemeral range."""
    rng = np.random.default_rng(os.getpid())
    for _ in range(200):
        base = int(rng.integers(10000, 32000 - count))
        socks = []
        try:
            for p in range(base, base + count):
                s = socket.socket()
                socks.append(s)
                s.bind(("127.0.0.1", p))
            return base
        except OSError:
            continue
        finally:
            for s in socks:
                s.close()
    raise RuntimeError("no free port range")


def write_experiment(tmp_path, algorithm="dpsgd", extra=""):
    (tmp_path / "topo.yaml").write_text(
        f"nodes: {N}\nbase_port: {free_base(N)}\ngenerator: {{kind: ring}}\n"
        "weights: metropolis\n")
    exp = tmp_path / "exp.yaml"
    exp.write_text(f"topology: topo.yaml\nalgorithm: {algorithm}\nrounds: {ROUNDS}\n"
                   f"emulate: false\nconnect_timeout: 30\nround_timeout: 30\n{extra}")
    return str(exp)


def run_threads(body, errors):
    """body(i) for every rank on its own thread; the errors they recorded must all be None."""
    threads = [threading.Thread(target=body, args=(i,)) for i in range(N)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert not any(t.is_alive() for t in threads), "a peer thread hangs"
    assert errors == [None] * N, errors


def run_peers(exp, targets, x0, out_dir=""):
    finals, errors = [None] * N, [None] * N

    def body(i):
        try:
            x = x0.copy()
            peer = hearsay.Peer(exp, rank=i, x0=x, out_dir=out_dir)
            with pytest.raises(TypeError):  # float64 would be converted: the update lost
                peer.round(x.astype(np.float64))
            with pytest.raises(ValueError, match="the model has"):
                peer.round(np.zeros(D + 1, np.float32))
            while True:
                grad = x - targets[i]
                x -= np.float32(LR) * grad
                if not peer.round(x, float(0.5 * grad @ grad)):
                    break
            peer.close()
            finals[i] = x
        except Exception as e:  # reported by the test
            errors[i] = e

    run_threads(body, errors)
    return finals


def test_round_equals_dpsgd_in_numpy(tmp_path):
    rng = np.random.default_rng(1)
    targets = rng.normal(size=(N, D)).astype(np.float32)
    x0 = np.zeros(D, np.float32)
    finals = run_peers(write_experiment(tmp_path), targets, x0, out_dir=str(tmp_path / "out"))
    # D-PSGD: x_i <- sum_j W_ij x_j - lr (x_i - b_i), W = 1/3 on the ring and the diagonal.
    x = np.tile(x0.astype(np.float64), (N, 1))
    for _ in range(ROUNDS):
        mixed = (x + np.roll(x, 1, axis=0) + np.roll(x, -1, axis=0)) / 3
        x = mixed - LR * (x - targets)
    for i in range(N):
        np.testing.assert_allclose(finals[i], x[i], rtol=0, atol=1e-5)
    # Trained: every peer is near the consensus optimum, the mean of the targets.
    assert np.abs(np.mean(finals, axis=0) - targets.mean(axis=0)).max() < 0.05
    # The peers wrote their metrics like daemon peers.
    assert (tmp_path / "out" / "dpsgd" / "peer_0.jsonl").exists()


def test_compressed_algorithm_trains(tmp_path):
    rng = np.random.default_rng(2)
    targets = rng.normal(size=(N, D)).astype(np.float32)
    exp = write_experiment(tmp_path, "choco", 'compressor: "qsgd:4"\nconsensus_step: 0.5\n')
    finals = run_peers(exp, targets, np.zeros(D, np.float32))
    spread = max(np.abs(f - np.mean(finals, axis=0)).max() for f in finals)
    assert np.abs(np.mean(finals, axis=0) - targets.mean(axis=0)).max() < 0.2
    assert spread < 1.0


def test_bad_input_is_refused_with_the_reason(tmp_path):
    exp = write_experiment(tmp_path)
    with pytest.raises(ValueError, match="no run named 'nope'"):
        hearsay.Peer(exp, rank=0, run="nope", x0=np.zeros(3, np.float32))
    with pytest.raises(ValueError, match="rank 9 is not a node"):
        hearsay.Peer(exp, rank=9, x0=np.zeros(3, np.float32))
    with pytest.raises(ValueError, match="no such file|cannot open|not found|does not exist"):
        hearsay.Peer(str(tmp_path / "missing.yaml"), rank=0, x0=np.zeros(3, np.float32))


def test_rank_from_env(monkeypatch):
    for v in ("HEARSAY_RANK", "SLURM_PROCID", "OMPI_COMM_WORLD_RANK", "PMI_RANK"):
        monkeypatch.delenv(v, raising=False)
    with pytest.raises(ValueError, match="no rank"):
        hearsay.rank_from_env()
    monkeypatch.setenv("SLURM_PROCID", "3")
    assert hearsay.rank_from_env() == 3
    monkeypatch.setenv("PMI_RANK", "2")
    with pytest.raises(ValueError, match="disagree"):
        hearsay.rank_from_env()


def test_torch_gossip(tmp_path):
    torch = pytest.importorskip("torch")
    import hearsay.torch as ht

    exp = write_experiment(tmp_path, "dcd", 'compressor: "qsgd:8"\n')
    rng = np.random.default_rng(3)
    w_true = rng.normal(size=(5, 1)).astype(np.float32)
    data = []
    for i in range(N):
        xs = rng.normal(size=(64, 5)).astype(np.float32)
        data.append((torch.from_numpy(xs), torch.from_numpy(xs @ w_true)))
    results, errors = [None] * N, [None] * N

    def body(i):
        try:
            with INIT_LOCK:
                torch.manual_seed(0)  # the same initial weights on every rank
                model = torch.nn.Linear(5, 1, bias=False)
            opt = torch.optim.SGD(model.parameters(), lr=0.05)
            gossip = ht.Gossip(model.parameters(), exp, rank=i)
            first = None
            while True:
                xs, ys = data[i]
                opt.zero_grad()
                loss = torch.nn.functional.mse_loss(model(xs), ys)
                loss.backward()
                opt.step()
                first = loss.item() if first is None else first
                if not gossip.step(loss.item()):
                    break
            gossip.close()
            results[i] = (first, model.weight.detach().numpy().copy())
        except Exception as e:
            errors[i] = e

    run_threads(body, errors)
    for first, w in results:
        err = np.abs(w.T - w_true).max()
        assert err < 0.5 * np.abs(w_true).max(), (first, err)


def test_gossip_optimizer_wraps_an_inner_optimizer(tmp_path):
    torch = pytest.importorskip("torch")
    import hearsay.torch as ht

    exp = write_experiment(tmp_path, "dpsgd")
    rng = np.random.default_rng(4)
    targets = [torch.from_numpy(rng.normal(size=3).astype(np.float32)) for _ in range(N)]
    finals, errors = [None] * N, [None] * N

    def body(i):
        try:
            w = torch.nn.Parameter(torch.zeros(3))
            opt = ht.GossipOptimizer([w], torch.optim.SGD([w], lr=0.1), exp, rank=i,
                                     local_steps=2)
            steps = 0
            while not opt.finished:
                opt.zero_grad()
                loss = 0.5 * ((w - targets[i]) ** 2).sum()
                loss.backward()
                opt.step(loss.item())
                steps += 1
            finals[i] = (steps, w.detach().numpy().copy())
        except Exception as e:
            errors[i] = e

    run_threads(body, errors)
    mean_target = torch.stack(targets).mean(0).numpy()
    for steps, w in finals:
        assert steps == 2 * ROUNDS  # two inner steps per gossip round
        assert np.abs(w - mean_target).max() < 0.5


def test_digits_example_learns():
    pytest.importorskip("torch")
    import subprocess
    import sys

    root = os.environ.get("HEARSAY_SOURCE_DIR",
                          os.path.join(os.path.dirname(__file__), "..", ".."))
    out = subprocess.run([sys.executable, os.path.join(root, "examples/python/digits_torch.py"),
                          "--rounds", "60"], capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr[-2000:]
    line = [l for l in out.stdout.splitlines() if l.startswith("average model")][0]
    assert float(line.split()[-1]) > 0.85, out.stdout


def test_codec_round_trips_and_refuses_bad_bytes():
    x = np.random.default_rng(5).normal(size=1000).astype(np.float32)
    ident = hearsay.Codec("identity")
    data = ident.encode(x)
    np.testing.assert_array_equal(ident.decode(data, len(x)), x)
    q = hearsay.Codec("qsgd:8")
    assert q.unbiased and q.spec == "qsgd:8"
    data = q.encode(x, seed=1, peer=2, round=3)
    assert len(data) < len(x) * 4 / 3  # about 8 bits per element plus block scales
    assert data == q.encode(x, seed=1, peer=2, round=3)  # deterministic per key
    y = q.decode(data, len(x), seed=1, peer=2, round=3)
    assert np.abs(y - x).max() < 0.05 * np.abs(x).max()
    with pytest.raises((ValueError, RuntimeError)):
        q.decode(data[:-7], len(x))
    with pytest.raises(ValueError, match="qsgd:9"):
        hearsay.Codec("qsgd:9")
    with pytest.raises(TypeError):
        q.encode(x.astype(np.float64))


def test_load_topology(tmp_path):
    path = tmp_path / "ring.yaml"
    path.write_text("nodes: 6\ngenerator: {kind: ring}\nweights: metropolis\n")
    t = hearsay.load_topology(str(path))
    w = t["weights"]
    assert t["nodes"] == 6 and w.shape == (6, 6)
    np.testing.assert_allclose(w.sum(axis=1), 1.0)
    np.testing.assert_allclose(w, w.T)
    assert w[0, 1] == pytest.approx(1 / 3) and w[0, 3] == 0
    eig = np.sort(np.abs(np.linalg.eigvalsh(w)))
    assert t["spectral_gap"] == pytest.approx(1 - eig[-2], abs=1e-9)
    with pytest.raises(ValueError):
        hearsay.load_topology(str(tmp_path / "missing.yaml"))
