#!/usr/bin/env bash
# `pip install .` of the Python package (pyproject.toml + setup.py), offline and without build
# isolation, into a temporary folder, reusing this build folder (HEARSAY_CMAKE_BUILD_DIR: only
# _hearsay is brought up to date, so the test takes seconds); then a fresh interpreter imports
# the installed copy from there and round-trips a vector through a codec and loads a topology.
# Exit 77 (ctest SKIP) when pip, setuptools or wheel is missing.
# Usage: pip_install_test.sh PYTHON BUILD_DIR SOURCE_DIR
set -u
python=$1
build=$2
src=$3
if ! "$python" -m pip --version >/dev/null 2>&1 ||
  ! "$python" -c 'import setuptools, wheel' >/dev/null 2>&1; then
  echo "SKIP: $python has no pip, setuptools or wheel"
  exit 77
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
if ! HEARSAY_CMAKE_BUILD_DIR=$build "$python" -m pip install --no-build-isolation --no-deps \
  --no-index --no-cache-dir --target "$tmp/site" "$src" >"$tmp/pip.log" 2>&1; then
  echo "FAIL pip install"; tail -20 "$tmp/pip.log"; exit 1
fi
ls "$tmp/site/hearsay"
cd "$tmp" && env -u PYTHONPATH PYTHONPATH="$tmp/site" "$python" - "$tmp/site" <<'PY'
import os, sys
import numpy as np
import hearsay

site = sys.argv[1]
assert hearsay.__file__.startswith(site), hearsay.__file__  # the installed copy, not the build's
assert hearsay._hearsay.__file__.startswith(site), hearsay._hearsay.__file__
assert hearsay.__version__ == "0.1.0", hearsay.__version__
x = np.linspace(-1, 1, 513, dtype=np.float32)
c = hearsay.Codec("qsgd:8")
y = c.decode(c.encode(x, seed=3), len(x), seed=3)
err = float(np.abs(y - x).max())
assert 0 < err < 0.01, err
np.testing.assert_array_equal(hearsay.Codec("identity").decode(hearsay.Codec("identity").encode(x), len(x)), x)
with open("ring.yaml", "w") as f:
    f.write("nodes: 5\ngenerator: {kind: ring}\nweights: metropolis\n")
t = hearsay.load_topology("ring.yaml")
assert t["nodes"] == 5 and abs(t["weights"][0, 1] - 1 / 3) < 1e-12, t
print(f"installed hearsay {hearsay.__version__} from {site}: qsgd:8 max error {err:.4f}")
PY
