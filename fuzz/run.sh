#!/usr/bin/env bash
# Runs libFuzzer (clang, ASan + UBSan) on the parsers of untrusted input, one target after
# another (one core), each for a time or a number of runs, from its committed seed corpus
# plus a scratch corpus, with an artifact directory of its own that starts empty. Prints each
# target's executions, rate and coverage (libFuzzer's edges and features). Exits non-zero if
# any target found anything — a crash or sanitizer report, a leak, a timeout, running out of
# memory — or exited non-zero; the inputs are left in <build>/fuzz-findings/<target>/.
#
#   fuzz/run.sh [--time SECONDS | --runs N] [--build DIR] [TARGET...]
#
# TARGET: model csv idx gunzip (all by default). --time 60 by default; --build build-fuzz.
# New inputs go to the scratch corpus, which is removed: the repository's corpus only grows
# by hand, with the inputs that found a bug (ctest replays it).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
limit=-max_total_time=60
build=$root/build-fuzz
targets=()
while [ $# -gt 0 ]; do
  case $1 in
    --time) limit=-max_total_time=$2; shift 2 ;;
    --runs) limit=-runs=$2; shift 2 ;;
    --build) build=$2; shift 2 ;;
    -h | --help) sed -n '2,13p' "$0"; exit 0 ;;
    -*) echo "fuzz/run.sh: unknown option $1" >&2; exit 2 ;;
    *) targets+=("$1"); shift ;;
  esac
done
[ ${#targets[@]} -gt 0 ] || targets=(model csv idx gunzip)

CC=clang cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DNN_FUZZ=ON \
  -DNN_BUILD_TESTS=OFF -DNN_BUILD_EXAMPLES=OFF -DNN_BUILD_BENCH=OFF -DNN_INSTALL=OFF >/dev/null
cmake --build "$build" -j2 --target "${targets[@]/#/fuzz_}" >/dev/null

findings=$build/fuzz-findings
rm -rf "$findings"
work=$(mktemp -d "${TMPDIR:-/tmp}/nn-fuzz.XXXXXX")
trap 'rm -rf "$work"' EXIT
failed=0
for target in "${targets[@]}"; do
  seeds=$root/fuzz/corpus/$target
  [ -d "$seeds" ] || { echo "fuzz/run.sh: no corpus $seeds" >&2; exit 2; }
  rm -rf "$work/corpus" "$work/artifacts"
  mkdir "$work/corpus" "$work/artifacts"
  # A few KiB of deflate can inflate to megabytes: shorter gzip inputs keep the rate up.
  max_len=65536
  [ "$target" = gunzip ] && max_len=8192
  # A parse that takes 10 s, or 2 GiB, is a finding as much as a crash is.
  start=$(date +%s.%N)
  status=0
  "$build/fuzz/fuzz_$target" "$limit" -max_len=$max_len -timeout=10 -rss_limit_mb=2048 \
    -malloc_limit_mb=2048 -print_final_stats=1 -artifact_prefix="$work/artifacts/" \
    "$work/corpus" "$seeds" >"$work/log" 2>&1 || status=$?
  seconds=$(awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN { print b - a }')
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$work/log")
  coverage=$(grep -Eo 'cov: [0-9]+ ft: [0-9]+' "$work/log" | tail -n 1 || true)
  printf 'fuzz_%s: %s executions in %.0f s (%.0f/s), %s edges, %s features, %s new inputs\n' \
    "$target" "${execs:-?}" "$seconds" "$(awk -v n="${execs:-0}" -v s="$seconds" 'BEGIN { print n / s }')" \
    "$(echo "$coverage" | awk '{print $2}')" "$(echo "$coverage" | awk '{print $4}')" \
    "$(ls "$work/corpus" | wc -l)"
  if [ "$status" -ne 0 ] || [ -n "$(ls -A "$work/artifacts")" ]; then
    failed=1
    mkdir -p "$findings/$target"
    cp "$work/log" "$findings/$target/log"
    cp -r "$work/artifacts/." "$findings/$target/"
    echo "fuzz_$target FAILED (exit status $status); its report:"
    grep -E -A 30 '^==[0-9]+==ERROR|^SUMMARY|runtime error|ERROR: libFuzzer' "$work/log" | head -n 60
    echo "inputs and the whole log: $findings/$target/"
  fi
done
exit $failed
