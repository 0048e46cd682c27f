#!/usr/bin/env bash
# Branch coverage of src/ by the whole ctest suite (unit tests, the examples, the fuzz corpora
# replayed), measured with gcc's --coverage and gcovr. The step prints every file's figure
# with the lines of its uncovered branches, and fails below NN_MIN_BRANCH_COVERAGE percent:
# the figure when the gate was last raised (91.3% on an AVX-512 machine, December 2026), less a
# point for machines whose CPU takes fewer of the kernels' paths. Raise it as tests are added,
# toward 95.
set -euo pipefail
cd "$(dirname "$0")/../.."
min=${NN_MIN_BRANCH_COVERAGE:-90}
build=build-coverage
rm -rf "$build"
# -fprofile-update=atomic: the worker pool's threads update the counters too, and plain
# increments race into negative counts that gcov cannot read.
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Debug -DNN_BUILD_TESTS=ON -DNN_BUILD_BENCH=OFF \
  -DCMAKE_C_FLAGS="--coverage -fprofile-update=atomic -O1" \
  -DCMAKE_EXE_LINKER_FLAGS=--coverage >/dev/null
cmake --build "$build" -j2 >/dev/null
ctest --test-dir "$build" -j2 --output-on-failure --no-tests=error | tail -n 3
gcovr -r . "$build" --filter 'src/' --branches --exclude-unreachable-branches \
  --fail-under-branch "$min"
echo "branch coverage of src/: at least $min%"
