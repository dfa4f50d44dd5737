#!/usr/bin/env bash
# Set up a virtual environment with the kit, then grade the bundled sample class with nbgrader.
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -m venv .venv
.venv/bin/python -m pip install --quiet --upgrade pip
.venv/bin/python -m pip install --quiet -e .
exec .venv/bin/cnnkit sample-class "$@"
