"""Shared pieces of the reliability suite: the Hypothesis settings every fuzz test uses and
the upstream stand-in fixture. (A redis-server of the tests' own: redis_server.py; the
platform limits and the one-line error contract: limits.py.)"""

from __future__ import annotations

from hypothesis import HealthCheck, settings

# The upstream stand-in (FakeUpstream), as the source tests use it.
from tests.sources.conftest import upstream  # noqa: F401

# Reproducible in CI: the same examples on every run, no example database on disk. The app
# fixture is shared by all examples of a test on purpose (state piles up like in a real chat).
FUZZ = settings(
    deadline=None,
    derandomize=True,
    database=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                           HealthCheck.data_too_large, HealthCheck.filter_too_much],
)
