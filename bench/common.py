"""Shared bench helpers: a throwaway Redis prefix, the machine line, tables and targets."""

from __future__ import annotations

import os
import platform
import statistics
import sys
import uuid
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from pathlib import Path

from redis.asyncio import Redis

from services.settings import Settings, load_settings

ROOT = Path(__file__).resolve().parent.parent
REDIS_URL = "redis://127.0.0.1:6379/0"


def new_prefix() -> str:
    return f"fwbench:{uuid.uuid4().hex[:12]}:"


async def drop_prefix(redis: Redis, prefix: str) -> int:
    """Delete every key under `prefix` (only ours: never FLUSHALL)."""
    keys = [k async for k in redis.scan_iter(match=f"{prefix}*", count=1000)]
    if keys:
        await redis.delete(*keys)
    return len(keys)


@asynccontextmanager
async def bench_redis(redis_url: str) -> AsyncIterator[tuple[Redis, str]]:
    """A client and a fresh key prefix; the prefix's keys are deleted on the way out."""
    redis = Redis.from_url(redis_url, decode_responses=True)
    prefix = new_prefix()
    try:
        await redis.ping()
        yield redis, prefix
    finally:
        await drop_prefix(redis, prefix)
        await redis.aclose()


def bench_settings(prefix: str, data_dir: Path | None = None) -> Settings:
    """config.yaml with the store under `prefix` (and the replay snapshot at `data_dir`)."""
    settings = load_settings(ROOT / "config.yaml")
    update: dict[str, object] = {"store": settings.store.model_copy(update={"prefix": prefix})}
    if data_dir is not None:
        update["replay"] = settings.replay.model_copy(update={"data_dir": data_dir})
    return settings.model_copy(update=update)


def machine() -> str:
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    return (f"machine: {platform.platform()}, {os.cpu_count()} cpus, Python "
            f"{platform.python_version()}, load average {load}")


def pct(values: Sequence[float], q: int) -> float:
    """The q-th percentile (1..99) of `values`."""
    if len(values) < 2:
        return values[0] if values else float("nan")
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1]


def table(header: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    cells = [[str(c) for c in header], *([_cell(c) for c in row] for row in rows)]
    widths = [max(len(r[i]) for r in cells) for i in range(len(header))]
    lines = ["  ".join(c.rjust(w) if i else c.ljust(w) for i, (c, w) in
                       enumerate(zip(row, widths, strict=True))) for row in cells]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def _cell(value: object) -> str:
    if isinstance(value, float):
        return f"{value:.3f}" if abs(value) < 10 else f"{value:.1f}"
    return str(value)


def verdict(checks: Sequence[tuple[str, bool]]) -> int:
    """Print each target as met or MISSED; the exit status is 1 when any is missed."""
    for name, ok in checks:
        print(f"target {'met   ' if ok else 'MISSED'}: {name}")
    return 0 if all(ok for _, ok in checks) else 1


def child_env(root: Path = ROOT) -> dict[str, str]:
    """The environment for bench subprocesses: the repo on the path, PTB's future defaults."""
    return {**os.environ, "PYTHONPATH": str(root), "PTB_TIMEDELTA": "true"}


PYTHON = sys.executable
