"""Live mode against stand-ins that behave like the real services (Yahoo's cookie and crumb
through the impersonating client, exchanges' candle limits, CoinGecko's plans) and serve
the bundled snapshot's own values: at a fixed date, /divergence since:2024-01-01, /btc with
its all-time high and /thesis equal replay at that date. Nothing is backfilled from the
bundled snapshot here: every point came through a provider."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date

import pytest

from bot.app import App, build_app
from handlers.registry import Chat
from services.metrics.btc import BtcReading
from services.metrics.divergence import DivergenceReading
from services.settings import Secrets, Settings
from services.windows import SINCE_2024, YTD, Window
from tests.standins.apis import DEMO_KEY
from tests.standins.apps import live_app
from tests.standins.server import StandIn, running_standin

pytestmark = pytest.mark.redis
ASOF = date(2026, 5, 29)
DEMO = Secrets(coingecko_api_key=DEMO_KEY)


@pytest.fixture
async def standin() -> AsyncIterator[StandIn]:
    async with running_standin(ASOF) as s:
        yield s


@pytest.fixture
async def replay(settings: Settings) -> AsyncIterator[App]:
    import fakeredis  # noqa: PLC0415

    app = await build_app(settings, Secrets(), asof=ASOF,
                          redis=fakeredis.FakeAsyncRedis(decode_responses=True))
    await app.refresh()
    yield app
    await app.aclose()


@pytest.fixture
async def live(settings: Settings, standin: StandIn, test_prefix: str) -> AsyncIterator[App]:
    async with live_app(settings, standin, test_prefix, secrets=DEMO,
                        backfill_from_snapshot=False) as app:
        result = await app.refresh()
        assert result.seeded == []
        yield app


@pytest.mark.parametrize("window", [SINCE_2024, YTD, Window("days", days=90)])
async def test_divergence_live_equals_replay(live: App, replay: App, window: Window) -> None:
    got = [(await app.hub.readings.get("divergence", DivergenceReading, window)).reading
           for app in (live, replay)]
    ours, theirs = got
    assert ours.spread_pp is not None
    assert ours.spread_pp == pytest.approx(theirs.spread_pp, abs=1e-9)
    for a, b in zip((*ours.ai, *ours.crypto, ours.benchmark),
                    (*theirs.ai, *theirs.crypto, theirs.benchmark), strict=True):
        assert (a.key, a.base_date, a.end_date) == (b.key, b.base_date, b.end_date)
        assert a.pct == pytest.approx(b.pct, abs=1e-9), a.key


async def test_btc_with_its_all_time_high_equals_replay(live: App, replay: App) -> None:
    ours, theirs = [(await app.hub.readings.get("btc", BtcReading)).reading
                    for app in (live, replay)]
    assert (ours.btc.ath, ours.btc.ath_date) == (theirs.btc.ath, theirs.btc.ath_date)
    assert ours.btc.ath is not None
    assert ours.btc.drawdown_pct == pytest.approx(theirs.btc.drawdown_pct)
    assert ours.spx_ytd_pct == pytest.approx(theirs.spx_ytd_pct)
    history = await live.store.load_history(["BTC"])
    assert history["BTC"].first_date == date(2023, 6, 1)  # years back, not CoinGecko's 365d


async def test_thesis_equals_replay(live: App, replay: App) -> None:
    assert live.hub.thesis is not None and replay.hub.thesis is not None
    ours = await live.hub.thesis.scorecard(ASOF)
    theirs = await replay.hub.thesis.scorecard(ASOF)
    assert [(c.n, c.verdict, c.day, c.since) for c in ours.claims] == \
        [(c.n, c.verdict, c.day, c.since) for c in theirs.claims]
    assert [[n.value for n in c.numbers] for c in ours.claims] == \
        [[n.value for n in c.numbers] for c in theirs.claims]
    reply = await live.registry.run_text(live.context(Chat("console", "t")), "/thesis")
    assert not reply.error


async def test_each_series_came_from_its_chain_in_order(live: App, standin: StandIn) -> None:
    health = {h.provider: h for h in await live.collector.runner.health.load()}
    assert set(health["coinbase"].served) == {"BTC", "ETH", "NEAR", "ICP", "RENDER", "FET"}
    assert "VVV" in health["kraken"].served  # Coinbase does not list it: the next one did
    assert "TAO" in health["binance"].served  # nor Kraken (in this stand-in): Binance
    assert health["yahoo"].state == "ok" and "NVDA" in health["yahoo"].served
    assert health["coinbase"].check.startswith("agrees vs kraken")
    crumbs = standin.calls("yahoo")
    assert any(h.path.endswith("/getcrumb") for h in crumbs)
    charts = [h for h in crumbs if "/chart/" in h.path]
    assert charts and all("A3=" in h.headers.get("Cookie", "") for h in charts)
    assert all("Chrome" in h.headers.get("User-Agent", "") for h in charts)
