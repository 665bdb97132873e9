#!/usr/bin/env bash
# Runs each libFuzzer target for a bounded time under ASan+UBSan and prints the executions
# reached. Usage: fuzz/run.sh BUILD_DIR SECONDS TARGET...
# New corpus units go to BUILD_DIR/corpus/<target> (not into the repository); fuzz/corpus/<target>
# is the checked-in seed corpus, read only. A crash leaves BUILD_DIR/crash-<target>-* and fails.
set -euo pipefail
build=$1
seconds=$2
shift 2
here=$(cd "$(dirname "$0")" && pwd)
failed=0
for t in "$@"; do
  mkdir -p "$build/corpus/$t"
  seeds="$here/corpus/$t"
  [ -d "$seeds" ] || seeds=""
  log="$build/fuzz-$t.log"
  echo "== $t: ${seconds} s under ASan+UBSan"
  # -timeout: an input running 10 s is a hang; -rss_limit_mb: a blow-up is a failure.
  if ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
    "$build/fuzz/$t" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
    -print_final_stats=1 -artifact_prefix="$build/crash-$t-" \
    "$build/corpus/$t" $seeds >"$log" 2>&1; then
    execs=$(grep -m1 '^stat::number_of_executed_units' "$log" | awk '{print $2}')
    echo "   ok: ${execs:-?} executions, 0 crashes (log: $log)"
  else
    echo "   FAILED (log: $log):"
    grep -E "ERROR|SUMMARY|Test unit written" "$log" | head -5 | sed 's/^/   /'
    failed=1
  fi
done
exit $failed
