"""build_live_sources: config validation, env keys, and every source end to end."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from typing import Any

import aiohttp
import pydantic
import pytest

from services.sources.browser import browser_session
from services.sources.coingecko import DEFAULT_COINS
from services.sources.live import LiveSourcesConfig, build_live_chains
from services.sources.yahoo import DEFAULT_SYMBOLS
from tests.sources.conftest import Canned, FakeUpstream, load, recorded

UA = "flowwatch-tests ops@example.org"


def local_config(url: str, **sec: Any) -> LiveSourcesConfig:
    """Every provider on the one FakeUpstream serving recorded bodies: crypto from CoinGecko
    (the exchanges off), no bundled backfill, so each source's own answer is what shows."""
    fast = {"min_interval_seconds": 0.0, "backoff_seconds": 0.01}
    off = {"enabled": False, "base_url": url, **fast}
    return LiveSourcesConfig.model_validate({
        "backfill_from_snapshot": False, "enforce_budgets": False,
        "coinbase": off, "kraken": off, "binance": off,
        "yahoo": {"base_url": url, "cookie_url": url, **fast},
        "coingecko": {"base_url": url + "/api/v3", **fast},
        "defillama": {"base_url": url, "stablecoins_base_url": url, "yields_base_url": url,
                      **fast},
        "fred": {"base_url": url, "api_base_url": url, "sp500_series_id": "", **fast},
        "sec": {"base_url": url, "min_interval_seconds": 0.1, "user_agent": UA, **sec},
    })


def test_config_is_strict_and_frozen() -> None:
    with pytest.raises(pydantic.ValidationError, match="extra"):
        LiveSourcesConfig.model_validate({"yahoo": {"symbolz": {}}})
    with pytest.raises(pydantic.ValidationError, match="min_interval_seconds"):
        LiveSourcesConfig.model_validate({"sec": {"min_interval_seconds": 0.01}})  # > 10/s
    cfg = LiveSourcesConfig()
    with pytest.raises(pydantic.ValidationError):
        cfg.yahoo.history_days = 5  # type: ignore[misc]
    assert cfg.defillama.tbill_ids == ["173", "129"]
    assert cfg.coingecko.coins["venice-token"] == "VVV"
    assert cfg.coingecko.coins["artificial-superintelligence-alliance"] == "FET"


async def test_sec_without_user_agent_refuses_to_start() -> None:
    async with aiohttp.ClientSession() as session:
        with pytest.raises(ValueError, match=r"sources\.sec\.user_agent"):
            build_live_chains(session, LiveSourcesConfig(), {})
        cfg = LiveSourcesConfig.model_validate({"sec": {"enabled": False}})
        chains = {c.name: [p.name for p in c.providers]
                  for c in build_live_chains(session, cfg, {})}
        keyed = build_live_chains(session, cfg, {"STOOQ_API_KEY": "s", "TIINGO_API_KEY": "t"})
    assert chains == {
        "equities": ["yahoo", "fred-sp500"],
        "crypto": ["coinbase", "kraken", "binance", "coingecko"],
        "marketcaps": ["coingecko-markets"], "stablecoins": ["defillama-stablecoins"],
        "yields": ["defillama-yields"], "fees": ["defillama-fees"], "rates": ["fred"]}
    assert [p.name for p in keyed[0].providers] == ["yahoo", "tiingo", "fred-sp500", "stooq"]


def serve_everything(upstream: FakeUpstream) -> None:
    upstream.serve("/", Canned(b"", 404, {"Set-Cookie": "A3=d=test; Path=/"}, "text/html"))
    upstream.serve("/v1/test/getcrumb", Canned(b"crumb-123", content_type="text/plain"))
    for symbol in DEFAULT_SYMBOLS:
        upstream.serve(f"/v8/finance/chart/{symbol}",
                       recorded("yahoo/chart_NVDA_1d_2021-02-01_2022-01-31_split.json"))
    for coin in DEFAULT_COINS:
        upstream.serve(f"/api/v3/coins/{coin}/market_chart", recorded(
            "coingecko/market_chart_venice-token_120d_last121_2026-09-19.json"))
    # Derived: the recorded Venice row once per configured coin id (the recorded answer
    # holds two coins; CoinGecko answers a row for every id it knows)
    [venice] = [r for r in load("coingecko/coins_markets_venice-token_diem_2026-09-19.json")
                if r["id"] == "venice-token"]
    upstream.serve("/api/v3/coins/markets", Canned(json.dumps(
        [{**venice, "id": coin} for coin in DEFAULT_COINS]).encode()))
    upstream.serve("/api/v3/coins/categories",
                   recorded("synthetic/coingecko/coins_categories_ai.json"))
    charts = "synthetic/defillama/stablecoincharts_all"
    upstream.serve("/stablecoincharts/all", recorded(f"{charts}.json"))
    for coin in ("1", "2"):
        upstream.serve("/stablecoincharts/all", recorded(f"{charts}_stablecoin{coin}.json"),
                       query={"stablecoin": coin})
    upstream.serve("/stablecoins",
                   recorded("defillama/stablecoins_includePrices_2024-12-07_trimmed.json"))
    upstream.serve("/chart/aa70268e-4b52-42bf-a116-608b370f9501",
                   recorded("synthetic/defillama/yields_chart_aave_usdc.json"))
    upstream.serve("/summary/fees/venice", recorded(
        "defillama/summary_fees_venice_dailyHoldersRevenue_2026-09-19.json"))
    upstream.serve("/graph/fredgraph.csv",
                   recorded("fred/fredgraph_DTB3_2000-01-03_2026-01-29.csv"))
    upstream.serve("/fred/series/observations",
                   recorded("fred/series_observations_T10Y3M_daily_2023H1.json"))
    concept = "PaymentsToAcquirePropertyPlantAndEquipment"
    for cik in ("0001018724", "0000789019", "0001652044", "0001326801"):
        upstream.serve(f"/api/xbrl/companyconcept/CIK{cik}/us-gaap/{concept}.json",
                       recorded(f"sec/companyconcept_SNOW_{concept}_derived.json"))


async def test_every_source_end_to_end(upstream: FakeUpstream,
                                       session: aiohttp.ClientSession) -> None:
    serve_everything(upstream)
    env = {"COINGECKO_API_KEY": "cg-demo", "FRED_API_KEY": "fred-key"}
    browser = browser_session()
    chains = build_live_chains(session, local_config(upstream.url), env, browser=browser)
    keys: set[str] = set()
    # Recorded samples span 2021..2026; the T-bill total from /stablecoins is stamped
    # today (the list has no date), so fetch as of today.
    asof = max(date(2026, 9, 19), datetime.now(UTC).date())
    try:
        for chain in chains:
            keys |= set((await chain.fetch(asof, {})).data)
    finally:
        await browser.close()
    tokens = list(DEFAULT_COINS.values())
    equities = ["NVDA", "AMD", "MU", "DELL", "SMH", "SOXX", "000660.KS", "SPX"]
    assert keys == {
        *equities, *(f"{k}_adj" for k in equities), *tokens, *(f"mcap.{t}" for t in tokens),
        "aitokens.sector_cap", "stablecoins.total", "stablecoins.usdt", "stablecoins.usdc",
        "stablecoins.tbills", "defi.aave_usdc_apy", "fees.VVV", "rates.tbill_3m",
        "capex.AMZN", "capex.MSFT", "capex.GOOGL", "capex.META"}
    cg = [h for h in upstream.hits if h.path.startswith("/api/v3/")]
    assert all(h.headers.get("x-cg-demo-api-key") == "cg-demo" for h in cg)
    fred = [h for h in upstream.hits if h.path == "/fred/series/observations"]
    assert fred and fred[0].query["api_key"] == "fred-key"  # key set -> JSON API, not CSV
    assert not any(h.path == "/graph/fredgraph.csv" for h in upstream.hits)
