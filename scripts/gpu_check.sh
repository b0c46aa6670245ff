#!/usr/bin/env bash
# The GPU checks, as one run on a lent GPU machine (the device tool), from the repository root:
#   1. the training benchmarks on the GPU (bench/gpu.py; Keras 3 when its wheels are carried),
#   2. the test suite on both backends with the GPU as the default device (pytest-xdist, in parallel).
# Optional carried folder .gpu/: whl/ (wheels: keras, namex, optree for the machine's Python) and
# data/ (mnist/, imdb/ from ../shared/data). Results go to $OUT (or ./gpu-out).
# Usage: bash scripts/gpu_check.sh [bench seconds] [test seconds]
set -uo pipefail
OUT="${OUT:-gpu-out}"; mkdir -p "$OUT"
BENCH_S="${1:-240}"; TEST_S="${2:-240}"
export PYTHONUNBUFFERED=1 PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"
if ls .gpu/whl/*.whl >/dev/null 2>&1; then
  python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --target /tmp/site .gpu/whl/*.whl \
    && export PYTHONPATH="$PYTHONPATH:/tmp/site"
fi
[ -d .gpu/data ] && export LAMINA_DATASETS_DIR="$PWD/.gpu/data"
{ nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader; nproc; python3 --version
  python3 -c "import torch, jax; print('torch', torch.__version__, torch.cuda.is_available(), 'jax', jax.__version__, jax.devices())"
  python3 -c "import keras; print('keras', keras.__version__)"; } 2>&1 | tee "$OUT/env.txt"
echo "== bench ($BENCH_S s)"
timeout $((BENCH_S + 60)) python3 bench/gpu.py --out "$OUT/gpu_bench.md" --budget "$BENCH_S" --timeout 90 2>&1 | tee "$OUT/bench.log"
echo "== tests ($TEST_S s, both backends at once)"
export XLA_PYTHON_CLIENT_PREALLOCATE=false
ignore="--ignore=tests/test_tuner.py --ignore=tests/test_tuner_display.py --ignore=tests/test_tuner_memory.py"
for b in torch jax; do
  LAMINA_BACKEND=$b timeout "$TEST_S" python3 -m pytest tests -p no:cacheprovider -n 7 -v --timeout 100 $ignore \
    -o addopts="" > "$OUT/tests_$b.log" 2>&1 &
done
wait
for b in torch jax; do
  echo "-- $b: $(grep -c ' PASSED' "$OUT/tests_$b.log") passed, $(grep -c ' FAILED' "$OUT/tests_$b.log") failed, $(grep -c ' ERROR' "$OUT/tests_$b.log") errors"
  grep -E ' (FAILED|ERROR) ' "$OUT/tests_$b.log" | sed 's/^\[gw[0-9]*\] \[ *[0-9]*%\] //' | head -60
  tail -3 "$OUT/tests_$b.log"
done
