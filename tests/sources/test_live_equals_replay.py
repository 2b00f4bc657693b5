"""Live mode against a server that answers like Yahoo and CoinGecko, serving the bundled
snapshot's own closes in their real response shapes, gives the same metrics as replay."""

from __future__ import annotations

import csv
import json
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

import fakeredis
import pytest

from bot.app import build_app
from services.metrics.btc import BtcReading
from services.metrics.divergence import DivergenceReading
from services.settings import Secrets, Settings
from services.sources.coingecko import DEFAULT_COINS
from services.sources.yahoo import DEFAULT_SYMBOLS
from services.windows import SINCE_2024, YTD, Window
from tests.sources.conftest import Canned, FakeUpstream
from tests.sources.test_live import local_config

DATA = Path(__file__).resolve().parents[2] / "data" / "series"
ASOF = date(2026, 5, 29)
ZONES = {"000660.KS": ("Asia/Seoul", time(0, 0)), "^GSPC": ("America/New_York", time(13, 30))}


def closes(key: str) -> list[tuple[date, float]]:
    with (DATA / f"{key}.csv").open() as fh:
        rows = [(date.fromisoformat(r["date"]), float(r["close"])) for r in csv.DictReader(fh)]
    return [(d, v) for d, v in rows if d <= ASOF]


def yahoo_body(symbol: str, key: str) -> dict[str, Any]:
    """A chart v8 body: bars stamped at the session open (UTC seconds), local zone named."""
    zone, open_utc = ZONES.get(symbol, ("America/New_York", time(13, 30)))
    rows = closes(key)
    stamps = [int(datetime.combine(d, open_utc, UTC).timestamp()) for d, _ in rows]
    values = [v for _, v in rows]
    return {"chart": {"error": None, "result": [{
        "meta": {"symbol": symbol, "exchangeTimezoneName": zone, "gmtoffset": 0},
        "timestamp": stamps,
        "indicators": {"quote": [{"close": values}], "adjclose": [{"adjclose": values}]}}]}}


def coingecko_body(key: str) -> dict[str, Any]:
    """A market_chart body: the close of day D stamped D+1 00:00Z in ms, plus a "now" point."""
    rows = closes(key)
    stamp = [int(datetime.combine(d + timedelta(days=1), time(0), UTC).timestamp() * 1000)
             for d, _ in rows]
    prices = [[ms, v] for ms, (_, v) in zip(stamp, rows, strict=True)]
    caps = [[ms, v * 1e7] for ms, (_, v) in zip(stamp, rows, strict=True)]
    now = stamp[-1] + 3_600_000
    return {"prices": [*prices, [now, 1.0]], "market_caps": [*caps, [now, 1.0]],
            "total_volumes": [[ms, 1.0] for ms in stamp]}


def serve_snapshot(upstream: FakeUpstream) -> None:
    for symbol, key in DEFAULT_SYMBOLS.items():
        upstream.serve(f"/v8/finance/chart/{symbol}",
                       Canned(json.dumps(yahoo_body(symbol, key)).encode()))
    for coin, key in DEFAULT_COINS.items():
        if (DATA / f"{key}.csv").exists():
            upstream.serve(f"/api/v3/coins/{coin}/market_chart",
                           Canned(json.dumps(coingecko_body(key)).encode()))


@pytest.mark.parametrize("window", [SINCE_2024, YTD, Window("days", days=90)])
async def test_divergence_live_equals_replay(settings: Settings, upstream: FakeUpstream,
                                             window: Window) -> None:
    serve_snapshot(upstream)
    cfg = local_config(upstream.url, enabled=False).model_copy(update={
        "coingecko": local_config(upstream.url).coingecko.model_copy(update={"days": 5000})})
    live = settings.model_copy(update={"mode": "live", "sources": cfg})
    live_app = await build_app(live, Secrets(), redis=fakeredis.FakeAsyncRedis(
        decode_responses=True))
    replay_app = await build_app(settings, Secrets(), asof=ASOF,
                                 redis=fakeredis.FakeAsyncRedis(decode_responses=True))
    try:
        await live_app.collector.collect(ASOF)
        await replay_app.refresh()
        got = {}
        for name, app in (("live", live_app), ("replay", replay_app)):
            got[name] = (await app.hub.readings.get("divergence", DivergenceReading,
                                                    window)).reading
        live_r, replay_r = got["live"], got["replay"]
        assert live_r.spread_pp is not None
        assert live_r.spread_pp == pytest.approx(replay_r.spread_pp, abs=1e-9)
        for a, b in zip((*live_r.ai, *live_r.crypto, live_r.benchmark),
                        (*replay_r.ai, *replay_r.crypto, replay_r.benchmark), strict=True):
            assert (a.key, a.base_date, a.end_date) == (b.key, b.base_date, b.end_date)
            assert a.pct == pytest.approx(b.pct, abs=1e-9), a.key
        live_btc = (await live_app.hub.readings.get("btc", BtcReading)).reading
        replay_btc = (await replay_app.hub.readings.get("btc", BtcReading)).reading
        assert live_btc.btc.drawdown_pct == pytest.approx(replay_btc.btc.drawdown_pct)
        assert live_btc.spx_ytd_pct == pytest.approx(replay_btc.spx_ytd_pct)
    finally:
        await live_app.aclose()
        await replay_app.aclose()
