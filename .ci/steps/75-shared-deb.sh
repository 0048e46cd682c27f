#!/usr/bin/env bash
# libnn as a shared library and as Debian packages:
#   1. BUILD_SHARED_LIBS=ON with gcc -Werror: every test passes, the unit tests on the static
#      library beside it, the examples on libnn.so, which tests/shared checks from outside
#      (its exports with nm, XOR trained from Python through ctypes);
#   2. cpack -G DEB: libnn-dev and libnnMAJOR.MINOR, their files and control fields;
#   3. both installed with apt-get, tests/consumer built against them with find_package
#      (nn::nn, shared, and nn::nn_static) and with pkg-config, and run; XOR through ctypes
#      from the soname; then both removed again, and nothing of them left behind.
# Everything is built in a temporary directory; the work tree is left as it was.
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$PWD
work=$(mktemp -d "${TMPDIR:-/tmp}/nn-shared-deb.XXXXXX")
export CMAKE_BUILD_PARALLEL_LEVEL=2
version=$(sed -n 's/^#define NN_VERSION_STRING "\(.*\)"$/\1/p' include/nn.h)
soversion=${version%.*}                 # MAJOR.MINOR: docs/STABILITY.md
runtime=libnn$soversion
multiarch=$(gcc -print-multiarch)
libdir=/usr/lib/$multiarch
run() { echo "   \$ $*"; "$@"; }
fail() { echo "$*"; exit 1; }
installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "ok installed"; }
needed() { readelf -d "$1" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p' | tr '\n' ' '; }

for pkg in libnn-dev "$runtime"; do
  ! installed "$pkg" || fail "$pkg is installed on this machine already: this step would replace it"
done
[ ! -e /usr/include/nn.h ] || fail "/usr/include/nn.h exists: this step would replace it"
we_installed=false
cleanup() {
  if $we_installed; then
    DEBIAN_FRONTEND=noninteractive apt-get remove -y -qq libnn-dev "$runtime" >/dev/null
  fi
  rm -rf "$work"
}
trap cleanup EXIT

# ------------------------------------------------------------ shared build
echo "-- BUILD_SHARED_LIBS=ON, gcc -Werror, every test"
cmake -S . -B "$work/build" -DCMAKE_BUILD_TYPE=Release -DBUILD_SHARED_LIBS=ON \
  -DNN_BUILD_TESTS=ON -DNN_BUILD_BENCH=OFF -DNN_WERROR=ON -DCMAKE_INSTALL_PREFIX=/usr >/dev/null
cmake --build "$work/build" >/dev/null
ctest --test-dir "$work/build" -j2 --output-on-failure --no-tests=error >"$work/ctest.log" ||
  { cat "$work/ctest.log"; exit 1; }
echo "   $(grep 'tests passed' "$work/ctest.log")"
ctest --test-dir "$work/build" -R '^shared_' -V | sed -n 's/^[0-9]*: *\(.*exports exactly.*\|.*through ctypes.*\)$/   \1/p'
case " $(needed "$work/build/examples/xor") " in
  *" libnn.so.$soversion "*) echo "   examples/xor loads libnn.so.$soversion" ;;
  *) fail "examples/xor does not load libnn.so.$soversion: $(needed "$work/build/examples/xor")" ;;
esac

# ------------------------------------------------------------ the packages
echo "-- cpack -G DEB"
(cd "$work/build" && cpack -G DEB >"$work/cpack.log" 2>&1) || { cat "$work/cpack.log"; exit 1; }
arch=$(dpkg --print-architecture)
dev_deb=$work/build/libnn-dev_${version}_$arch.deb
runtime_deb=$work/build/${runtime}_${version}_$arch.deb
[ -f "$dev_deb" ] && [ -f "$runtime_deb" ] || fail "expected $dev_deb and $runtime_deb: $(ls "$work/build"/*.deb)"
# Files and symlinks, without the directories: "path" or "path -> target".
contents() { dpkg-deb -c "$1" | awk '$1 !~ /^d/ { $1 = $2 = $3 = $4 = $5 = ""; sub(/^ +/, ""); print }' | sort; }
expect_contents() {
  local deb=$1 expected got
  expected=$(printf '%s\n' "${@:2}" | sort)
  got=$(contents "$deb")
  [ "$got" = "$expected" ] || { echo "$(basename "$deb") holds:"; echo "$got"; echo "expected:"; echo "$expected"; exit 1; }
  echo "   $(basename "$deb"): $(echo "$got" | wc -l) files, as expected"
}
expect_contents "$runtime_deb" ".$libdir/libnn.so.$version" \
  ".$libdir/libnn.so.$soversion -> libnn.so.$version"
expect_contents "$dev_deb" ./usr/include/nn.h ".$libdir/libnn.a" \
  ".$libdir/libnn.so -> libnn.so.$soversion" ".$libdir/pkgconfig/nn.pc" \
  ".$libdir/cmake/nn/nnConfig.cmake" ".$libdir/cmake/nn/nnConfigVersion.cmake" \
  ".$libdir/cmake/nn/nnTargets.cmake" ".$libdir/cmake/nn/nnTargets-release.cmake"
field() { dpkg-deb -f "$1" "$2"; }
[ "$(field "$dev_deb" Depends)" = "$runtime (= $version)" ] ||
  fail "libnn-dev depends on '$(field "$dev_deb" Depends)', not '$runtime (= $version)'"
case "$(field "$runtime_deb" Depends)" in libc6*) ;; *) fail "$runtime depends on '$(field "$runtime_deb" Depends)'" ;; esac
[ "$(field "$runtime_deb" Section)" = libs ] && [ "$(field "$dev_deb" Section)" = libdevel ]
dpkg-deb -e "$runtime_deb" "$work/control"
[ "$(cat "$work/control/shlibs")" = "libnn $soversion $runtime (>= $version)" ] ||
  fail "shlibs: $(cat "$work/control/shlibs")"
dpkg-deb -x "$runtime_deb" "$work/runtime"
soname=$(readelf -d "$work/runtime$libdir/libnn.so.$version" | sed -n 's/.*(SONAME).*\[\(.*\)\]/\1/p')
[ "$soname" = "libnn.so.$soversion" ] || fail "the packaged library's soname is '$soname'"
echo "   libnn-dev depends on $runtime (= $version); $runtime on $(field "$runtime_deb" Depends);" \
  "shlibs and soname $soname"

# ------------------------------------------------------------ installed
echo "-- apt-get install the two packages"
we_installed=true
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$runtime_deb" "$dev_deb" >"$work/apt.log" 2>&1 ||
  { cat "$work/apt.log"; exit 1; }
installed libnn-dev && installed "$runtime"

echo "-- consumer: find_package(nn $version CONFIG REQUIRED) from the system, nn::nn and nn::nn_static"
for target in nn::nn nn::nn_static; do
  cmake -S tests/consumer -B "$work/consumer-$target" -DNN_CONSUME=find_package \
    -DNN_WANT_VERSION="$version" -DNN_TARGET="$target" >/dev/null
  cmake --build "$work/consumer-$target" >/dev/null
  run "$work/consumer-$target/consumer"
  loads=$(needed "$work/consumer-$target/consumer")
  case "$target ${loads}" in
    "nn::nn "*"libnn.so.$soversion "*|"nn::nn_static "*) ;;
    *) fail "$target: the consumer loads $loads" ;;
  esac
  case "$target ${loads}" in "nn::nn_static "*libnn*) fail "nn::nn_static: the consumer loads $loads" ;; esac
  echo "   $target: the consumer loads $loads"
done

echo "-- consumer: pkg-config from the system"
[ "$(pkg-config --modversion nn)" = "$version" ]
flags=$(pkg-config --cflags --libs nn)
# nn.pc names /usr as it is, so pkg-config leaves out the system directories.
[ "$(echo $flags)" = "-lnn" ] || fail "pkg-config --cflags --libs nn gives '$flags', not -lnn alone"
echo "   pkg-config --cflags --libs nn: $flags; --static adds: $(pkg-config --static --libs nn)"
run cc -std=c11 -Wall -Wextra -Wpedantic -Werror -DNN_EXPECTED_VERSION="\"$version\"" \
  tests/consumer/main.c $flags -o "$work/pkg-config-consumer"
run "$work/pkg-config-consumer"
case " $(needed "$work/pkg-config-consumer") " in
  *" libnn.so.$soversion "*) ;; *) fail "the pkg-config consumer loads $(needed "$work/pkg-config-consumer")" ;;
esac

echo "-- Python ctypes: XOR through the installed $runtime, loaded by its soname"
cc -std=c11 tests/shared/ffi_layout.c $flags -o "$work/ffi_layout"
python3 tests/shared/ffi_xor.py "libnn.so.$soversion" "$work/ffi_layout" | tail -n 1

# ------------------------------------------------------------ removed
echo "-- apt-get remove the two packages"
DEBIAN_FRONTEND=noninteractive apt-get remove -y -qq libnn-dev "$runtime" >"$work/apt.log" 2>&1 ||
  { cat "$work/apt.log"; exit 1; }
we_installed=false
! installed libnn-dev && ! installed "$runtime"
for path in /usr/include/nn.h "$libdir/libnn.so.$soversion" "$libdir/libnn.a" "$libdir/cmake/nn"; do
  [ ! -e "$path" ] || fail "$path is still there after apt-get remove"
done
! ldconfig -p | grep -q "libnn.so" || fail "ldconfig still knows libnn.so after apt-get remove"
echo "   removed: no file of either package is left"
