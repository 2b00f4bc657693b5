"""What handlers read: typed readings from the stored snapshots, never from upstream."""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from dataclasses import dataclass
from datetime import date
from typing import Any, Generic, TypeVar, cast

from pydantic import TypeAdapter
from redis.exceptions import RedisError

from services.baskets import Baskets
from services.errors import Unavailable
from services.families import FAMILIES, FAMILY_BY_NAME
from services.freshness import SeriesAge, series_ages
from services.sources.health import HealthStore, ProviderHealth
from services.store import MetricStore, Snapshot, SourceStatus
from services.windows import YTD, Window

T = TypeVar("T")
DECODED_READINGS_KEPT = 128  # (family, window, type) entries; the stored windows number ~40


@dataclass(frozen=True)
class Stamped(Generic[T]):
    """A reading with the freshness of the snapshot it came from."""

    reading: T
    snapshot: Snapshot


_DECODERS: dict[type, TypeAdapter[Any]] = {}


def decode(reading_type: type[T], stored: Any) -> T:
    """A stored reading back as its frozen dataclass, validated by pydantic (one
    TypeAdapter per type: building one is slow, using it is not)."""
    adapter = _DECODERS.get(reading_type)
    if adapter is None:
        adapter = _DECODERS[reading_type] = TypeAdapter(reading_type)
    return cast(T, adapter.validate_python(stored))


class DecodedReadings:
    """A bounded LRU of readings decoded from stored snapshots. An entry answers only for the
    very snapshot object it was decoded from: the store hands out a new object as soon as
    the stored JSON changes (a new collection, a stale mark), so nothing stale is served."""

    def __init__(self, size: int = DECODED_READINGS_KEPT) -> None:
        self.size = size
        self._entries: OrderedDict[tuple[str, str, type], tuple[Snapshot, Any]] = OrderedDict()

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, snap: Snapshot, label: str, reading_type: type[T], stored: Any) -> T:
        key = (snap.family, label, reading_type)
        entry = self._entries.get(key)
        if entry is not None and entry[0] is snap:
            self._entries.move_to_end(key)
            return cast(T, entry[1])
        reading = decode(reading_type, stored)
        self._entries[key] = (snap, reading)
        self._entries.move_to_end(key)
        if len(self._entries) > self.size:
            self._entries.popitem(last=False)
        return reading


class ReadingsService:
    def __init__(self, store: MetricStore, baskets: Baskets) -> None:
        self.store = store
        self.baskets = baskets
        self.decoded = DecodedReadings()

    async def get(self, family_name: str, reading_type: type[T],
                  window: Window | None = None) -> Stamped[T]:
        family = FAMILY_BY_NAME[family_name]
        snap = await self._snapshot(family_name)
        label = window.label if family.windowed and window is not None else "default"
        if window is None:
            if family.windowed:
                raise ValueError(f"{family_name} needs a window")
            window = YTD
        stored = snap.payload.get(label)
        if stored is not None:
            return Stamped(self.decoded.get(snap, label, reading_type, stored), snap)
        # An uncommon window: compute it from the stored history, at the snapshot's as-of.
        try:
            data = await self.store.load_history(family.inputs(self.baskets))
        except RedisError as exc:
            raise Unavailable("data store temporarily unavailable; try again shortly") from exc
        asof = date.fromisoformat(snap.asof)
        reading: Any = await asyncio.to_thread(family.compute, data, asof, self.baskets, window)
        return Stamped(reading, snap)

    async def series_ages(self, asof: date) -> list[SeriesAge]:
        """Every series the metric families read: last data date and age at `asof`."""
        keys = sorted({k for fam in FAMILIES for k in fam.inputs(self.baskets)})
        try:
            data = await self.store.load_history(keys)
        except RedisError as exc:
            raise Unavailable("data store temporarily unavailable; try again shortly") from exc
        return series_ages(data, keys, asof)

    async def source_statuses(self) -> list[SourceStatus]:
        try:
            return await self.store.load_source_statuses()
        except RedisError as exc:
            raise Unavailable("data store temporarily unavailable; try again shortly") from exc

    async def provider_health(self) -> list[ProviderHealth]:
        try:
            return await HealthStore(self.store.redis, self.store.keys).load()
        except RedisError as exc:
            raise Unavailable("data store temporarily unavailable; try again shortly") from exc

    async def snapshots(self) -> dict[str, Snapshot | None]:
        return {name: await self._snapshot_or_none(name) for name in FAMILY_BY_NAME}

    async def _snapshot_or_none(self, name: str) -> Snapshot | None:
        try:
            return await self.store.load_snapshot(name)
        except RedisError as exc:
            raise Unavailable("data store temporarily unavailable; try again shortly") from exc

    async def _snapshot(self, name: str) -> Snapshot:
        snap = await self._snapshot_or_none(name)
        if snap is None:
            raise Unavailable(f"no {name} data collected yet; try again in a minute")
        return snap
