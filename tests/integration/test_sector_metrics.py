"""Sector alert metrics (capex vs sector cap, usage-backed vs narrative) against the engine."""

from __future__ import annotations

import math
from collections.abc import AsyncIterator
from datetime import date

import fakeredis
import pandas as pd
import pytest

from bot.app import App, build_app
from services.metrics.capex import CapexReading, capex_to_sector_cap
from services.metrics.usage import compute_usage, fees_key
from services.series import MarketData, TimeSeries
from services.settings import Secrets, Settings

LATE = date(2026, 8, 20)  # after the sector cap's one data point and Q2 capex filings


@pytest.fixture
async def late_app(settings: Settings) -> AsyncIterator[App]:
    app = await build_app(settings, Secrets(), asof=LATE,
                          redis=fakeredis.FakeAsyncRedis(decode_responses=True))
    await app.refresh()
    yield app
    await app.aclose()


def metric_series(metric_id: str, data: MarketData, app: App) -> pd.Series:
    assert app.hub.alerts is not None
    return app.hub.alerts.catalog.series(metric_id, data)


def last(values: pd.Series) -> float:
    return float(values.iloc[-1])


async def test_capex_over_sector_cap_equals_capex_reading(late_app: App) -> None:
    baskets = late_app.settings.baskets
    reading = (await late_app.hub.readings.get("capex", CapexReading)).reading
    assert reading.capex_to_sector_cap is not None and reading.sector_cap is not None
    data = await late_app.store.load_history(
        [*(f"capex.{t}" for t in baskets.capex), "aitokens.sector_cap"])
    ratio = metric_series("capex.to_sector_cap", data, late_app)
    assert last(ratio) == pytest.approx(reading.capex_to_sector_cap, rel=1e-9)
    cap = metric_series("aitokens.sector_cap", data, late_app)
    assert last(cap) == pytest.approx(reading.sector_cap.value / 1e9)


async def test_capex_over_sector_cap_is_empty_before_the_sector_cap_exists(
        replay_app: App) -> None:
    baskets = replay_app.settings.baskets
    data = await replay_app.store.load_history(
        [*(f"capex.{t}" for t in baskets.capex), "aitokens.sector_cap"])
    assert metric_series("capex.to_sector_cap", data, replay_app).empty


def test_a_capex_quarter_counts_45_days_after_it_ends() -> None:
    data: MarketData = {
        "capex.A": TimeSeries("capex.A", pd.Series([10.0, 20.0], index=pd.to_datetime(
            ["2026-03-31", "2026-06-30"])), "sec"),
        "capex.B": TimeSeries("capex.B", pd.Series([1.0, 2.0], index=pd.to_datetime(
            ["2026-03-31", "2026-06-30"])), "sec"),
        "aitokens.sector_cap": TimeSeries("aitokens.sector_cap", pd.Series(
            [11.0], index=pd.to_datetime(["2026-01-01"])), "cg"),
    }
    ratio = capex_to_sector_cap(data, ["A", "B"], pd.date_range("2026-03-01", "2026-09-01"))
    ratio = ratio.dropna()
    assert ratio.loc[pd.Timestamp("2026-05-15")] == pytest.approx(1.0)  # Q1 known on May 15
    assert ratio.loc[pd.Timestamp("2026-08-14")] == pytest.approx(2.0)  # Q2 on Aug 14
    assert pd.Timestamp("2026-03-31") not in ratio.index


def _with_narrative_token(data: MarketData, token: str) -> MarketData:
    """A copy of `data` where `token` is covered by the fees source with zero fees."""
    prices = data[token].values
    zeros = pd.Series(0.0, index=prices.index[-200:])
    return {**data, fees_key(token): TimeSeries(fees_key(token), zeros, "test-fees")}


async def test_usage_edge_equals_the_usage_rows(late_app: App) -> None:
    baskets = late_app.settings.baskets
    tokens = list(baskets.aitokens)
    keys = [k for t in tokens for k in (t, fees_key(t), f"mcap.{t}")]
    data = await late_app.store.load_history(keys)
    assert metric_series("aitokens.usage_edge_90d", data, late_app).empty  # no narrative token
    narrative = next(t for t in tokens if fees_key(t) not in data)
    data = _with_narrative_token(data, narrative)
    rows = compute_usage(data, LATE, tokens).rows
    backed = [r.return_90d_pct for r in rows if r.status == "usage-backed"]
    other = [r.return_90d_pct for r in rows if r.status == "narrative"]
    assert backed and other and None not in backed + other
    want = sum(backed) / len(backed) - sum(other) / len(other)  # type: ignore[arg-type]
    edge = metric_series("aitokens.usage_edge_90d", data, late_app)
    got = edge.loc[: pd.Timestamp(LATE)]
    assert not math.isnan(last(got))
    assert last(got) == pytest.approx(want, abs=1e-9)
