# Sourced by run.sh and test.sh: create .venv at the repo root and install flowwatch into it
# from the lockfile (exact versions, every file checked against its hash).
# Usage: . scripts/setup.sh [extra]   (extra: "test" installs the test tools too)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
PYTHON="${PYTHON:-$(command -v python3.11 || command -v python3)}"
if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
fi
lock="requirements.lock"
[ "${1:-}" = "test" ] && lock="requirements-test.lock"
stamp=".venv/.installed-$(cat pyproject.toml "$lock" | sha1sum | cut -c1-12)-${1:-run}"
if [ ! -f "$stamp" ]; then
  .venv/bin/python -m pip install -q --require-hashes -r "$lock"
  # flowwatch itself, editable; its dependencies are already there from the lock.
  .venv/bin/python -m pip install -q --no-deps -e .
  touch "$stamp"
fi
