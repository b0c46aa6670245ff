#!/usr/bin/env bash
# Runs the whole test suite once per backend, then the cross-backend parity tests
# and the docstring examples. Usage: bash scripts/test.sh [pytest args]
set -euo pipefail
cd "$(dirname "$0")/.."
export LAMINA_DATASETS_DIR="${LAMINA_DATASETS_DIR:-$(cd .. && pwd)/shared/data}"
for b in torch jax; do
  echo "=== backend: $b ==="
  LAMINA_BACKEND=$b python -m pytest tests "$@"
  LAMINA_BACKEND=$b python -m pytest --doctest-modules lamina -p no:cacheprovider
done
echo "=== cross-backend parity ==="
python -m pytest parity_tests "$@"
