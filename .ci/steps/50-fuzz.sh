#!/usr/bin/env bash
# libFuzzer (clang, ASan + UBSan) on every parser of untrusted input, each for a bounded time
# from its committed seed corpus. A crash, leak or sanitizer report fails CI and leaves the
# input as crash-* in the build directory. New inputs go to a scratch corpus, not the repo.
# NN_FUZZ_SECONDS sets the time per target (default 45).
set -euo pipefail
seconds=${NN_FUZZ_SECONDS:-45}
CC=clang cmake -S . -B build-fuzz -DCMAKE_BUILD_TYPE=RelWithDebInfo -DNN_FUZZ=ON \
  -DNN_BUILD_TESTS=OFF -DNN_BUILD_EXAMPLES=OFF -DNN_BUILD_BENCH=OFF -DNN_INSTALL=OFF >/dev/null
cmake --build build-fuzz -j2
for target in model csv idx gunzip; do
  scratch=$(mktemp -d)
  echo "-- fuzz_$target for ${seconds}s"
  # gunzip: a few KiB of input can inflate to megabytes; shorter inputs keep it fast.
  max_len=65536
  [ "$target" = gunzip ] && max_len=8192
  (cd build-fuzz && ./fuzz/fuzz_$target -max_total_time="$seconds" -max_len="$max_len" \
     -rss_limit_mb=2048 -print_final_stats=1 "$scratch" "../fuzz/corpus/$target" 2>&1 |
     grep -E "stat::number_of_executed_units|stat::new_units_added|ERROR|SUMMARY|Done" || true)
  rm -rf "$scratch"
  # grep hides libFuzzer's exit status: a crash leaves a crash-/leak-/timeout- file behind.
  if ls build-fuzz/crash-* build-fuzz/leak-* build-fuzz/timeout-* 2>/dev/null | grep -q .; then
    echo "fuzz_$target found a failing input:"; ls build-fuzz/crash-* build-fuzz/leak-* build-fuzz/timeout-* 2>/dev/null
    exit 1
  fi
done
