#!/usr/bin/env bash
# Data, metrics and the examples, end to end (the readers' unit tests run in ctest):
# - spiral's PNG is decoded by Python's zlib and unfiltered, with every chunk CRC checked;
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
assert idat[2] & 7 == 3, "the first deflate block is final and uses the fixed codes"
raw = zlib.decompress(idat)
stride = 3 * w
assert len(raw) == h * (1 + stride)
# Undo the filters (PNG specification 9.2-9.4), row by row.
def paeth(a, b, c):
    p = a + b - c
    pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
    return a if pa <= pb and pa <= pc else b if pb <= pc else c
pixels, above = [], bytes(stride)
for r in range(h):
    kind, row = raw[r * (1 + stride)], bytearray(raw[r * (1 + stride) + 1:(r + 1) * (1 + stride)])
    assert kind <= 4, f"filter type {kind} in row {r}"
    for x in range(stride):
        a, b, c = (row[x - 3], above[x], above[x - 3]) if x >= 3 else (0, above[x], 0)
        row[x] = (row[x] + (0, a, b, (a + b) // 2, paeth(a, b, c))[kind]) & 255
    pixels.append(bytes(row))
    above = pixels[-1]
colours = {p[i:i + 3] for p in pixels for i in range(0, stride, 3)}
# White margins; the text and frame; the classes' points and regions, as the legend shows them.
for rgb in [(255, 255, 255), (51, 51, 51), (33, 102, 172), (217, 95, 14), (198, 219, 239),
            (253, 208, 162)]:
    assert bytes(rgb) in colours, f"colour {rgb} missing"
print(f"spiral.png: a valid {w}x{h} RGB PNG of {len(data)} bytes, "
      f"{len(raw) / len(idat):.1f}:1 compressed")
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
