"""The command path's caches (parsed snapshots, decoded readings, rendered replies): a reply
changes as soon as a new snapshot is stored, and every cache stays bounded."""

from __future__ import annotations

import copy
from collections.abc import AsyncIterator
from dataclasses import replace

import pytest

from bot.app import App, build_app
from bot.telegram.render import RENDERED_REPLIES_KEPT, render_html
from handlers.registry import Chat
from handlers.reply import Reply, Table
from services.metrics.btc import BtcReading
from services.readings import DecodedReadings
from services.settings import Secrets, Settings
from services.store import MetricStore, Snapshot
from tests.conftest import connect_real_redis, drop_prefix

pytestmark = pytest.mark.redis

CHAT = Chat("telegram", "77", "1")


@pytest.fixture
async def app(settings: Settings, test_prefix: str) -> AsyncIterator[App]:
    """A replay app on real Redis under a throwaway prefix, collected once."""
    redis = await connect_real_redis()
    prefixed = settings.model_copy(
        update={"store": settings.store.model_copy(update={"prefix": test_prefix})})
    app = await build_app(prefixed, Secrets(), redis=redis)
    await app.refresh()
    yield app
    await drop_prefix(redis, test_prefix)
    await app.aclose()


def _store(app: App) -> MetricStore:
    return app.hub.readings.store


def _with_btc_price(snap: Snapshot, value: float, computed_at: str) -> Snapshot:
    """The snapshot a later collection would store: a new BTC price."""
    payload = copy.deepcopy(snap.payload)
    payload["default"]["btc"]["price"]["value"] = value
    return replace(snap, payload=payload, computed_at=computed_at)


async def _btc_html(app: App) -> str:
    reply = await app.registry.call(app.context(CHAT), "btc", ())
    assert not reply.error, reply.title
    return "\n".join(render_html(reply))


async def test_reply_changes_right_after_a_new_collection(app: App) -> None:
    store = _store(app)
    first = await _btc_html(app)
    assert first == await _btc_html(app)  # served from the caches, unchanged
    snap = await store.load_snapshot("btc")
    assert snap is not None
    await store.save_snapshot(_with_btc_price(snap, 12345.6, "2099-01-01 00:00:00 UTC"))
    second = await _btc_html(app)
    assert "$12,346" in second
    assert second != first


async def test_same_version_new_numbers_are_still_seen(app: App) -> None:
    """The cache is keyed by the stored JSON itself, not by a timestamp a rewrite may keep."""
    store = _store(app)
    snap = await store.load_snapshot("btc")
    assert snap is not None
    await _btc_html(app)
    await store.save_snapshot(_with_btc_price(snap, 54321.0, snap.computed_at))
    assert "$54,321" in await _btc_html(app)


async def test_marking_stale_shows_at_once(app: App) -> None:
    store = _store(app)
    assert "stale" not in await _btc_html(app)
    assert await store.mark_stale("btc", "Coinbase HTTP 503")
    assert "Coinbase HTTP 503" in await _btc_html(app)


async def test_unchanged_snapshot_is_decoded_once(app: App) -> None:
    readings = app.hub.readings
    first = await readings.get("btc", BtcReading)
    again = await readings.get("btc", BtcReading)
    assert again.snapshot is first.snapshot
    assert again.reading is first.reading
    await _store(app).save_snapshot(replace(first.snapshot, computed_at="later"))
    fresh = await readings.get("btc", BtcReading)
    assert fresh.snapshot is not first.snapshot
    assert fresh.reading == first.reading and fresh.reading is not first.reading


async def test_decoded_readings_are_bounded(app: App) -> None:
    snap = await _store(app).load_snapshot("btc")
    assert snap is not None
    cache = DecodedReadings(size=3)
    stored = snap.payload["default"]
    for i in range(10):
        cache.get(replace(snap, computed_at=str(i)), f"label{i}", BtcReading, stored)
        assert len(cache) <= 3
    assert len(cache) == 3


def test_rendered_replies_are_bounded() -> None:
    from bot.telegram import render  # noqa: PLC0415 - the cache is the module's private LRU

    for i in range(RENDERED_REPLIES_KEPT + 50):
        reply = Reply(title=f"Reply {i}", tables=(Table(("", "v"), (("x", str(i)),)),))
        assert f"Reply {i}" in render_html(reply)[0]
    info = render._render_cached.cache_info()
    assert info.maxsize == RENDERED_REPLIES_KEPT
    assert info.currsize <= RENDERED_REPLIES_KEPT


def test_rendering_is_the_same_cached_or_not() -> None:
    reply = Reply(title="T", tables=(Table(("a", "b"), (("1", "2"),), "H"),), notes=("n",),
                  sources=("S",), asof="today")
    first = render_html(reply)
    first.append("mutated by a caller")
    assert render_html(reply) == render_html(replace(reply, chart_png=b"png"))
    unhashable = replace(reply, notes=["n"])  # type: ignore[arg-type]
    assert render_html(unhashable) == render_html(reply)
