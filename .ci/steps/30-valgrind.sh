#!/usr/bin/env bash
# The examples under valgrind's memcheck: no invalid access, no use of uninitialised memory,
# no leak. Each runs as built by the README's command (Release) in build/.
set -euo pipefail
for example in xor spiral house_price; do
  [ -x "build/examples/$example" ] || continue
  echo "-- valgrind $example"
  valgrind --quiet --error-exitcode=1 --leak-check=full --errors-for-leak-kinds=all \
    "build/examples/$example" >/dev/null
done
echo "valgrind: clean"
