"""hearsay.report: the launch's evaluation and result files for a model only Python can evaluate,
and the character-level transformer example (a short smoke run, when torch is importable)."""
import csv
import os
import subprocess
import sys
import threading

import numpy as np
import pytest

import hearsay

N, D, ROUNDS = 4, 8, 30
ROOT = os.environ.get("HEARSAY_SOURCE_DIR", os.path.join(os.path.dirname(__file__), "..", ".."))


def run_numpy_peers(tmp_path):
    (tmp_path / "topo.yaml").write_text(
        f"nodes: {N}\nbase_port: 20000\ngenerator: {{kind: ring}}\nweights: metropolis\n")
    exp = tmp_path / "exp.yaml"
    exp.write_text(f"topology: topo.yaml\nalgorithm: dpsgd\nrounds: {ROUNDS}\n"
                   "eval_every: 10\nemulate: false\nround_timeout: 60\n")
    targets = np.random.default_rng(0).normal(size=(N, D)).astype(np.float32)
    out = tmp_path / "out"
    errors = [None] * N

    def body(i):
        try:
            x = np.zeros(D, np.float32)
            p = hearsay.Peer(str(exp), rank=i, x0=x, transport="inproc", out_dir=str(out))
            while True:
                g = x - targets[i]
                x -= np.float32(0.2) * g
                if not p.round(x, float(0.5 * g @ g)):
                    break
            p.close()
        except Exception as e:
            errors[i] = e

    threads = [threading.Thread(target=body, args=(i,)) for i in range(N)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert errors == [None] * N, errors
    return str(exp), out, targets


def test_report_evaluates_the_average_model_like_launch(tmp_path):
    exp, out, targets = run_numpy_peers(tmp_path)
    seen = []

    def evaluate(x):  # the loss of the average model on the union of the peers' objectives
        seen.append(np.array(x))
        train = float(np.mean([0.5 * np.sum((x - t) ** 2) for t in targets]))
        return train, 2 * train, float(np.abs(x - targets.mean(0)).max() < 0.1)

    r = hearsay.report(str(out), exp, evaluate, np.zeros(D, np.float32))
    assert r["run"] == "dpsgd" and r["status"] == "ok" and r["peers_alive"] == N
    rounds = [p["round"] for p in r["curve"]]
    assert rounds == [0, 10, 20, 30]
    # Each point is the average of the peers' snapshots of that round, evaluated once.
    run_dir = out / "dpsgd"
    for p, x in zip(r["curve"][1:], seen[1:]):
        snaps = [np.fromfile(run_dir / f"snap_r{p['round']}_p{i}.f32", np.float32)
                 for i in range(N)]
        np.testing.assert_allclose(x, np.mean(snaps, axis=0), rtol=0, atol=1e-6)
        assert p["consensus"] == pytest.approx(
            np.mean([np.sum((s - np.mean(snaps, axis=0)) ** 2) for s in snaps]), rel=1e-4)
        assert p["test_loss"] == pytest.approx(2 * p["train_loss"])
        assert p["wall_s"] > 0 and p["mb_sent_per_peer"] > 0
    assert len(seen) == len(rounds)
    optimum = evaluate(targets.mean(0))[0]
    seen.pop()
    assert r["curve"][0]["train_loss"] > optimum + 0.3  # it trained, to the optimum
    assert r["curve"][-1]["train_loss"] < optimum + 0.01
    assert r["curve"][-1]["accuracy"] == 1.0
    with open(out / "summary.csv") as f:
        rows = list(csv.DictReader(f))
    assert [row["run"] for row in rows] == ["dpsgd"] and rows[0]["rounds"] == str(ROUNDS)
    assert float(rows[0]["final_loss"]) == pytest.approx(r["curve"][-1]["train_loss"], rel=1e-6)
    for name in ("curves.csv", "loss_vs_rounds.svg", "dpsgd/eval.jsonl"):
        assert (out / name).stat().st_size > 0, name


def test_report_refuses_bad_input_and_passes_python_errors_on(tmp_path):
    exp, out, _ = run_numpy_peers(tmp_path)
    x0 = np.zeros(D, np.float32)

    def boom(x):
        raise KeyError("inside evaluate")

    with pytest.raises(KeyError, match="inside evaluate"):
        hearsay.report(str(out), exp, boom, x0)
    with pytest.raises(TypeError, match="must return"):
        hearsay.report(str(out), exp, lambda x: "no", x0)
    with pytest.raises(ValueError, match="no peer files"):
        hearsay.report(str(tmp_path / "empty"), exp, lambda x: (0, 0, 0), x0)
    with pytest.raises(ValueError, match="32 bytes, expected 36"):
        hearsay.report(str(out), exp, lambda x: (0, 0, 0), np.zeros(D + 1, np.float32))


def test_char_transformer_example_runs_and_learns(tmp_path):
    pytest.importorskip("torch")
    out = tmp_path / "out"
    r = subprocess.run([sys.executable, os.path.join(ROOT, "examples/python/char_transformer.py"),
                        "--rounds", "8", "--out", str(out)],
                       capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-2000:]
    with open(out / "curves.csv") as f:
        curve = list(csv.DictReader(f))
    assert [int(row["round"]) for row in curve] == [0, 8]
    first, last = (float(row["test_loss"]) for row in (curve[0], curve[-1]))
    assert first == pytest.approx(np.log(96), abs=0.3)  # uniform over the symbols at the start
    assert last < first - 0.3, r.stdout  # 16 AdamW steps per peer already help
    assert "perplexity" in r.stdout and (out / "loss_vs_rounds.svg").exists()
