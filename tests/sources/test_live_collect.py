"""A full live-mode refresh against the local upstream, on real Redis: stored metrics, then
every upstream failing: commands still answer from the last good data, marked stale."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from bot.app import App, build_app
from handlers.registry import Chat
from services.metrics.capex import CapexReading
from services.metrics.stablecoins import StablecoinReading
from services.settings import Secrets, Settings
from tests.conftest import connect_real_redis, drop_prefix
from tests.sources.conftest import Canned, FakeUpstream
from tests.sources.test_live import local_config, serve_everything


@pytest.fixture
async def live_app(settings: Settings, upstream: FakeUpstream,
                   test_prefix: str) -> AsyncIterator[App]:
    redis = await connect_real_redis()
    live = settings.model_copy(update={
        "mode": "live", "sources": local_config(upstream.url),
        "store": settings.store.model_copy(update={"prefix": test_prefix})})
    app = await build_app(live, Secrets(), redis=redis)
    yield app
    await drop_prefix(redis, test_prefix)
    await app.aclose()


async def test_live_refresh_stores_every_family(live_app: App, upstream: FakeUpstream) -> None:
    serve_everything(upstream)
    result = await live_app.refresh(force=True)
    assert live_app.hub.mode == "live"
    assert result.failed_sources == {}
    assert sorted(result.families_ok) == [
        "aitokens", "btc", "capex", "divergence", "stablecoins", "usage", "yields"]
    stable = (await live_app.hub.readings.get("stablecoins", StablecoinReading)).reading
    history = await live_app.store.load_history(["stablecoins.total"])
    assert stable.total.latest is not None
    assert stable.total.latest.value == history["stablecoins.total"].values.iloc[-1]
    capex = (await live_app.hub.readings.get("capex", CapexReading)).reading
    assert all(c.quarter_usd for c in capex.companies)
    reply = await live_app.registry.run_text(live_app.context(Chat("console", "t")), "/capex")
    assert not reply.error
    assert reply.title == "Hyperscaler capex"
    assert reply.sources == capex.sources and reply.sources


async def test_every_upstream_failing_keeps_last_good_data_stale(
    live_app: App, upstream: FakeUpstream
) -> None:
    serve_everything(upstream)
    await live_app.refresh(force=True)
    before = await live_app.store.load_snapshot("stablecoins")
    down = Canned(b'{"error":"down"}', status=503)
    for path, query in list(upstream.routes):
        upstream.serve(path, down, query=dict(query))
    result = await live_app.refresh(force=True)
    assert set(result.failed_sources) == {s.name for s in live_app.collector.sources}
    after = await live_app.store.load_snapshot("stablecoins")
    assert before is not None and after is not None
    assert after.stale and "upstream failed" in after.stale_reason
    assert after.payload == before.payload
    ctx = live_app.context(Chat("console", "t"))
    reply = await live_app.registry.run_text(ctx, "/stablecoins")
    assert not reply.error
    assert any(note.startswith("⚠ stale") for note in reply.notes)
    status = await live_app.registry.run_text(ctx, "/status")
    states = {row[0]: row[1] for row in status.tables[0].rows}
    assert set(states.values()) == {"FAILING"}
