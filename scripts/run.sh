#!/usr/bin/env bash
# Run flowwatch on its embedded defaults: bundled snapshot, in-process store, terminal chat.
# Extra arguments go to `python -m bot console` (e.g. --asof 2025-12-31).
set -euo pipefail
. "$(dirname "$0")/setup.sh"
exec .venv/bin/python -m bot console "$@"
