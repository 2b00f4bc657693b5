"""A truncated answer whose data end moves backwards is an error, not "ok".

The finding: a FRED CSV cut short (its data end moved back 17 months) was accepted as ok.
Now a source whose newest point is older than what it gave last time fails with
DataMovedBack: `/status` shows it FAILING and its stored history is kept.
"""

from __future__ import annotations

from datetime import date

from redis.asyncio import Redis

from services.collector import Collector
from services.keys import Keys
from services.series import MarketData
from services.settings import Settings
from services.sources.replay import ReplaySource
from services.store import MetricStore

ASOF = date(2026, 3, 31)


class Truncating:
    """The snapshot source; `cut` drops every point after that date (a cut-off answer)."""

    name = "snapshot"

    def __init__(self, inner: ReplaySource) -> None:
        self.inner = inner
        self.cut: date | None = None

    async def fetch(self, asof: date) -> MarketData:
        data = await self.inner.fetch(asof)
        if self.cut is None:
            return data
        return {k: type(ts)(ts.key, ts.values.loc[: str(self.cut)], ts.source)
                for k, ts in data.items()}


async def test_a_data_end_that_moves_back_fails_the_source_and_keeps_history(
        clean_real_redis: Redis, test_prefix: str, settings: Settings) -> None:
    store = MetricStore(clean_real_redis, Keys(test_prefix))
    source = Truncating(ReplaySource(settings.data_dir()))
    collector = Collector([source], store, settings.baskets, today=lambda: ASOF)
    await collector.collect()
    before = await store.load_source_status("snapshot")
    assert before is not None and before.ok
    history = await store.load_history(["BTC"])
    source.cut = date(2024, 10, 31)  # 17 months gone from the end
    result = await collector.collect()
    after = await store.load_source_status("snapshot")
    assert after is not None and not after.ok
    assert "moved back" in after.error and after.last_data_date == before.last_data_date
    assert "snapshot" in result.failed_sources
    kept = await store.load_history(["BTC"])
    assert kept["BTC"].last_date == history["BTC"].last_date
