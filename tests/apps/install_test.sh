#!/usr/bin/env bash
# `cmake --install` into a temporary prefix; the installed hearsay runs an experiment from any
# folder, the installed Python package imports, and a project outside the tree
# (tests/apps/consumer) finds the C++ package with find_package(hearsay), builds against it and
# runs (topology, codecs, two embedded peers; it checks the values itself).
# Usage: install_test.sh BUILD_DIR SOURCE_DIR
set -u
build=$1
src=$2
prefix=$(mktemp -d)
trap 'rm -rf "$prefix"' EXIT
fails=0
check() {  # check NAME COMMAND...
  local name=$1
  shift
  if "$@" >"$prefix/out.txt" 2>&1; then
    echo "ok   $name"
  else
    echo "FAIL $name"; head -5 "$prefix/out.txt"; fails=$((fails + 1))
  fi
}
check install cmake --install "$build" --prefix "$prefix"
check binary test -x "$prefix/bin/hearsay"
check version bash -c "'$prefix/bin/hearsay' --version | grep -q hearsay"
check docs test -f "$prefix/share/doc/hearsay/docs/python.md"
check license test -f "$prefix/share/doc/hearsay/LICENSE"
if [ -f "$build/runtime/cuda/libhearsay_cuda.so" ] || ls "$build"/apps/libhearsay_cuda.so >/dev/null 2>&1; then
  check cuda-plugin test -f "$prefix/bin/libhearsay_cuda.so"
fi
# The installed binary runs the installed example from another folder.
cp -r "$prefix/share/doc/hearsay/examples" "$prefix/ex"
check simulate bash -c "cd / && '$prefix/bin/hearsay' simulate '$prefix/ex/demo.yaml' \
  --run dcd-qsgd8 --out '$prefix/sim' | grep -q dcd-qsgd8"
pkg=$(find "$prefix" -name _hearsay*.so -printf '%h\n' | head -1)
if [ -n "$pkg" ]; then
  check python bash -c "cd / && PYTHONPATH='$(dirname "$pkg")' /usr/bin/python3 -c \
    'import hearsay; assert hearsay.Codec(\"qsgd:8\").spec == \"qsgd:8\"; print(hearsay.__version__)'"
fi
# find_package(hearsay): the package files, the headers at the paths the code includes, and the
# consumer configured with the build's compiler (one .cc: a few seconds).
check cmake-package test -f "$prefix/lib/cmake/hearsay/hearsayConfig.cmake"
check cmake-version test -f "$prefix/lib/cmake/hearsay/hearsayConfigVersion.cmake"
check headers test -f "$prefix/include/hearsay/runtime/peer/embedded_peer.h"
check libraries test -f "$prefix/lib/libhearsay_peer.a"
cxx=$(sed -n 's/^CMAKE_CXX_COMPILER:[A-Z]*=//p' "$build/CMakeCache.txt")
gen=()
command -v ninja >/dev/null && gen=(-G Ninja)
mkdir -p "$prefix/work"
check consumer-configure cmake -S "$src/tests/apps/consumer" -B "$prefix/consumer" "${gen[@]}" \
  -DCMAKE_BUILD_TYPE=Release -DCMAKE_PREFIX_PATH="$prefix" ${cxx:+-DCMAKE_CXX_COMPILER="$cxx"}
check consumer-build cmake --build "$prefix/consumer"
check consumer-run bash -c "'$prefix/consumer/consumer' '$prefix/work' | tee /dev/stderr | \
  grep -qx 'consumer ok'"
echo "$fails failed"
[ "$fails" -eq 0 ]
