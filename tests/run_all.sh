#!/usr/bin/env bash
# Every test: the notebooks (nbdev_test, cells flagged `slow` skipped), the pytest integration tests, and the docs check.
set -euo pipefail
cd "$(dirname "$0")/.."
echo "== library matches notebooks"
nbdev_export
git diff --exit-code -- trans3dhead || { echo "trans3dhead/ differs from the notebooks: run nbdev_export and commit"; exit 1; }
echo "== notebooks"
nbdev_test --n_workers 2
echo "== integration tests"
python -m pytest -q tests
echo "== docs"
python tests/docs_check.py
