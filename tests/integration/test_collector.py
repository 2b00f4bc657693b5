"""Collection on real Redis: fresh metrics, and last good data kept stale when a source fails."""

from dataclasses import replace
from datetime import date

import pytest
from redis.asyncio import Redis

from bot.app import build_app
from handlers.catalog import build_registry
from handlers.registry import Chat, CommandContext
from services.collector import Collector
from services.keys import Keys
from services.metrics.divergence import DivergenceReading
from services.readings import ReadingsService
from services.series import MarketData
from services.settings import Secrets, Settings
from services.sources import SourceError
from services.sources.replay import ReplaySource
from services.store import MetricStore
from services.windows import SINCE_2024

ASOF = date(2026, 3, 31)


class FlakySource:
    """Wraps the snapshot source; fails on demand like a dead upstream."""

    name = "snapshot"

    def __init__(self, inner: ReplaySource) -> None:
        self.inner = inner
        self.fail = False

    async def fetch(self, asof: date) -> MarketData:
        if self.fail:
            raise SourceError("HTTP 503 from upstream")
        return await self.inner.fetch(asof)


@pytest.fixture
def flaky(settings: Settings) -> FlakySource:
    return FlakySource(ReplaySource(settings.data_dir()))


@pytest.fixture
def real_store(clean_real_redis: Redis, test_prefix: str) -> MetricStore:
    return MetricStore(clean_real_redis, Keys(test_prefix))


async def test_collect_stores_every_family(real_store: MetricStore, settings: Settings,
                                           flaky: FlakySource) -> None:
    collector = Collector([flaky], real_store, settings.baskets, today=lambda: ASOF)
    result = await collector.collect(ASOF)
    assert sorted(result.families_ok) == [
        "aitokens", "btc", "capex", "divergence", "stablecoins", "usage", "yields"]
    readings = ReadingsService(real_store, settings.baskets)
    got = await readings.get("divergence", DivergenceReading, SINCE_2024)
    assert got.reading.asof == "2026-03-31"
    assert got.reading.spread_pp is not None
    assert not got.snapshot.stale


async def test_failed_source_keeps_last_good_data_marked_stale(
    real_store: MetricStore, settings: Settings, flaky: FlakySource
) -> None:
    collector = Collector([flaky], real_store, settings.baskets, today=lambda: ASOF)
    await collector.collect(ASOF)
    before = await real_store.load_snapshot("btc")
    flaky.fail = True
    result = await collector.collect(ASOF)
    assert result.failed_sources == {"snapshot": "SourceError: HTTP 503 from upstream"}
    after = await real_store.load_snapshot("btc")
    assert before is not None and after is not None
    assert after.stale and "HTTP 503" in after.stale_reason
    assert after.payload == before.payload
    status = await real_store.load_source_status("snapshot")
    assert status is not None and not status.ok and status.last_ok_at


async def test_stale_data_is_said_in_the_reply_and_status(
    real_store: MetricStore, settings: Settings, flaky: FlakySource
) -> None:
    collector = Collector([flaky], real_store, settings.baskets, today=lambda: ASOF)
    await collector.collect(ASOF)
    flaky.fail = True
    await collector.collect(ASOF)
    # The app's services, with readings over the store the flaky collector wrote.
    app = await build_app(settings, Secrets(), redis=real_store.redis, asof=ASOF)
    hub = replace(app.hub, readings=ReadingsService(real_store, settings.baskets))
    registry = build_registry()
    ctx = CommandContext(hub, Chat("console", "c1"), registry)
    btc = await registry.run_text(ctx, "/btc")
    assert any("stale" in n and "HTTP 503" in n for n in btc.notes)
    status = await registry.run_text(ctx, "/status")
    assert status.tables[0].rows[0][:2] == ("snapshot", "FAILING")
