#!/usr/bin/env bash
# libnn in the ecosystem:
#   1. install into a temporary prefix, then build tests/consumer against it four ways:
#      find_package, pkg-config, add_subdirectory, FetchContent (a local source archive);
#   2. the workflow presets, each configuring, building and testing in one command;
#   3. the API reference: Doxygen on docs/Doxyfile, where any warning is an error;
#   4. ONNX export: models that use every activation, exported by libnn, run in ONNX Runtime
#      (npm onnxruntime-node) against libnn's outputs (1e-5), and the onnx checker.
# Everything is built in a temporary directory; the work tree is left as it was.
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$PWD
work=$(mktemp -d "${TMPDIR:-/tmp}/nn-ecosystem.XXXXXX")
trap 'rm -rf "$work"' EXIT
export CMAKE_BUILD_PARALLEL_LEVEL=2
version=$(sed -n 's/^#define NN_VERSION_STRING "\(.*\)"$/\1/p' include/nn.h)
prefix=$work/prefix
run() { echo "   \$ $*"; "$@"; }

# ------------------------------------------------------------------ install
echo "-- install libnn $version into a temporary prefix"
cmake -S . -B "$work/build" -DCMAKE_BUILD_TYPE=Release -DNN_BUILD_TESTS=OFF \
  -DNN_BUILD_EXAMPLES=OFF -DNN_BUILD_BENCH=OFF >/dev/null
cmake --build "$work/build" >/dev/null
cmake --install "$work/build" --prefix "$prefix" >/dev/null
installed=$(cd "$prefix" && find . -type f | sort | tr '\n' ' ')
expected="./include/nn.h ./lib/cmake/nn/nnConfig.cmake ./lib/cmake/nn/nnConfigVersion.cmake \
./lib/cmake/nn/nnTargets-release.cmake ./lib/cmake/nn/nnTargets.cmake ./lib/libnn.a \
./lib/pkgconfig/nn.pc "
if [ "$installed" != "$expected" ]; then
  echo "installed: $installed"
  echo "expected:  $expected"
  exit 1
fi
echo "   installed: $installed"

echo "-- consumer 1/4: find_package(nn $version CONFIG REQUIRED), target nn::nn"
cmake -S tests/consumer -B "$work/find_package" -DNN_CONSUME=find_package \
  -DNN_WANT_VERSION="$version" -DCMAKE_PREFIX_PATH="$prefix" >/dev/null
cmake --build "$work/find_package" >/dev/null
run "$work/find_package/consumer"
# The version file must refuse what the stability promise does not cover.
major=${version%%.*}
if cmake -S tests/consumer -B "$work/find_package_next" -DNN_WANT_VERSION=$((major + 1)).0 \
     -DCMAKE_PREFIX_PATH="$prefix" >"$work/next.log" 2>&1; then
  echo "find_package(nn $((major + 1)).0) accepted libnn $version"
  exit 1
fi
grep -q "nnConfig.cmake, version: $version" "$work/next.log"
echo "   find_package(nn $((major + 1)).0) refuses $version, as it should"

echo "-- consumer 2/4: pkg-config, no CMake"
export PKG_CONFIG_PATH=$prefix/lib/pkgconfig
[ "$(pkg-config --modversion nn)" = "$version" ]
flags=$(pkg-config --cflags --libs nn)
echo "   pkg-config --cflags --libs nn: $flags"
case " $flags " in *" -lm "*) ;; *) echo "nn.pc must give -lm (libnn is static)"; exit 1 ;; esac
run cc -std=c11 -Wall -Wextra -Wpedantic -Werror -DNN_EXPECTED_VERSION="\"$version\"" \
  tests/consumer/main.c $flags -o "$work/pkg-config-consumer"
run "$work/pkg-config-consumer"
# nn.pc finds the prefix from its own place: a moved install still works.
mv "$prefix" "$work/moved"
flags=$(PKG_CONFIG_PATH=$work/moved/lib/pkgconfig pkg-config --cflags --libs nn)
cc -std=c11 tests/consumer/main.c $flags -o "$work/moved-consumer"
"$work/moved-consumer" >/dev/null
mv "$work/moved" "$prefix"
echo "   a moved install links too: $flags"
unset PKG_CONFIG_PATH

echo "-- consumer 3/4: add_subdirectory(libnn)"
cmake -S tests/consumer -B "$work/add_subdirectory" -DNN_CONSUME=add_subdirectory \
  -DNN_SOURCE_DIR="$root" >/dev/null
cmake --build "$work/add_subdirectory" >/dev/null
run "$work/add_subdirectory/consumer"
# The consumer set no CMAKE_BUILD_TYPE: libnn must still be built optimised (-O2).
cmake --build "$work/add_subdirectory" --target clean >/dev/null
cmake --build "$work/add_subdirectory" --target nn -- VERBOSE=1 >"$work/sub-build.log"
if ! grep -q -- "-O2 .*src/net/train.c" "$work/sub-build.log"; then
  echo "libnn as a subproject with no CMAKE_BUILD_TYPE was built without -O2:"
  grep "src/net/train.c" "$work/sub-build.log"
  exit 1
fi
echo "   with no CMAKE_BUILD_TYPE, libnn is built with -O2"
# As a subproject libnn adds no install rules, and none of its tests, examples or benchmarks.
cmake --install "$work/add_subdirectory" --prefix "$work/sub-prefix" >/dev/null
[ ! -e "$work/sub-prefix" ] || { echo "add_subdirectory installed: $(find "$work/sub-prefix")"; exit 1; }
[ ! -e "$work/add_subdirectory/libnn/tests" ] && [ ! -e "$work/add_subdirectory/libnn/examples" ]

echo "-- consumer 4/4: FetchContent from a source archive at a local path (no network)"
archive=$work/libnn-$version.tar.gz
if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
  git ls-files -z --cached --others --exclude-standard |
    tar --null -T - --ignore-failed-read --transform "s,^,libnn-$version/," -czf "$archive"
else
  tar --exclude='./build*' --exclude='./_*' --exclude='./.git' \
    --transform "s,^\.,libnn-$version," -czf "$archive" .
fi
sha=$(sha256sum "$archive" | cut -d' ' -f1)
cmake -S tests/consumer -B "$work/FetchContent" -DNN_CONSUME=FetchContent \
  -DNN_FETCH_URL="$archive" -DNN_FETCH_SHA256="$sha" >/dev/null
cmake --build "$work/FetchContent" >/dev/null
run "$work/FetchContent/consumer"

# ------------------------------------------------------------------ presets
# From the same archive, so that build-release/ and build-debug-sanitize/ are made there.
echo "-- presets: cmake --workflow --preset release, then debug-sanitize"
mkdir "$work/presets"
tar -xzf "$archive" -C "$work/presets"
(
  cd "$work/presets/libnn-$version"
  for preset in release debug-sanitize; do
    if ! cmake --workflow --preset "$preset" >"$work/preset-$preset.log" 2>&1; then
      cat "$work/preset-$preset.log"
      echo "workflow preset $preset failed"
      exit 1
    fi
    echo "   $preset: $(grep -E 'tests passed' "$work/preset-$preset.log")"
  done
)

# ------------------------------------------------------------ API reference
echo "-- API reference: doxygen docs/Doxyfile, warnings are errors"
(cat docs/Doxyfile; echo "OUTPUT_DIRECTORY = $work/docs") | doxygen -
grep -q nn_model_export_onnx "$work/docs/html/nn_8h.html"
echo "   no warnings; $(find "$work/docs/html" -name '*.html' | wc -l) pages"

# -------------------------------------------------------------- ONNX export
echo "-- ONNX export: exported by libnn, checked by onnx and run in ONNX Runtime"
cmake -S tests/onnx -B "$work/onnx-build" -DCMAKE_PREFIX_PATH="$prefix" >/dev/null
cmake --build "$work/onnx-build" >/dev/null
mkdir "$work/onnx"
"$work/onnx-build/onnx_models" "$work/onnx"

# Debian's python3-onnx belongs to Debian's python3, whatever python3 comes first in PATH.
/usr/bin/python3 tests/onnx/check_onnx.py "$work"/onnx/*.onnx

# onnxruntime-node carries its CPU runtime inside the package; --ignore-scripts skips the
# install script that would download GPU libraries. Kept in a cache outside the work tree.
ort_version=1.30.0
ort_dir=${XDG_CACHE_HOME:-$HOME/.cache}/libnn-ci/onnxruntime-node-$ort_version
command -v npm >/dev/null || { echo "npm missing (.ci/run installs it: apt-get install npm)"; exit 1; }
if [ ! -f "$ort_dir/node_modules/onnxruntime-node/package.json" ]; then
  mkdir -p "$ort_dir"
  npm install --prefix "$ort_dir" --ignore-scripts --no-audit --no-fund --loglevel=error \
    "onnxruntime-node@$ort_version" >/dev/null
fi
NODE_PATH=$ort_dir/node_modules node tests/onnx/run_onnx.js "$work/onnx/cases.json" 1e-5
