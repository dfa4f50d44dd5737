#!/usr/bin/env bash
# Install the system packages the tests need (PostgreSQL, Chromium), set up a virtual environment
# with the kit and its test tools, then run the tests: slow ones too, all but the `matrix` tier
# (pyproject.toml deselects it; `bash scripts/test.sh -m matrix` runs it).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/system-packages.sh tests
python3 -m venv .venv
.venv/bin/python -m pip install --quiet --upgrade pip
.venv/bin/python -m pip install --quiet -e '.[test]'
exec .venv/bin/python -m pytest "$@"
