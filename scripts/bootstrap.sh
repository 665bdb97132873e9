#!/usr/bin/env bash
# Installs the Debian packages hearsay needs, only those that are missing. Safe to re-run.
# Everything comes from Debian's archive; nothing is downloaded at build time.
#   bootstrap.sh        what building and testing need
#   bootstrap.sh --ci   also the CI tools: clang-14 + libFuzzer (make fuzz), clang-format
set -euo pipefail

packages=(
  g++ make cmake ninja-build pkg-config
  libboost-dev libboost-system-dev
  libprotobuf-dev protobuf-compiler
  libeigen3-dev libyaml-cpp-dev libcli11-dev libspdlog-dev libfmt-dev nlohmann-json3-dev
  libgtest-dev libgmock-dev libbenchmark-dev libsodium-dev libssl-dev
  python3-dev python3-numpy python3-pytest pybind11-dev
)
if [ "${1:-}" = "--ci" ]; then
  # openmpi-bin: the mpirun deployment test (tests/apps/deploy_test.sh skips without it).
  packages+=(clang-14 libfuzzer-14-dev clang-format openmpi-bin)
fi

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

echo "hearsay bootstrap: installing ${missing[*]}"
sudo=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then sudo="sudo"; else
    echo "hearsay bootstrap: missing packages (${missing[*]}) and not root; install them first" >&2
    exit 1
  fi
fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
