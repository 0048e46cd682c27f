#!/usr/bin/env bash
# musl: libnn built with musl-gcc, and used from a thread with musl's default 128 KiB stack
# (tests/musl/thread_stack.c): training, prediction and a matrix product on that thread give
# the main thread's bits. glibc's threads start with 8 MiB and would not notice a large frame.
set -euo pipefail
command -v musl-gcc >/dev/null || { echo "musl-gcc missing (apt-get install musl-tools)"; exit 1; }
CC=musl-gcc cmake -S . -B build-musl -DCMAKE_BUILD_TYPE=Release -DNN_BUILD_TESTS=OFF \
  -DNN_BUILD_EXAMPLES=OFF -DNN_BUILD_BENCH=OFF -DNN_INSTALL=OFF >/dev/null
cmake --build build-musl -j2 --target nn >/dev/null
musl-gcc -std=c11 -O2 -Wall -Wextra -Werror -Iinclude tests/musl/thread_stack.c \
  build-musl/libnn.a -lm -lpthread -static -o build-musl/thread_stack
./build-musl/thread_stack
