#!/usr/bin/env bash
# C export (nn_model_export_c): examples/export_c trains XOR, digits and Fashion-MNIST (2
# epochs; skipped without dataset-fashion-mnist), exports each float and int8 with a
# self-test, and runs the self-tests built by the host compiler. Then every generated file:
#   - compiles with gcc -std=c99 -pedantic -Wall -Wextra -Werror;
#   - compiles with clang -std=c99 -Weverything -Werror, with nothing turned off;
#   - compiles for a Cortex-M4 (arm-none-eabi-gcc -mcpu=cortex-m4 -mthumb -Os) and links with
#     newlib's nosys stubs and a main that runs its self-test; `size` of the object file must
#     be within 10% of the flash estimate written in the file's header (PREFIX_FLASH_BYTES).
set -euo pipefail
for tool in arm-none-eabi-gcc arm-none-eabi-size clang; do
  command -v $tool >/dev/null || { echo "$tool missing (.ci/packages: gcc-arm-none-eabi)"; exit 1; }
done
cmake -S . -B build-export -DCMAKE_BUILD_TYPE=Release -DNN_BUILD_TESTS=OFF -DNN_BUILD_BENCH=OFF \
  -DNN_INSTALL=OFF >/dev/null
cmake --build build-export -j2 --target export_c >/dev/null
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

echo "-- export, build on the host, self-test"
./build-export/examples/export_c --xor --out "$out"
./build-export/examples/export_c --out "$out"
if [ -f /usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz ]; then
  ./build-export/examples/export_c --fmnist --epochs 2 --out "$out"
else
  echo "dataset-fashion-mnist is not installed: the Fashion-MNIST export is skipped"
fi

cd "$out"
for src in *_float.c *_int8.c; do
  prefix=${src%.c}
  upper=$(echo "$prefix" | tr a-z A-Z)
  echo "-- $src"
  gcc -std=c99 -pedantic -Wall -Wextra -Werror -O2 -c "$src" -o "$prefix.gcc.o"
  clang -std=c99 -Weverything -Werror -O2 -c "$src" -o "$prefix.clang.o"
  echo "   gcc -pedantic and clang -Weverything: clean"
  arm-none-eabi-gcc -std=c99 -Wall -Wextra -Werror -mcpu=cortex-m4 -mthumb -Os -c "$src" -o "$prefix.m4.o"
  scratch=$(sed -n "s/^#define ${upper}_SCRATCH_LEN \([0-9]*\).*/\1/p" "$prefix.h")
  type=float; case $prefix in *_int8) type=int8_t ;; esac
  printf '#include <stdint.h>\n#include "%s.h"\nint main(void)\n{\n    static %s scratch[%s + 1];\n    return %s_selftest(scratch);\n}\n' \
    "$prefix" "$type" "$scratch" "$prefix" > "$prefix.main.c"
  arm-none-eabi-gcc -std=c99 -mcpu=cortex-m4 -mthumb -Os --specs=nosys.specs -I. "$prefix.main.c" \
    "$prefix.m4.o" -lm -o "$prefix.elf"
  arm-none-eabi-size "$prefix.m4.o" "$prefix.elf" | sed 's/^/   /'
  estimate=$(sed -n "s/^#define ${upper}_FLASH_BYTES \([0-9]*\).*/\1/p" "$prefix.h")
  actual=$(arm-none-eabi-size "$prefix.m4.o" | awk 'NR == 2 { print $1 + $2 }')
  echo "   flash: estimated $estimate bytes, object file $actual (text + data)"
  if [ $((100 * (estimate - actual))) -gt $((10 * actual)) ] ||
     [ $((100 * (actual - estimate))) -gt $((10 * actual)) ]; then
    echo "   the estimate is more than 10% off"; exit 1
  fi
done
echo "export_c: every file builds clean for the host and the Cortex-M4, estimates within 10%"
