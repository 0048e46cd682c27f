#!/usr/bin/env bash
# libFuzzer (clang, ASan + UBSan) on every parser of untrusted input — the model file, CSV,
# IDX, gzip — each for a bounded time from its committed seed corpus (fuzz/run.sh). Any
# finding fails CI: a crash or sanitizer report, a leak, a timeout, running out of memory,
# or a non-zero exit; each target starts with an empty artifact directory, so an earlier
# run's leftovers cannot fail this one. The inputs found are in build-fuzz/fuzz-findings/.
# NN_FUZZ_SECONDS sets the time per target (default 45).
set -euo pipefail
cd "$(dirname "$0")/../.."
fuzz/run.sh --time "${NN_FUZZ_SECONDS:-45}" --build build-fuzz
