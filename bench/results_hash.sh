#!/usr/bin/env bash
# Shows that a change leaves libnn's results bit-identical: run this on the build before the
# change and on the build after it, then diff the two outputs — they must be equal.
#   bench/results_hash.sh BUILD_DIR > results.txt
# It prints the output of BUILD_DIR/bench/results_hash (a hash of the weights every training
# path of nn_train gives, and of an own loop; see bench/results_hash.c), then runs each example
# of BUILD_DIR/examples with arguments that keep it to a few seconds, in a temporary directory,
# and prints per example
#   example <name> exit=<status>
#   example <name> stdout=<sha256 of its stdout, lines with timings removed>
#   example <name> file=<file> sha256=<sha256>    (one line per file it wrote)
# Timings differ from run to run, so lines that hold them (seconds, samples/s, it/s, ms, ETA)
# are dropped before hashing; batch_size's table keeps its batch, epochs and accuracy columns,
# and its chart, whose axis is the training time, is listed without a hash.
# Fashion-MNIST is read from $NN_FMNIST_DIR (default /usr/share/datasets/fashion-mnist); the
# example is skipped, with a line saying so, if the data is not there.
set -euo pipefail
build=$(cd "${1:?usage: bench/results_hash.sh BUILD_DIR}" && pwd)
fmnist=${NN_FMNIST_DIR:-/usr/share/datasets/fashion-mnist}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# stdin without the lines that hold timings; batch_size's rows without their two time columns.
untimed() {
  awk '/^ +[0-9]+ +[0-9]+ +([0-9]+|-) +([0-9.]+|-) +[0-9.]+%$/ {
         print "batch " $1 " reached_epoch " $3 " final " $5; next } { print }' |
    grep -Ev '[0-9]s\b|seconds|samples/s|it/s|[0-9] ?ms\b|ETA' || true
}

# The sha256 of stdin, alone.
sha() { sha256sum | cut -d' ' -f1; }

# run_example LABEL BINARY ARGS...: runs BUILD_DIR/examples/BINARY in its own directory and
# prints its exit status, the hash of its untimed stdout and the hash of every file it wrote.
run_example() {
  local label=$1 binary=$2 rc=0
  shift 2
  mkdir -p "$tmp/$label"
  (cd "$tmp/$label" && "$build/examples/$binary" "$@" >"$tmp/$label.stdout" 2>/dev/null) || rc=$?
  echo "example $label exit=$rc"
  echo "example $label stdout=$(untimed <"$tmp/$label.stdout" | sha)"
  local file
  for file in $(cd "$tmp/$label" && find . -type f | sed 's|^\./||' | LC_ALL=C sort); do
    if [ "$label/$file" = batch_size/batch_size.svg ]; then
      echo "example $label file=$file sha256=timing-dependent"
    else
      echo "example $label file=$file sha256=$(sha <"$tmp/$label/$file")"
    fi
  done
}

"$build/bench/results_hash"

run_example xor xor
run_example spiral spiral
run_example house_price house_price --save-csv houses.csv
run_example house_price_csv house_price --svg from_csv.svg ../house_price/houses.csv
run_example batch_size batch_size --epochs 5 --target 0.5
if [ -f "$fmnist/train-images-idx3-ubyte.gz" ] || [ -f "$fmnist/train-images-idx3-ubyte" ]; then
  run_example fashion_mnist fashion_mnist --epochs 2 "$fmnist"
  run_example fashion_mnist_strong fashion_mnist --strong --epochs 2 "$fmnist"
else
  echo "# example fashion_mnist skipped: no Fashion-MNIST in $fmnist"
fi

# An example this script does not know is named, not run: its arguments are not known.
for binary in $(find "$build/examples" -maxdepth 1 -type f -perm -u+x -printf '%f\n' | LC_ALL=C sort); do
  case $binary in
    xor | spiral | house_price | batch_size | fashion_mnist) ;;
    *) echo "# example $binary not run: add it to bench/results_hash.sh" ;;
  esac
done
