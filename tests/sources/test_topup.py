"""History fetched once, then topped up; cadences; budgets; cross-checks; the stand-ins'
own behaviour (CoinGecko plans and limits, SEC's User-Agent rule, DefiLlama's filter).

The collector's clock is moved by the tests (never by time passing)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta

import aiohttp
import pytest

from services.keys import Keys
from services.series import TimeSeries
from services.settings import Secrets, Settings
from services.sources.budget import FREE_TIERS, BudgetExhausted, CallBudget
from services.sources.chain import Chain, compare
from services.sources.coingecko import CoinGeckoSource
from services.sources.defillama import StablecoinSource
from services.sources.http import HttpClient, RateLimiter, RetryPolicy, UpstreamHTTPError
from services.sources.sec import SecCapexSource
from tests.conftest import connect_real_redis, drop_prefix
from tests.standins.apis import DEMO_KEY, PRO_KEY
from tests.standins.apps import Clock, live_app
from tests.standins.server import StandIn, running_standin

pytestmark = pytest.mark.redis
TODAY = date(2026, 5, 29)
DEMO = Secrets(coingecko_api_key=DEMO_KEY)


@pytest.fixture
async def standin() -> AsyncIterator[StandIn]:
    async with running_standin(TODAY) as s:
        yield s


def client(session: aiohttp.ClientSession, url: str, headers: dict[str, str] | None = None,
           ) -> HttpClient:
    return HttpClient(session, "t", url, RateLimiter(0), 5.0, headers or {},
                      RetryPolicy(1, 0, 0))


async def test_first_start_backfills_then_tops_up_only_missing_days(
        settings: Settings, standin: StandIn, test_prefix: str) -> None:
    clock = Clock(TODAY)
    async with live_app(settings, standin, test_prefix, secrets=DEMO, clock=clock) as app:
        first = await app.refresh()
        assert "BTC" in first.seeded and "NVDA" in first.seeded  # from the bundled snapshot
        btc = [h for h in standin.calls("coinbase") if "BTC-USD" in h.path]
        assert len(btc) == 1  # the snapshot reaches back years: one page tops it up
        assert btc[0].query["start"].startswith("2026-05-2")  # its last day minus overlap
        standin.hits.clear()

        clock.now += timedelta(minutes=1)  # nothing is due yet
        second = await app.refresh()
        assert second.chains_run == [] and standin.hits == []
        assert "divergence" in second.families_ok  # metrics still computed from Redis

        clock.now += timedelta(minutes=5)  # prices are due, the rest is not
        third = await app.refresh()
        assert sorted(third.chains_run) == ["crypto", "equities"]
        assert {h.provider for h in standin.hits} <= {"yahoo", "coinbase", "kraken",
                                                     "binance", "coingecko"}
        charts = [h for h in standin.calls("yahoo") if "/chart/" in h.path]
        period1 = min(int(h.query["period1"]) for h in charts)
        assert datetime.fromtimestamp(period1, UTC).date() >= TODAY - timedelta(days=4)

    async with live_app(settings, standin, test_prefix + "2", secrets=DEMO) as fresh:
        assert (await fresh.refresh()).seeded  # another prefix is another first start


async def test_a_restart_downloads_no_history_again(settings: Settings, standin: StandIn,
                                                    test_prefix: str) -> None:
    redis = await connect_real_redis()
    try:
        clock = Clock(TODAY)
        async with live_app(settings, standin, test_prefix, secrets=DEMO, keep=True,
                            clock=clock, backfill_from_snapshot=False) as app:
            await app.refresh()  # full history from the providers
        standin.hits.clear()
        clock.now += timedelta(days=1)
        async with live_app(settings, standin, test_prefix, secrets=DEMO, clock=clock,
                            backfill_from_snapshot=False) as again:
            result = await again.refresh()
            assert result.seeded == [] and "equities" in result.chains_run
            coinbase = standin.calls("coinbase")
            assert len([h for h in coinbase if "BTC-USD" in h.path]) == 1  # not 4 pages
    finally:
        await drop_prefix(redis, test_prefix)
        await redis.aclose()


async def test_budget_refuses_the_call_past_half_the_free_tier(test_prefix: str) -> None:
    redis = await connect_real_redis()
    clock = Clock(TODAY)
    budget = CallBudget(redis, Keys(test_prefix), "kraken", FREE_TIERS["kraken"], clock)
    try:
        for _ in range(30):  # Kraken: 60/minute -> a budget of 30
            await budget.spend()
        with pytest.raises(BudgetExhausted, match="30 calls per minute"):
            await budget.spend()
        assert (await budget.used())["minute"] == 30  # the refused call is not counted
        clock.now += timedelta(minutes=1)
        await budget.spend()  # a new minute
        assert (await budget.used())["day"] == 31
    finally:
        await drop_prefix(redis, test_prefix)
        await redis.aclose()


async def test_status_shows_use_against_each_budget(settings: Settings, standin: StandIn,
                                                    test_prefix: str) -> None:
    async with live_app(settings, standin, test_prefix, secrets=DEMO) as app:
        await app.refresh()
        health = {h.provider: h for h in await app.collector.runner.health.load()}
    assert health["coingecko-markets"].usage.endswith("per month")
    assert "/15 per minute" in health["coingecko-markets"].usage  # demo: 30/min, halved
    assert "/30 per minute" in health["yahoo"].usage


def test_cross_check_flags_a_disagreement_beyond_the_tolerance() -> None:
    days = [date(2026, 5, d) for d in range(20, 30)]
    ours = {"BTC": TimeSeries.from_pairs("BTC", [(d, 100.0) for d in days], "Coinbase")}
    close = {"BTC": TimeSeries.from_pairs("BTC", [(d, 100.5) for d in days], "Kraken")}
    off = {"BTC": TimeSeries.from_pairs("BTC", [(d, 108.0) for d in days], "Kraken")}
    assert compare(ours, close, ["BTC"], "kraken", 0.03) == (
        "agrees vs kraken: max 0.5% (BTC) over 9 days", False)
    text, bad = compare(ours, off, ["BTC"], "kraken", 0.03)
    assert bad and text.startswith("DISAGREES vs kraken: max 7.4% (BTC)")


async def test_cross_check_disagreement_shows_in_provider_health(
        settings: Settings, standin: StandIn, test_prefix: str) -> None:
    rows = standin.market.rows("BTC")
    standin.market.extra["BTC"] = rows  # Coinbase and Kraken both read this key...
    async with live_app(settings, standin, test_prefix, secrets=DEMO) as app:
        kraken = next(p for c in app.collector.chains for p in c.providers
                      if p.name == "kraken")
        kraken.symbols["BTC"] = "ETHUSD"  # ...so point Kraken's BTC at ETH prices
        await app.refresh()
        health = {h.provider: h for h in await app.collector.runner.health.load()}
    assert health["coinbase"].state == "DISAGREES"
    assert health["coinbase"].check.startswith("DISAGREES vs kraken")


async def test_coingecko_plans_limits_and_ids(standin: StandIn) -> None:
    async with aiohttp.ClientSession() as session:
        keyless = CoinGeckoSource(client(session, f"{standin.url}/coingecko/api/v3"),
                                  {"bitcoin": "BTC"}, days=366, category_id="")
        with pytest.raises(UpstreamHTTPError, match=r"10012|time range|exceeds"):
            await keyless.fetch(TODAY)
        pro = CoinGeckoSource(client(session, f"{standin.url}/coingecko-pro/api/v3",
                                     {"x-cg-pro-api-key": PRO_KEY}), {"bitcoin": "BTC"},
                              days=2000, category_id="")
        data = await pro.fetch(TODAY)
        assert data["BTC"].first_date == date(2023, 6, 1)  # > 365 days with the pro key
        wrong = client(session, f"{standin.url}/coingecko-pro/api/v3")
        with pytest.raises(UpstreamHTTPError, match="401"):
            await wrong.get_json("/ping")
        markets = await client(session, f"{standin.url}/coingecko/api/v3").get_json(
            "/coins/markets", {"vs_currency": "usd", "ids": "bitcoin,fetch-ai"})
        assert [row["id"] for row in markets] == ["bitcoin"]  # filtered by ids; stale id gone
        standin.new_minute()
        plain = client(session, f"{standin.url}/coingecko/api/v3")
        for _ in range(standin.coingecko_keyless_per_minute):
            await plain.get_json("/ping")
        with pytest.raises(UpstreamHTTPError, match="429"):
            await plain.get_json("/ping")


async def test_sec_refuses_a_request_without_user_agent(standin: StandIn) -> None:
    path = "/api/xbrl/companyconcept/CIK0000789019/us-gaap/" \
           "PaymentsToAcquirePropertyPlantAndEquipment.json"
    async with aiohttp.ClientSession() as session:
        bare = client(session, f"{standin.url}/sec", {"User-Agent": "python-requests/2.32"})
        with pytest.raises(UpstreamHTTPError, match=r"403.*Undeclared Automated Tool"):
            await bare.get_json(path)
        source = SecCapexSource(client(session, f"{standin.url}/sec"),
                                "flowwatch-tests ops@example.org", {"MSFT": "0000789019"})
        data = await source.fetch(TODAY, ["capex.MSFT"])
    assert data["capex.MSFT"].last_date == date(2026, 3, 31)  # filed 45 days after


async def test_defillama_honours_the_stablecoin_filter(standin: StandIn) -> None:
    async with aiohttp.ClientSession() as session:
        source = StablecoinSource(client(session, f"{standin.url}/stablecoins"), tbill_ids=())
        data = await source.fetch(TODAY)
    assert data["stablecoins.usdt"].values.iloc[-1] < data["stablecoins.total"].values.iloc[-1]
    assert {h.query.get("stablecoin") for h in standin.hits} == {None, "1", "2"}


def test_chain_starts_each_key_from_its_last_stored_day() -> None:
    chain = Chain("c", [], timedelta(minutes=5), history_days=100)
    since = {"A": date(2026, 5, 20)}
    assert chain.start_for(["A"], since, TODAY) == date(2026, 5, 17)
    assert chain.start_for(["A", "B"], since, TODAY) == TODAY - timedelta(days=100)
