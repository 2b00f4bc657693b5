#!/usr/bin/env bash
# Regenerate the lockfiles from pyproject.toml after a dependency or its range changed:
# requirements.lock (what runs the bot) and requirements-test.lock (that plus the test
# tools, held to the same versions). Both pin every package with its hashes.
# Usage: bash scripts/lock.sh [--upgrade | --upgrade-package NAME]
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/setup.sh test
.venv/bin/python -m pip install -q "uv>=0.9,<1"
common=(--universal --python-version 3.11 --generate-hashes --quiet "$@")
.venv/bin/uv pip compile pyproject.toml "${common[@]}" -o requirements.lock
.venv/bin/uv pip compile pyproject.toml --extra test -c requirements.lock "${common[@]}" \
  -o requirements-test.lock
echo "requirements.lock and requirements-test.lock regenerated; commit them with pyproject.toml"
