#!/usr/bin/env bash
# Data, metrics and the examples, end to end (the readers' unit tests run in ctest):
# - spiral's PNG is decoded by Python's zlib, with every chunk CRC checked;
# - every SVG chart renders with librsvg;
# - house_price round-trips its synthetic data through a CSV file;
# - batch_size reaches its target with some batch size;
# - fashion_mnist learns from the real .gz files (2 epochs, a smoke run: the full recipe's
#   accuracy is in the README), and says how to get the data when it is missing.
set -euo pipefail
cmake -S . -B build-data -DCMAKE_BUILD_TYPE=Release -DNN_BUILD_TESTS=OFF -DNN_BUILD_BENCH=OFF \
  >/dev/null
cmake --build build-data -j2 --target spiral house_price batch_size fashion_mnist
bin=$PWD/build-data/examples
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
cd "$out"

echo "-- spiral: PNG"
"$bin/spiral" spiral.png >/dev/null
python3 - spiral.png <<'PY'
import struct, sys, zlib
data = open(sys.argv[1], "rb").read()
assert data[:8] == b"\x89PNG\r\n\x1a\n", "PNG signature"
pos, idat, types = 8, b"", []
while pos < len(data):
    n, = struct.unpack(">I", data[pos:pos + 4])
    kind, body = data[pos + 4:pos + 8], data[pos + 8:pos + 8 + n]
    crc, = struct.unpack(">I", data[pos + 8 + n:pos + 12 + n])
    assert zlib.crc32(kind + body) == crc, f"CRC of {kind}"
    types.append(kind)
    if kind == b"IHDR":
        w, h, depth, colour = struct.unpack(">IIBB", body[:10])
    idat += body if kind == b"IDAT" else b""
    pos += 12 + n
assert types[0] == b"IHDR" and types[-1] == b"IEND" and (depth, colour) == (8, 2)
raw = zlib.decompress(idat)
assert len(raw) == h * (1 + 3 * w) and all(raw[r * (1 + 3 * w)] == 0 for r in range(h))
print(f"spiral.png: a valid {w}x{h} RGB PNG")
PY

echo "-- house_price: synthetic data, then the same data through a CSV file"
"$bin/house_price" --save-csv houses.csv --svg house_price.svg | tee first.txt
"$bin/house_price" --svg house_price_csv.svg houses.csv | tee second.txt
[ "$(grep -c 'R²' first.txt)" = 2 ] && [ "$(grep -c 'R²' second.txt)" = 2 ]

echo "-- batch_size"
"$bin/batch_size" --epochs 30 --svg batch_size.svg

echo "-- fashion_mnist"
if "$bin/fashion_mnist" "$out/no-such-dir" >/dev/null 2>err.txt; then
  echo "fashion_mnist succeeded without data"; exit 1
fi
grep -q "apt-get install dataset-fashion-mnist" err.txt
if [ -f /usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz ]; then
  "$bin/fashion_mnist" --epochs 2 --svg fashion_mnist.svg | grep -E "^test accuracy|written"
else
  echo "dataset-fashion-mnist is not installed: the training run is skipped"
fi

echo "-- SVG charts render"
for svg in *.svg; do
  rsvg-convert -o "${svg%.svg}.png" "$svg"
  echo "$svg: renders"
done
