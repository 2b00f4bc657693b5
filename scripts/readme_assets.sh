#!/usr/bin/env bash
# Regenerate what the README shows from the bundled snapshot: docs/divergence.png (the
# /chart divergence PNG) and docs/brief.txt (the /brief reply as plain text).
# Usage: bash scripts/readme_assets.sh
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/setup.sh
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
unset REDIS_URL
(cd "$work" && "$OLDPWD/.venv/bin/python" -m bot ask "/chart divergence" >/dev/null)
mkdir -p docs
cp "$work"/charts-out/*.png docs/divergence.png
.venv/bin/python -m bot ask "/brief" > docs/brief.txt
echo "docs/divergence.png and docs/brief.txt regenerated"
