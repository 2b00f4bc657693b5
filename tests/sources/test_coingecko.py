"""CoinGecko against recorded responses (and a synthetic AI category list)."""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest

from services.sources.coingecko import (
    DEFAULT_COINS,
    CoinGeckoSource,
    parse_category_cap,
    parse_market_chart,
)
from services.sources.http import BadPayload, RateLimited
from tests.sources.conftest import FakeUpstream, MakeClient, load, recorded

VENICE = "coingecko/market_chart_venice-token_120d_last121_2026-09-19.json"
AI_CATEGORIES = "synthetic/coingecko/coins_categories_ai.json"


def test_venice_point_at_d_midnight_is_the_close_of_d_minus_1() -> None:
    out = parse_market_chart(load(VENICE), "VVV")
    price, mcap = out["VVV"].values, out["mcap.VVV"].values
    assert len(price) == 120 and len(mcap) == 120  # 121 points minus the "now" point
    assert price.index[0] == pd.Timestamp("2026-05-22")
    assert price.index[-1] == pd.Timestamp("2026-09-18")
    # 1789776000000 = 2026-09-19 00:00Z -> close of 2026-09-18.
    assert price[pd.Timestamp("2026-09-18")] == pytest.approx(27.946412288522367)
    assert mcap[pd.Timestamp("2026-09-18")] == pytest.approx(1342810223.4823353)
    assert price[pd.Timestamp("2026-05-22")] == pytest.approx(17.393534422127452)
    assert 26.688844029146125 not in price.to_numpy()  # the intraday "now" point


def test_docs_example_range_drops_the_now_point() -> None:
    out = parse_market_chart(load("coingecko/market_chart_range_docexample.json"), "BTC")
    assert out["BTC"].values.to_dict() == {pd.Timestamp("2024-03-30"): 69702.3087473573,
                                           pd.Timestamp("2024-03-31"): 71246.9514406015}


def test_zero_or_null_points_are_gaps_not_values() -> None:
    body = load(VENICE)
    body["market_caps"][0][1] = 0
    body["prices"][1][1] = None
    out = parse_market_chart(body, "VVV")
    assert len(out["mcap.VVV"].values) == 119 and len(out["VVV"].values) == 119
    assert (out["mcap.VVV"].values > 0).all()


def test_hourly_points_are_refused() -> None:
    body = {"prices": [[1711843200000, 1.0], [1711846800000, 2.0], [1711929600000, 3.0]],
            "market_caps": []}
    with pytest.raises(BadPayload, match="not at 00:00Z"):
        parse_market_chart(body, "BTC")


@pytest.mark.parametrize("rel", ["coingecko/error_429_rate_limit.json",
                                 "coingecko/error_10012_time_range_exceeded.json",
                                 "coingecko/coins_markets_docexample.json"])
def test_error_and_wrong_bodies_are_bad_payload(rel: str) -> None:
    with pytest.raises(BadPayload):
        parse_market_chart(load(rel), "BTC")


def test_category_cap_recorded_docs_example() -> None:
    ts = parse_category_cap(load("coingecko/coins_categories_docexample.json"), "layer-1", "c")
    assert ts.values.to_dict() == {pd.Timestamp("2024-04-06"): 2061406861196.14}
    with pytest.raises(BadPayload, match="no category with id 'artificial-intelligence'"):
        parse_category_cap(load("coingecko/coins_categories_docexample.json"),
                           "artificial-intelligence", "c")


async def test_429_then_success_is_retried(upstream: FakeUpstream,
                                           make_client: MakeClient) -> None:
    path = "/api/v3/coins/venice-token/market_chart"
    upstream.serve(path, recorded("coingecko/error_429_rate_limit.json", 429,
                                  {"retry-after": "0.2"}), recorded(VENICE))
    source = CoinGeckoSource(make_client("coingecko", base="/api/v3"),
                             {"venice-token": "VVV"}, category_id="")
    data = await source.fetch(date(2026, 9, 19))
    assert set(data) == {"VVV", "mcap.VVV"}
    assert upstream.gaps(path)[0] >= 0.2 - 0.02
    assert upstream.hits[-1].query == {"vs_currency": "usd", "days": "365",
                                       "interval": "daily"}


async def test_persistent_html_429_is_rate_limited(upstream: FakeUpstream,
                                                   make_client: MakeClient) -> None:
    upstream.serve("/api/v3/coins/venice-token/market_chart",
                   recorded("synthetic/coingecko/error_429_html.html", 429))
    source = CoinGeckoSource(make_client("coingecko", base="/api/v3", attempts=2),
                             {"venice-token": "VVV"}, category_id="")
    with pytest.raises(RateLimited):
        await source.fetch(date(2026, 9, 19))


async def test_full_fetch_returns_canonical_keys(upstream: FakeUpstream,
                                                 make_client: MakeClient) -> None:
    for coin in DEFAULT_COINS:  # the recorded Venice body on every coin's path
        upstream.serve(f"/api/v3/coins/{coin}/market_chart", recorded(VENICE))
    upstream.serve("/api/v3/coins/categories", recorded(AI_CATEGORIES))
    client = make_client("coingecko", base="/api/v3", headers={"x-cg-demo-api-key": "k"})
    data = await CoinGeckoSource(client).fetch(date(2026, 9, 19))
    tokens = ["BTC", "ETH", "TAO", "NEAR", "ICP", "RENDER", "FET", "WLD", "VIRTUAL", "VVV"]
    assert set(data) == {*tokens, *(f"mcap.{t}" for t in tokens), "aitokens.sector_cap"}
    assert data["aitokens.sector_cap"].values.to_dict() == {
        pd.Timestamp("2026-06-30"): 20454381694.0}
    assert data["BTC"].last_date == date(2026, 9, 18)
    assert all(h.headers.get("x-cg-demo-api-key") == "k" for h in upstream.hits)
    # asof before the category's date: it must not leak into the past.
    early = await CoinGeckoSource(client).fetch(date(2026, 6, 1))
    assert "aitokens.sector_cap" not in early
    assert early["VVV"].last_date == date(2026, 6, 1)
