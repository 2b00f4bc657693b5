"""History fetched once, then topped up: the chains' side of a collection.

First start: every series not in Redis is seeded from the bundled snapshot, then each chain
fetches from the last stored day on (three days of overlap), so a restart or a second
process never downloads history again. A chain runs only when its cadence is due (a
failed chain retries sooner); every chain runs at once, and a collection given a deadline
stops waiting for the slow ones and says so.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from services.series import MarketData
from services.sources.budget import BudgetedLimiter, usage_line
from services.sources.chain import Chain, ChainResult, Provider
from services.sources.health import HealthStore
from services.store import MetricStore, SourceStatus

logger = logging.getLogger(__name__)

STAMP = "%Y-%m-%d %H:%M:%S UTC"
RETRY_FAILED = timedelta(minutes=15)  # a failed daily chain does not wait a day
Seed = Callable[[date], Awaitable[MarketData]]


def stamp(when: datetime) -> str:
    return when.astimezone(UTC).strftime(STAMP)


def parse_stamp(text: str) -> datetime | None:
    try:
        return datetime.strptime(text, STAMP).replace(tzinfo=UTC)
    except ValueError:
        return None


@dataclass
class TopUp:
    data: MarketData = field(default_factory=dict)  # fresh from providers
    failed: dict[str, str] = field(default_factory=dict)  # chain -> why
    failed_keys: dict[str, str] = field(default_factory=dict)  # series key -> chain's why
    failed_providers: dict[str, str] = field(default_factory=dict)  # provider -> why
    ran: list[str] = field(default_factory=list)
    seeded: list[str] = field(default_factory=list)


class ChainRunner:
    def __init__(self, chains: list[Chain], store: MetricStore, health: HealthStore,
                 clock: Callable[[], datetime], seed: Seed | None = None) -> None:
        self.chains, self.store, self.health = chains, store, health
        self.clock, self.seed = clock, seed

    async def run(self, asof: date, deadline: float | None = None,
                  force: bool = False) -> TopUp:
        out = TopUp()
        history = await self._history(asof, out)
        since = {k: d for k, ts in history.items() if (d := ts.last_date) is not None}
        now = self.clock()
        due = [c for c in self.chains if force or await self._due(c, now)]
        tasks = {asyncio.create_task(c.fetch(asof, since, now)): c for c in due}
        done, pending = await asyncio.wait(tasks, timeout=deadline) if tasks else (set(), set())
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)
        for task, chain in tasks.items():
            if task in done and task.exception() is None:
                await self._record(chain, task.result(), now, out)
            else:
                why = (f"no answer within {deadline:.0f} s" if task in pending
                       else f"{type(task.exception()).__name__}: {task.exception()}"[:300])
                await self._record(chain, ChainResult(missing=chain.series_keys()), now, out, why)
        return out

    async def _history(self, asof: date, out: TopUp) -> MarketData:
        keys = sorted({k for c in self.chains for k in c.series_keys()})
        history = await self.store.load_history(keys)
        absent = [k for k in keys if k not in history]
        if absent and self.seed is not None:
            bundled = await self.seed(asof)
            seeded = {k: bundled[k] for k in absent if k in bundled}
            if seeded:
                await self.store.save_history(seeded)
                history.update(seeded)
                out.seeded = sorted(seeded)
                logger.info("history seeded from the bundled snapshot: %d series",
                            len(seeded))
        return history

    async def _due(self, chain: Chain, now: datetime) -> bool:
        status = await self.store.load_source_status(chain.name)
        if status is None:
            return True
        last = parse_stamp(status.checked_at)
        if last is not None and not status.ok and now - last >= min(RETRY_FAILED,
                                                                    chain.cadence):
            return True
        return chain.due(now, last)

    async def _record(self, chain: Chain, result: ChainResult, now: datetime, out: TopUp,
                      why: str = "") -> None:
        out.ran.append(chain.name)
        out.data.update(result.data)
        out.failed_providers.update({o.provider: o.error for o in result.outcomes if not o.ok})
        reason = why or (f"no provider served {', '.join(sorted(result.missing))}"
                         f"{': ' + result.errors if result.errors else ''}"
                         if result.missing else "")
        previous = await self.store.load_source_status(chain.name)
        at = stamp(now)
        if reason:
            out.failed[chain.name] = reason[:300]
            out.failed_keys.update(dict.fromkeys(result.missing, reason[:300]))
        last = max((ts.last_date for ts in result.data.values() if ts.last_date), default=None)
        await self.store.save_source_status(SourceStatus(
            chain.name, not reason, at, at if not reason else (
                previous.last_ok_at if previous else ""),
            last.isoformat() if last else (previous.last_data_date if previous else ""),
            reason[:300]))
        ranks = {p.name: i + 1 for i, p in enumerate(chain.providers)}
        usage = {p.name: await budget_usage(p) for p in chain.providers}
        await self.health.record(chain.name, ranks, result.outcomes, at, usage)


async def budget_usage(provider: Provider) -> str:
    """'3/5 per minute, 40/5000 per month' from the provider's client, '' without a budget."""
    limiter = getattr(getattr(provider, "client", None), "limiter", None)
    if not isinstance(limiter, BudgetedLimiter) or limiter.budget is None:
        return ""
    return usage_line(await limiter.budget.used(), limiter.budget.tier)
