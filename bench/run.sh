#!/usr/bin/env bash
# Every figure of the speed issue in one run, ours beside the peers measured in the same
# session (the machine is shared: compare ratios, not absolute times).
#   bench/run.sh [EPOCHS]         from the repository root, after a Release build in build/
# The peers need: apt-get install -y python3-numpy python3-torch dataset-fashion-mnist
# (and libopenblas-dev zlib1g-dev for OpenBLAS's SGEMM, run between two runs of ours)
# OpenBLAS runs at its best with OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE unset (this machine
# sets them), one thread.
set -euo pipefail
epochs=${1:-5}
peers=${NN_PEERS:-../shared/bench}
echo "== libnn: W-fmnist (1 and 2 threads), peak RSS, GEMM, inference, XOR"
./build/bench/nn_bench --epochs "$epochs"
if [ -f "$peers/fmnist_numpy.py" ] && /usr/bin/python3 -c "import numpy" 2>/dev/null; then
  echo "== numpy + OpenBLAS, one thread"
  (cd "$peers" && env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE OPENBLAS_NUM_THREADS=1 \
     /usr/bin/python3 fmnist_numpy.py "$epochs" | grep -E "^fmnist")
fi
if [ -f "$peers/fmnist_torch.py" ] && /usr/bin/python3 -c "import torch" 2>/dev/null; then
  echo "== PyTorch, one thread"
  (cd "$peers" && env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE \
     /usr/bin/python3 fmnist_torch.py 1 "$epochs" | grep -E "median|acc" | tail -1)
fi
if [ -f "$peers/gemm.c" ]; then
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
  if cc -O3 -march=native -I"$peers" "$peers/gemm.c" -o "$tmp/gemm" -lopenblas -lz -lm \
       2>/dev/null; then
    echo "== OpenBLAS SGEMM, one thread"
    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE OPENBLAS_NUM_THREADS=1 "$tmp/gemm" blas |
      grep -v "^#"
    echo "== libnn GEMM again, after OpenBLAS"
    ./build/bench/nn_bench --only gemm | grep "kernel=auto"
  fi
fi
