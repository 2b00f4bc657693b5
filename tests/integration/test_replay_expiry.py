"""Each replay as-of date keeps its own copy of the metrics in Redis: every key of it expires
(renewed by each collection), so as-of dates no longer run do not pile up. Live metrics and
alert state are kept."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from redis.asyncio import Redis

from bot.app import REPLAY_KEEP_S
from services.charts.catalog import CHARTS
from services.keys import Keys
from services.settings import Settings
from services.store import MetricStore, SourceStatus
from tests.conftest import collected_app
from tests.helpers import series

pytestmark = pytest.mark.redis
ASOF = date(2026, 5, 29)


async def ttls(redis: Redis, pattern: str) -> dict[str, int]:
    keys = [str(k) async for k in redis.scan_iter(match=pattern, count=1000)]
    async with redis.pipeline(transaction=False) as pipe:
        for key in keys:
            pipe.ttl(key)
        return dict(zip(keys, [int(t) for t in await pipe.execute()], strict=True))


async def test_a_replays_keys_all_expire_and_a_collection_renews_them(
        settings: Settings, test_prefix: str) -> None:
    async with collected_app(settings, test_prefix, ASOF) as app:
        spec = next(iter(CHARTS.values()))
        await app.hub.charts.chart(spec.name, spec.default_window, ASOF)  # cached per as-of
        await app.store.save_collector_run(datetime.now(UTC), 300)  # as the collector loop
        replay = await ttls(app.redis, f"{test_prefix}replay:{ASOF.isoformat()}:*")
        kinds = {k.split("}:")[1].split(":")[0] for k in replay}
        assert {"snap", "hist", "hist-index", "sources", "collection", "chart"} <= kinds
        assert all(0 < ttl <= REPLAY_KEEP_S for ttl in replay.values()), replay
        index = Keys(f"{test_prefix}replay:{ASOF.isoformat()}:").history_index()
        await app.redis.expire(index, 60)  # nearly gone; the next collection renews it
        await app.refresh()
        assert REPLAY_KEEP_S - 60 < await app.redis.ttl(index) <= REPLAY_KEEP_S


async def test_a_live_store_keeps_its_keys(clean_real_redis: Redis, test_prefix: str) -> None:
    store = MetricStore(clean_real_redis, Keys(test_prefix))
    await store.save_history({"BTC": series("BTC", {"2026-05-29": 1.0})})
    await store.save_source_status(SourceStatus("s", True, "", "", "", ""))
    assert set((await ttls(clean_real_redis, f"{test_prefix}*")).values()) == {-1}
