"""Live apps wired to the stand-ins, on real Redis, at the stand-in's fixed date."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, date, datetime, time
from typing import Any

from bot.app import App, build_app
from services.settings import Secrets, Settings
from services.sources.budget import BudgetedLimiter
from services.sources.config import LiveSourcesConfig
from tests.conftest import connect_real_redis, drop_prefix
from tests.standins.server import StandIn


class Clock:
    """The collector's clock: moved by the test, never by time passing."""

    def __init__(self, day: date) -> None:
        self.now = datetime.combine(day, time(21, 0), UTC)

    def __call__(self) -> datetime:
        return self.now


@asynccontextmanager
async def live_app(settings: Settings, standin: StandIn, prefix: str,
                   cfg: LiveSourcesConfig | None = None, secrets: Secrets | None = None,
                   clock: Clock | None = None, keep: bool = False,
                   **changes: Any) -> AsyncIterator[App]:
    """`keep` leaves the prefix in Redis (a restart test drops it itself)."""
    redis = await connect_real_redis()
    sources = cfg or standin.config(**changes)
    live = settings.model_copy(update={
        "mode": "live", "sources": sources,
        "store": settings.store.model_copy(update={"prefix": prefix})})
    app = await build_app(live, secrets or Secrets(), redis=redis)
    day = standin.market.today
    app.collector.today = lambda: day
    if clock is not None:  # the collector's cadences and every provider's budget windows
        app.collector.runner.clock = clock
        for chain in app.collector.chains:
            for provider in chain.providers:
                limiter = getattr(getattr(provider, "client", None), "limiter", None)
                if isinstance(limiter, BudgetedLimiter) and limiter.budget is not None:
                    limiter.budget.clock = clock
    app.hub = dataclasses.replace(app.hub, asof=day)
    try:
        yield app
    finally:
        if not keep:
            await drop_prefix(redis, prefix)
        await app.aclose()
