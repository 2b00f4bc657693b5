"""Fetch every source, compute every metric family, store snapshots and history."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from services.baskets import Baskets
from services.families import FAMILIES, Family
from services.series import MarketData, merge_series
from services.sources import SeriesSource
from services.store import MetricStore, Snapshot, SourceStatus, utc_now
from services.windows import STANDARD_WINDOWS, YTD

logger = logging.getLogger(__name__)


@dataclass
class CollectionResult:
    asof: date
    fresh_keys: set[str] = field(default_factory=set)
    failed_sources: dict[str, str] = field(default_factory=dict)
    families_ok: list[str] = field(default_factory=list)
    families_stale: dict[str, str] = field(default_factory=dict)


class Collector:
    def __init__(self, sources: list[SeriesSource], store: MetricStore, baskets: Baskets,
                 today: Callable[[], date]) -> None:
        self.sources = sources
        self.store = store
        self.baskets = baskets
        self.today = today

    async def collect(self, asof: date | None = None) -> CollectionResult:
        """One full refresh; a failing source keeps its last good data, marked stale."""
        result = CollectionResult(asof=asof or self.today())
        data: MarketData = {}
        for source in self.sources:
            data.update(await self._fetch(source, result))
        stored = await self.store.load_history(sorted(data))
        data = {key: merge_series(stored.get(key), fresh) for key, fresh in data.items()}
        await self.store.save_history(data)
        needed = {k for fam in FAMILIES for k in fam.inputs(self.baskets)}
        data.update(await self.store.load_history(sorted(needed - data.keys())))
        for family in FAMILIES:
            await self._compute(family, data, result)
        return result

    async def _fetch(self, source: SeriesSource, result: CollectionResult) -> MarketData:
        previous = await self.store.load_source_status(source.name)
        now = utc_now()
        try:
            part = await source.fetch(result.asof)
        except Exception as exc:
            reason = f"{exc.__class__.__name__}: {exc}"[:300]
            logger.exception("source failed: source=%s", source.name)
            result.failed_sources[source.name] = reason
            await self.store.save_source_status(SourceStatus(
                source.name, False, now, previous.last_ok_at if previous else "",
                previous.last_data_date if previous else "", reason))
            return {}
        result.fresh_keys.update(part)
        last = max((ts.last_date for ts in part.values() if ts.last_date), default=None)
        await self.store.save_source_status(SourceStatus(
            source.name, True, now, now, last.isoformat() if last else "", ""))
        return part

    async def _compute(self, family: Family, data: MarketData, result: CollectionResult) -> None:
        inputs = family.inputs(self.baskets)
        missing_fresh = [k for k in inputs if k in data and k not in result.fresh_keys]
        reason = ""
        if missing_fresh and result.failed_sources:
            reason = "upstream failed: " + "; ".join(
                f"{name} ({err})" for name, err in result.failed_sources.items())
        try:
            payload = await asyncio.to_thread(self._readings, family, data, result.asof)
        except Exception as exc:
            logger.exception("metric failed: family=%s", family.name)
            reason = f"compute failed: {exc.__class__.__name__}"
            if not await self.store.mark_stale(family.name, reason):
                logger.error("no earlier snapshot to fall back to: family=%s", family.name)
            result.families_stale[family.name] = reason
            return
        sources = sorted({s for r in payload.values() for s in r["sources"]})
        await self.store.save_snapshot(Snapshot(
            family.name, result.asof.isoformat(), utc_now(), tuple(sources), bool(reason),
            reason, payload))
        if reason:
            result.families_stale[family.name] = reason
        else:
            result.families_ok.append(family.name)

    def _readings(self, family: Family, data: MarketData,
                  asof: date) -> dict[str, dict[str, Any]]:
        windows = STANDARD_WINDOWS if family.windowed else (YTD,)
        return {
            (w.label if family.windowed else "default"): dataclasses.asdict(
                family.compute(data, asof, self.baskets, w))
            for w in windows
        }
