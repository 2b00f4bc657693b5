"""Metric snapshots, series history and source status in Redis (redis.asyncio API)."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pandas as pd
from redis.asyncio import Redis

from services.keys import Keys
from services.series import MarketData, TimeSeries

logger = logging.getLogger(__name__)

PARSED_SNAPSHOTS_KEPT = 64  # families whose last parsed snapshot is kept (there are ~10)


@dataclass(frozen=True)
class Snapshot:
    """One metric family as stored: the reading's JSON plus freshness."""

    family: str
    asof: str
    computed_at: str
    sources: tuple[str, ...]
    stale: bool
    stale_reason: str
    payload: dict[str, Any]


@dataclass(frozen=True)
class SourceStatus:
    name: str
    ok: bool
    checked_at: str
    last_ok_at: str
    last_data_date: str
    error: str


def utc_now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


class MetricStore:
    """With `ttl_s`, every key written expires that long after its latest write (a replay's
    copy of the snapshot, one per as-of date: each collection renews it, an as-of date no
    longer run goes away); without, keys are kept."""

    def __init__(self, redis: Redis, keys: Keys, ttl_s: int | None = None) -> None:
        self.redis = redis
        self.keys = keys
        self.ttl_s = ttl_s
        # The leader's fence (leader.py) while a leader collects: every write checks it.
        self.write_guard: Callable[[], None] | None = None
        # family -> (stored JSON, its parse): one per family, the last one read
        self._parsed: dict[str, tuple[str | bytes, Snapshot]] = {}

    def _guard(self) -> None:
        if self.write_guard is not None:
            self.write_guard()

    async def save_snapshot(self, snap: Snapshot) -> None:
        self._guard()
        body = {**snap.__dict__, "sources": list(snap.sources)}
        await self.redis.set(self.keys.snapshot(snap.family), json.dumps(body), ex=self.ttl_s)

    async def load_snapshot(self, family: str) -> Snapshot | None:
        """The stored snapshot; the same object again for as long as the stored JSON is
        unchanged, so callers may cache what they derive from it by identity."""
        raw = await self.redis.get(self.keys.snapshot(family))
        if raw is None:
            return None
        last = self._parsed.get(family)
        if last is not None and last[0] == raw:  # a memcmp, far cheaper than the JSON parse
            return last[1]
        body = json.loads(raw)
        body["sources"] = tuple(body["sources"])
        snap = Snapshot(**body)
        if len(self._parsed) >= PARSED_SNAPSHOTS_KEPT and family not in self._parsed:
            self._parsed.pop(next(iter(self._parsed)))
        self._parsed[family] = (raw, snap)
        return snap

    async def mark_stale(self, family: str, reason: str) -> bool:
        """Keep the last good snapshot, flagged stale; False when there is none."""
        snap = await self.load_snapshot(family)
        if snap is None:
            return False
        await self.save_snapshot(Snapshot(**{**snap.__dict__, "stale": True,
                                             "stale_reason": reason}))
        return True

    async def save_history(self, data: MarketData) -> None:
        self._guard()
        pipe = self.redis.pipeline(transaction=False)
        for key, ts in data.items():
            pipe.set(self.keys.history(key), encode_series(ts), ex=self.ttl_s)
        if data:
            pipe.sadd(self.keys.history_index(), *data.keys())
            self._expire(pipe, self.keys.history_index())
        await pipe.execute()

    async def load_history(self, keys: list[str]) -> MarketData:
        raws = await self.redis.mget([self.keys.history(k) for k in keys]) if keys else []
        return {k: decode_series(k, str(raw)) for k, raw in zip(keys, raws, strict=True) if raw}

    async def save_source_status(self, status: SourceStatus) -> None:
        self._guard()
        pipe = self.redis.pipeline(transaction=False)
        pipe.hset(self.keys.source_status(), status.name, json.dumps(status.__dict__))
        self._expire(pipe, self.keys.source_status())
        await pipe.execute()

    async def save_collector_run(self, at: datetime, interval_s: float) -> None:
        """The collector's heartbeat: when it last ran, and how often it should."""
        self._guard()
        await self.redis.set(self.keys.collection(), json.dumps(
            {"at": at.isoformat(), "interval_s": interval_s}), ex=self.ttl_s)

    def _expire(self, pipe: Any, key: str) -> None:
        if self.ttl_s is not None:
            pipe.expire(key, self.ttl_s)

    async def load_collector_run(self) -> tuple[datetime, float] | None:
        raw = await self.redis.get(self.keys.collection())
        if not raw:
            return None
        body = json.loads(raw)
        return datetime.fromisoformat(body["at"]), float(body["interval_s"])

    async def load_source_statuses(self) -> list[SourceStatus]:
        raw = await self.redis.hgetall(self.keys.source_status())
        return [SourceStatus(**json.loads(v)) for _, v in sorted(raw.items())]

    async def load_source_status(self, name: str) -> SourceStatus | None:
        raw = await self.redis.hget(self.keys.source_status(), name)
        return SourceStatus(**json.loads(raw)) if raw else None


def encode_series(ts: TimeSeries) -> str:
    """Compact JSON: first date, day offsets and values (about 12 bytes a point)."""
    index = pd.DatetimeIndex(ts.values.index)
    first = index[0] if len(index) else pd.Timestamp("1970-01-01")
    offsets = (index - first).days.tolist()
    return json.dumps({"source": ts.source, "first": first.date().isoformat(),
                       "days": offsets, "values": ts.values.tolist()}, separators=(",", ":"))


def decode_series(key: str, raw: str) -> TimeSeries:
    body = json.loads(raw)
    index = pd.Timestamp(body["first"]) + pd.to_timedelta(body["days"], unit="D")
    values = pd.Series(body["values"], index=pd.DatetimeIndex(index), dtype="float64", name=key)
    return TimeSeries(key, values, body["source"])
