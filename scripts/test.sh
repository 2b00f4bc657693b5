#!/usr/bin/env bash
# Run the whole test suite (lint, types, unit, real-Redis integration, end to end),
# installing what it needs. Starts a local Redis server when none answers.
set -euo pipefail
. "$(dirname "$0")/setup.sh" test

redis_up() {
  .venv/bin/python - <<'PY'
import sys, redis
try:
    redis.Redis(host="127.0.0.1", port=6379, socket_timeout=2).ping()
except Exception:
    sys.exit(1)
PY
}
if ! redis_up; then
  if ! command -v redis-server >/dev/null; then
    echo "no Redis answers on 127.0.0.1:6379 and redis-server is not installed;" \
         "installing it (Debian package redis-server)" >&2
    (apt-get update -qq && apt-get install -y -qq redis-server) >&2
  fi
  echo "starting redis-server on 127.0.0.1:6379" >&2
  redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no \
    --logfile /tmp/flowwatch-redis.log
  for _ in $(seq 1 50); do redis_up && break; sleep 0.1; done
  redis_up || { echo "redis-server did not come up" >&2; exit 1; }
fi

.venv/bin/ruff check .
.venv/bin/mypy
# Three workers on two cores: most of the time is spent waiting on servers and processes.
.venv/bin/python -m pytest -q -p no:cacheprovider -n "${FLOWWATCH_TEST_WORKERS:-3}" \
  --dist worksteal --junitxml=.test-results.xml "$@"
.venv/bin/python scripts/check_redis_tests.py .test-results.xml
