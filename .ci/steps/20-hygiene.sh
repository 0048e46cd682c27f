#!/usr/bin/env bash
# Symbol hygiene: every external symbol of libnn.a carries our prefix (nn_ public, nn__
# internal), and none is one of nanomsg's public names, so both libraries link into one
# program. Then ThreadSanitizer on the concurrency tests: two models trained at once, and a
# model's own worker pool.
set -euo pipefail
lib=build/libnn.a
[ -f "$lib" ] || { echo "missing $lib: the README test command builds it first"; exit 1; }
symbols=$(nm -g --defined-only "$lib" | awk 'NF == 3 { print $3 }' | sort -u)
echo "$(echo "$symbols" | wc -l) external symbols in $lib"
bad=$(echo "$symbols" | grep -v -E '^nn_' || true)
if [ -n "$bad" ]; then echo "symbols without the nn_ prefix:"; echo "$bad"; exit 1; fi
nanomsg="nn_socket nn_close nn_strerror nn_errno nn_send nn_recv nn_bind nn_connect nn_shutdown
nn_setsockopt nn_getsockopt nn_sendmsg nn_recvmsg nn_allocmsg nn_reallocmsg nn_freemsg
nn_cmsg_nxthdr_ nn_poll nn_device nn_term nn_symbol nn_symbol_info nn_get_statistic"
for name in $nanomsg; do
  if echo "$symbols" | grep -qx "$name"; then echo "collides with nanomsg: $name"; exit 1; fi
done
echo "symbols: all prefixed, none of nanomsg's"

# The README's API table names every function nn.h declares, and its heading counts them.
declared=$(grep -oE '\bnn_[a-z0-9_]+\(' include/nn.h | tr -d '(' | sort -u)
listed=$(sed -n '/^## The API, grouped by task/,/^Your own loop/p' README.md |
  grep -oE '`nn_[a-z0-9_]+`' | tr -d '`' | sort -u)
missing=$(comm -23 <(echo "$declared") <(echo "$listed"))
[ -z "$missing" ] || { echo "nn.h declares functions the README's API table lacks:"; echo "$missing"; exit 1; }
count=$(echo "$declared" | wc -l)
grep -q "^## The API, grouped by task ($count functions)" README.md ||
  { echo "the README's API heading does not say $count functions"; exit 1; }
echo "README: the API table names all $count functions of nn.h"

CC=clang cmake -S . -B build-tsan -DCMAKE_BUILD_TYPE=RelWithDebInfo -DNN_BUILD_TESTS=ON \
  -DNN_BUILD_EXAMPLES=OFF -DNN_BUILD_BENCH=OFF -DNN_INSTALL=OFF \
  -DCMAKE_C_FLAGS="-fsanitize=thread" -DCMAKE_EXE_LINKER_FLAGS="-fsanitize=thread" >/dev/null
cmake --build build-tsan -j2 --target test_threads test_pool
TSAN_OPTIONS=halt_on_error=1 ./build-tsan/tests/test_threads
TSAN_OPTIONS=halt_on_error=1 ./build-tsan/tests/test_pool
