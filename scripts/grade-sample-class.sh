#!/usr/bin/env bash
# Install bubblewrap if it can (the sandbox of each submission), set up a virtual environment with
# the kit, then grade the bundled sample class with nbgrader.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/system-packages.sh grading
python3 -m venv .venv
.venv/bin/python -m pip install --quiet --upgrade pip
.venv/bin/python -m pip install --quiet -e .
exec .venv/bin/cnnkit sample-class "$@"
