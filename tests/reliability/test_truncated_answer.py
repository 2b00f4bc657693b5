"""A truncated answer whose data end moves backwards is an error, not "ok".

The finding: a FRED CSV cut short (its data end moved back 17 months) was accepted as ok.
Now a source whose newest point is older than what it gave last time fails with
DataMovedBack: `/status` shows it FAILING and its stored history is kept. The live provider
chains top series up from their last stored day: an answer that ends before that day is
not taken from that provider (the next one is asked), and with none left the chain fails.
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from redis.asyncio import Redis

from handlers.registry import Chat
from services.collector import Collector
from services.keys import Keys
from services.series import MarketData
from services.settings import Secrets, Settings
from services.sources.replay import ReplaySource
from services.store import MetricStore
from tests.standins.apis import DEMO_KEY
from tests.standins.apps import live_app
from tests.standins.server import running_standin

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


@pytest.mark.redis
async def test_a_live_answer_that_ends_before_the_stored_data_fails_its_chain(
        settings: Settings, test_prefix: str) -> None:
    async with running_standin(ASOF) as standin, live_app(
            settings, standin, test_prefix, secrets=Secrets(coingecko_api_key=DEMO_KEY)) as app:
        first = await app.refresh(force=True)
        assert "equities" not in first.failed_sources, first.failed_sources
        stored = (await app.store.load_history(["NVDA"]))["NVDA"]
        assert stored.last_date == ASOF
        standin.market.ends["NVDA"] = ASOF - timedelta(days=1)  # inside the top-up overlap
        result = await app.refresh(force=True)
        why = result.failed_sources.get("equities", "")
        assert "NVDA: data end moved back from 2026-03-31 to 2026-03-30" in why, why
        assert (await app.store.load_history(["NVDA"]))["NVDA"].last_date == ASOF  # kept
        assert "btc" in result.families_ok  # the other chains are not touched
        status = await app.registry.run_text(app.context(Chat("telegram", "42")), "/status")
        sources = {row[0]: row for row in status.tables[0].rows}
        assert sources["equities"][1] == "FAILING" and "moved back" in sources["equities"][4]
