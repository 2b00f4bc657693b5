"""Metric values match an independent recomputation from data/ (plain csv, no project code)."""

from __future__ import annotations

import csv
from bisect import bisect_left, bisect_right
from datetime import date, timedelta
from pathlib import Path

import fakeredis
import pytest

from bot.app import build_app
from handlers.registry import Chat
from services.metrics.btc import BtcReading
from services.metrics.divergence import DivergenceReading
from services.metrics.stablecoins import StablecoinReading
from services.settings import Secrets, Settings
from services.windows import parse_window

DATA = Path(__file__).resolve().parents[2] / "data" / "series"
AI = ["NVDA", "AMD", "MU", "DELL", "SMH", "SOXX", "000660.KS"]
CRYPTO = ["BTC", "ETH"]
TOLERANCE_PP = 0.1


def load(key: str) -> tuple[list[date], list[float]]:
    with (DATA / f"{key}.csv").open() as fh:
        rows = list(csv.DictReader(fh))
    return [date.fromisoformat(r["date"]) for r in rows], [float(r["close"]) for r in rows]


def on_or_before(key: str, day: date) -> float:
    dates, closes = load(key)
    return closes[bisect_right(dates, day) - 1]


def strictly_before(key: str, day: date) -> float:
    dates, closes = load(key)
    return closes[bisect_left(dates, day) - 1]


def hand_return(key: str, window: str, asof: date) -> float:
    end = on_or_before(key, asof)
    if window == "ytd":
        base = strictly_before(key, date(asof.year, 1, 1))
    elif window.startswith("since:"):
        base = strictly_before(key, date.fromisoformat(window[6:]))
    else:
        base = on_or_before(key, asof - timedelta(days=int(window[:-1])))
    return (end / base - 1) * 100


ASOFS = ["2024-06-28", "2025-01-15", "2025-10-06", "2026-02-27", "2026-05-29"]
WINDOWS = ["since:2024-01-01", "ytd", "30d", "90d", "since:2024-07-15"]


@pytest.mark.parametrize("asof_text", ASOFS)
async def test_divergence_matches_hand_recomputation(settings: Settings, asof_text: str) -> None:
    asof = date.fromisoformat(asof_text)
    app = await build_app(settings, Secrets(), asof=asof,
                          redis=fakeredis.FakeAsyncRedis(decode_responses=True))
    try:
        await app.refresh()
        for window in WINDOWS:
            if window.startswith("since:") and date.fromisoformat(window[6:]) > asof:
                continue
            got = await app.hub.readings.get("divergence", DivergenceReading,
                                             parse_window(window))
            r = got.reading
            for member in (*r.ai, *r.crypto, r.benchmark):
                assert member.pct == pytest.approx(hand_return(member.key, window, asof),
                                                   abs=TOLERANCE_PP), (member.key, window)
            ai = sum(hand_return(k, window, asof) for k in AI) / len(AI)
            crypto = sum(hand_return(k, window, asof) for k in CRYPTO) / len(CRYPTO)
            assert r.spread_pp == pytest.approx(ai - crypto, abs=TOLERANCE_PP)
        btc = (await app.hub.readings.get("btc", BtcReading)).reading
        dates, closes = load("BTC")
        upto = closes[: bisect_right(dates, asof)]
        assert btc.btc.drawdown_pct == pytest.approx((upto[-1] / max(upto) - 1) * 100,
                                                     abs=TOLERANCE_PP)
        assert btc.spx_ytd_pct == pytest.approx(hand_return("SPX", "ytd", asof),
                                                abs=TOLERANCE_PP)
        st = (await app.hub.readings.get("stablecoins", StablecoinReading)).reading
        total = on_or_before("stablecoins.total", asof)
        month_ago = on_or_before("stablecoins.total", asof - timedelta(days=30))
        change30 = next(c for c in st.total.changes if c.days == 30)
        assert change30.pct == pytest.approx((total / month_ago - 1) * 100, abs=TOLERANCE_PP)
    finally:
        await app.aclose()


async def test_default_asof_is_latest_common_core_date(replay_app) -> None:  # type: ignore[no-untyped-def]
    ends = [load(k)[0][-1] for k in (*AI, *CRYPTO, "SPX", "stablecoins.total")]
    assert replay_app.hub.asof == min(ends)


async def test_nothing_after_asof_leaks(settings: Settings) -> None:
    asof = date(2025, 3, 3)
    app = await build_app(settings, Secrets(), asof=asof,
                          redis=fakeredis.FakeAsyncRedis(decode_responses=True))
    try:
        await app.refresh()
        history = await app.store.load_history(["BTC", "NVDA", "capex.AMZN", "VVV"])
        assert all(ts.last_date is not None and ts.last_date <= asof for ts in history.values())
        # A quarter is only known once filed (45 days after it ends).
        assert history["capex.AMZN"].last_date == date(2024, 12, 31)
        reply = await app.registry.run_text(app.context(Chat("console", "t")), "/divergence 30d")
        assert "2025-03-03" in reply.asof
    finally:
        await app.aclose()
