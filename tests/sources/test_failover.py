"""One provider refusing or down: its chain fails over, everything else keeps working.

Yahoo refusing (429 to everyone): the equities come from Stooq and FRED, and /status says
which provider failed and which served. The yields provider never succeeding: every other
alert rule still evaluates, /thesis answers with claim 4 "no data", /brief answers, and
/status shows the yields metrics as "no data", never "fresh".
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta

import aiohttp
import pytest

from handlers.registry import Chat
from services.alerts.state_store import AlertStateStore
from services.settings import Secrets, Settings
from services.sources.http import HttpClient, RateLimited, RateLimiter, RetryPolicy
from services.sources.yahoo import YahooSource
from tests.standins.apis import DEMO_KEY
from tests.standins.apps import live_app
from tests.standins.server import StandIn, running_standin

pytestmark = pytest.mark.redis
ASOF = date(2026, 3, 26)  # the bundled T-bill series ends here: claim 4 is not merely stale
CHAT = Chat("telegram", "42")
EQUITIES = {"NVDA", "AMD", "MU", "DELL", "SMH", "SOXX", "SPX"}


@pytest.fixture
async def standin() -> AsyncIterator[StandIn]:
    async with running_standin(ASOF) as s:
        yield s


async def test_yahoo_refuses_a_client_that_is_not_a_browser(standin: StandIn) -> None:
    async with aiohttp.ClientSession() as session:
        client = HttpClient(session, "yahoo", f"{standin.url}/yahoo", RateLimiter(0), 2.0,
                            {"User-Agent": "Mozilla/5.0 (compatible; flowwatch)"},
                            RetryPolicy(1, 0, 0))
        source = YahooSource(client, {"NVDA": "NVDA"}, cookie_url=f"{standin.url}/fc")
        with pytest.raises(RateLimited):
            await source.fetch(ASOF)


async def test_yahoo_refusing_equities_come_from_the_fallbacks(
        settings: Settings, standin: StandIn, test_prefix: str) -> None:
    standin.yahoo_refusing = True
    secrets = Secrets(stooq_api_key=standin.stooq_key, coingecko_api_key=DEMO_KEY)
    async with live_app(settings, standin, test_prefix, secrets=secrets,
                        backfill_from_snapshot=False) as app:
        result = await app.refresh()
        assert "yahoo" in result.failed_providers
        # SK Hynix has no keyless fallback: the one series missing, named as such
        assert set(result.failed_keys) & (EQUITIES | {"000660.KS"}) == {"000660.KS"}
        assert result.failed_sources["equities"].startswith("no provider served 000660.KS:")
        assert result.fresh_keys >= EQUITIES
        # one handshake for the pass (its 3 attempts), not one per symbol
        assert sum(h.path.endswith("/getcrumb") for h in standin.hits) == 3
        history = await app.store.load_history(sorted(EQUITIES))
        assert history["NVDA"].source == "Stooq"
        assert history["SPX"].source == "FRED SP500"
        assert "stooq" in {h.provider for h in standin.hits}
        reply = await app.registry.run_text(app.context(CHAT), "/status")
        rows = {r[0]: r for r in reply.tables[2].rows}
        assert rows["equities 1. yahoo"][1] == "FAILING"
        assert "RateLimited" in rows["equities 1. yahoo"][4]
        assert rows["equities 2. fred-sp500"][1:3] == ("ok", "SPX")
        assert rows["equities 3. stooq"][1] == "ok" and "NVDA" in rows["equities 3. stooq"][2]
        div = await app.registry.run_text(app.context(CHAT), "/divergence since:2024-01-01")
        assert not div.error and "Stooq" in " ".join(div.sources)


async def test_stooq_without_its_key_is_refused_with_the_fix(
        settings: Settings, standin: StandIn, test_prefix: str) -> None:
    standin.yahoo_refusing = True
    async with live_app(settings, standin, test_prefix,
                        secrets=Secrets(stooq_api_key="wrong-key"),
                        backfill_from_snapshot=False) as app:
        result = await app.refresh()
    assert "set STOOQ_API_KEY" in result.failed_providers["stooq"]
    assert "no provider served" in result.failed_sources["equities"]


async def test_yields_never_succeeding_stops_nothing_else(
        settings: Settings, standin: StandIn, test_prefix: str) -> None:
    standin.down.add("defillama-yields")
    async with live_app(settings, standin, test_prefix, secrets=Secrets(
            coingecko_api_key=DEMO_KEY), backfill_from_snapshot=False) as app:
        result = await app.refresh()
        assert set(result.failed_sources) >= {"yields"}
        assert result.families_stale["yields"].startswith("no data")
        assert "divergence" in result.families_ok and "btc" in result.families_ok
        ctx = app.context(CHAT)
        status = await app.registry.run_text(ctx, "/status")
        states = {r[0]: r[1] for r in status.tables[1].rows}
        assert states["yields"] == "no data"
        assert states["divergence"] == states["btc"] == "fresh"

        thesis = await app.registry.run_text(ctx, "/thesis")
        assert not thesis.error, thesis.title
        assert app.hub.thesis is not None
        card = await app.hub.thesis.scorecard(ASOF)
        verdicts = {c.n: c.verdict for c in card.claims}
        assert verdicts[4] == "no data"
        assert verdicts[1] != "no data" and verdicts[2] != "no data"
        brief = await app.registry.run_text(ctx, "/brief")
        assert not brief.error, brief.title

        assert app.hub.alerts is not None
        await app.hub.alerts.subscribe("telegram:42")
        evaluator = app.hub.alerts.evaluator(app.store)
        await evaluator.evaluate(datetime.combine(ASOF, datetime.min.time(), UTC))
        rules = [r.id for r in await app.hub.alerts.subscriptions.all_rules()]
        states_by_rule = await AlertStateStore(app.redis, app.hub.alerts.keys).load(rules)
    evaluated = {rule for rule, state in states_by_rule.items() if state.point is not None}
    assert evaluated >= set(rules) - {"defi-vs-tbill"}, states_by_rule


async def test_tiingo_with_its_key_is_the_first_equities_fallback(
        settings: Settings, standin: StandIn, test_prefix: str) -> None:
    standin.yahoo_refusing = True
    secrets = Secrets(tiingo_api_key=standin.tiingo_key, stooq_api_key=standin.stooq_key)
    async with live_app(settings, standin, test_prefix, secrets=secrets,
                        backfill_from_snapshot=False) as app:
        result = await app.refresh()
        history = await app.store.load_history(["NVDA", "SPX"])
    assert history["NVDA"].source == "Tiingo"  # before Stooq in the chain
    assert history["SPX"].source == "FRED SP500"  # Tiingo serves no index
    tiingo = standin.calls("tiingo")
    assert tiingo and all(h.headers["Authorization"] == f"Token {standin.tiingo_key}"
                          for h in tiingo)
    assert all("token" not in h.query for h in tiingo)  # the key never in a URL
    # Stooq was asked for NVDA only for the daily cross-check: the last ten days
    stooq = [h for h in standin.calls("stooq") if h.query.get("s") == "nvda.us"]
    since = (ASOF - timedelta(days=10)).strftime("%Y%m%d")
    assert stooq and all(h.query["d1"] >= since for h in stooq)
    assert "yahoo" in result.failed_providers
