"""Fetch every source, compute every metric family, store snapshots and history."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from services.baskets import Baskets
from services.families import FAMILIES, Family
from services.series import MarketData, merge_series
from services.sources import SeriesSource, SourceError
from services.sources.chain import Chain
from services.sources.health import HealthStore
from services.sources.parsing import take_gap_counts
from services.sources.topup import ChainRunner, Seed
from services.store import MetricStore, Snapshot, SourceStatus, utc_now
from services.windows import STANDARD_WINDOWS, YTD

logger = logging.getLogger(__name__)
NO_DATA = "no data"  # the stale reason's prefix when an input was never collected


@dataclass
class CollectionResult:
    asof: date
    fresh_keys: set[str] = field(default_factory=set)
    failed_sources: dict[str, str] = field(default_factory=dict)
    families_ok: list[str] = field(default_factory=list)
    families_stale: dict[str, str] = field(default_factory=dict)
    failed_keys: dict[str, str] = field(default_factory=dict)  # series key -> why
    failed_providers: dict[str, str] = field(default_factory=dict)  # provider -> why
    chains_run: list[str] = field(default_factory=list)
    seeded: list[str] = field(default_factory=list)


def _utc_clock() -> datetime:
    return datetime.now(UTC)


class Collector:
    def __init__(self, sources: list[SeriesSource] | list[Chain], store: MetricStore,
                 baskets: Baskets, today: Callable[[], date],
                 clock: Callable[[], datetime] = _utc_clock, seed: Seed | None = None) -> None:
        self.sources = sources
        self.store = store
        self.baskets = baskets
        self.today = today
        self.chains = [s for s in sources if isinstance(s, Chain)]
        self.plain: list[SeriesSource] = [s for s in sources if not isinstance(s, Chain)]
        self.runner = ChainRunner(self.chains, store, HealthStore(store.redis, store.keys),
                                  clock, seed)

    async def collect(self, asof: date | None = None, deadline: float | None = None,
                      force: bool = False) -> CollectionResult:
        """One refresh; a failing source keeps its last good data, marked stale. Chains run
        when their cadence is due (all of them with `force`); `deadline` bounds the wait."""
        result = CollectionResult(asof=asof or self.today())
        data: MarketData = {}
        for source in self.plain:
            data.update(await self._fetch(source, result))
        if self.chains:
            top = await self.runner.run(result.asof, deadline, force)
            data.update(top.data)
            result.fresh_keys.update(top.data)
            result.failed_sources.update(top.failed)
            result.failed_keys.update(top.failed_keys)
            result.failed_providers.update(top.failed_providers)
            result.chains_run, result.seeded = top.ran, top.seeded
        gaps = take_gap_counts()
        if gaps:
            logger.info("upstream gaps skipped: %s", ", ".join(
                f"{provider}={n}" for provider, n in sorted(gaps.items())))
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
            moved_back(source.name, part, previous)
        except Exception as exc:
            reason = f"{exc.__class__.__name__}: {exc}"[:300]
            logger.exception("source failed: source=%s", source.name)
            result.failed_sources[source.name] = reason
            result.failed_keys["*"] = reason
            await self.store.save_source_status(SourceStatus(
                source.name, False, now, previous.last_ok_at if previous else "",
                previous.last_data_date if previous else "", reason))
            return {}
        result.fresh_keys.update(part)
        last = max((ts.last_date for ts in part.values() if ts.last_date), default=None)
        await self.store.save_source_status(SourceStatus(
            source.name, True, now, now, last.isoformat() if last else "", ""))
        return part

    def _stale_reason(self, inputs: list[str], data: MarketData,
                      result: CollectionResult) -> str:
        """'' when fresh; 'no data: ...' when an input was never collected and its source
        failed; else why an input is old. Only the family's own sources count."""
        failed = {k: result.failed_keys.get(k) or result.failed_keys.get("*") for k in inputs}
        failed = {k: why for k, why in failed.items() if why}
        absent = [k for k in failed if k not in data]
        if absent:
            return f"{NO_DATA} for {', '.join(absent)}: {failed[absent[0]]}"
        old = [k for k in failed if k not in result.fresh_keys]
        if old:
            return f"upstream failed: {failed[old[0]]}"
        return ""

    async def _compute(self, family: Family, data: MarketData, result: CollectionResult) -> None:
        reason = self._stale_reason(family.inputs(self.baskets), data, result)
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


class DataMovedBack(SourceError):
    """An answer whose data ends before what the source gave last time: a truncated answer
    (a FRED CSV cut short), not news. The source fails; its stored history is kept."""


def moved_back(name: str, part: MarketData, previous: SourceStatus | None) -> None:
    last = max((ts.last_date for ts in part.values() if ts.last_date), default=None)
    if previous is None or not previous.last_data_date or last is None:
        return
    if last.isoformat() < previous.last_data_date:
        raise DataMovedBack(f"{name}: data end moved back from {previous.last_data_date} to "
                            f"{last.isoformat()} (truncated answer?)")
