"""Issue 15's acceptance cases through the commands: every value says its age and coverage
(2026-05-29, 2026-09-28), the AI-token sector keeps its story, /thesis equals the other
commands (2024-03-31), published figures in /thesis 1."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date

import fakeredis
import pytest

from bot.app import App, build_app
from bot.text import render_text
from handlers.digest import digest_reply
from handlers.registry import Chat
from services.metrics.aitokens import AiTokensReading
from services.metrics.divergence import DivergenceReading
from services.settings import Secrets, Settings
from services.windows import SINCE_2024, YTD

CHAT = Chat("console", "console")


async def replay(settings: Settings, asof: date | None) -> App:
    app = await build_app(settings, Secrets(), asof=asof,
                          redis=fakeredis.FakeAsyncRedis(decode_responses=True))
    await app.refresh()
    return app


@pytest.fixture
async def may(settings: Settings) -> AsyncIterator[App]:
    app = await replay(settings, None)  # the default as-of date, 2026-05-29
    yield app
    await app.aclose()


@pytest.fixture
async def september(settings: Settings) -> AsyncIterator[App]:
    app = await replay(settings, date(2026, 9, 28))
    yield app
    await app.aclose()


async def ask(app: App, text: str) -> str:
    """The reply as plain text, runs of spaces (table alignment) made single."""
    reply = await app.registry.run_text(app.context(CHAT), text)
    assert not reply.error, reply.title
    return "\n".join(" ".join(row.split()) for row in render_text(reply).splitlines())


def line(text: str, start: str) -> str:
    return next(row for row in text.splitlines() if row.startswith(start))


YIELDS_STALE = "stale since 2026-01-20 (T-bill 2026-03-26, Aave 2026-01-20)"


async def test_brief_thesis_and_digest_mark_the_yields_line_stale(may: App) -> None:
    assert may.hub.asof == date(2026, 5, 29)
    brief = await ask(may, "/brief")
    assert YIELDS_STALE in line(brief, "DeFi minus T-bill")
    assert "⚠" not in line(brief, "AI minus crypto since 2024")  # fresh lines carry no mark
    thesis = await ask(may, "/thesis 4")
    assert "⚠ stale" in thesis and "stale since 2026-01-20" in thesis
    assert "rates.tbill_3m 2026-03-26" in thesis and "defi.aave_usdc_apy 2026-01-20" in thesis
    digest = "\n".join(" ".join(r.split()) for r in render_text(
        await digest_reply(may.context(CHAT), date(2026, 5, 30))).splitlines())
    assert YIELDS_STALE in line(digest, "DeFi minus T-bill")


async def test_status_lists_every_series_with_last_date_and_age(may: App) -> None:
    status = await ask(may, "/status")
    history = await may.store.load_history(["rates.tbill_3m", "defi.aave_usdc_apy", "NVDA"])
    assert set(history)  # the store holds them; /status must list each
    assert line(status, "rates.tbill_3m").split()[1:] == ["2026-03-26", "64d", "7d", "STALE"]
    assert line(status, "defi.aave_usdc_apy").split()[1:] == ["2026-01-20", "129d", "3d",
                                                              "STALE"]
    assert line(status, "NVDA").split()[1:] == ["2026-05-29", "0d", "6d", "fresh"]
    assert line(status, "yields ").split()[2:6] == ["2", "of", "2", "stale"]


async def test_september_brief_names_the_series_that_end_early(september: App) -> None:
    brief = await ask(september, "/brief")
    note = line(brief, "Series that end before the as-of date")
    for part in ("AMD, DELL, MU, NVDA end 2026-05-29", "SMH, SOXX end 2026-07-02",
                 "SPX end 2026-08-20", "BTC, ETH, stablecoins.total end 2026-08-21",
                 "rates.tbill_3m end 2026-03-26"):
        assert part in note
    assert "stale since 2026-05-29 (NVDA 2026-05-29" in line(brief, "AI minus crypto since")
    div = await ask(september, "/divergence 30d")
    assert "n/a: series ended 2026-05-29" in line(div, "NVDA")


async def test_every_sector_figure_states_coverage_and_none_understates(may: App) -> None:
    ai = (await may.hub.readings.get("aitokens", AiTokensReading, YTD)).reading
    assert (ai.quoted, ai.current, ai.covered) == (3, 3, 8)
    assert ai.index_drawdown_pct is None and ai.index_return_pct is None  # withheld
    assert ai.median_drawdown_pct is not None and ai.median_drawdown_pct < -75
    assert ai.below_half == 7
    brief = await ask(may, "/brief")
    assert "-24.1%" not in brief and "+200" not in brief
    assert line(brief, "AI-token sector").endswith(
        "median token -75.6% from peak, 7 of 8 more than 50% below (8 of 8 tokens, 3 current)")
    assert "withheld: only 3 of 8 tokens have a current close" in line(brief, "AI-token index")
    reply = await ask(may, "/aitokens")
    assert "-24.1%" not in reply
    assert "Coverage: 3 of 8 tokens quoted (a close on 2026-05-29)" in reply
    assert "ICP $3.02 n/a: ended 2025-12-24" in reply


async def test_claim_5_follows_the_median_drawdown(may: App) -> None:
    text = await ask(may, "/thesis 5")
    assert "✅ holds" in text and "aitokens.median_drawdown below -50.0%" in text
    assert "aitokens.median_drawdown -75.6% (2026-05-29), 3 of 8 inputs current" in text
    assert "aitokens.below_half 7 (2026-05-29)" in text and "aitokens.drawdown n/a" in text


async def test_claim_1_equals_divergence_on_an_easter_sunday(settings: Settings) -> None:
    app = await replay(settings, date(2024, 3, 31))
    try:
        thesis = await ask(app, "/thesis 1")
        div = (await app.hub.readings.get("divergence", DivergenceReading, SINCE_2024)).reading
    finally:
        await app.aclose()
    assert div.spread_pp is not None and div.ai_basket_pct is not None
    assert div.crypto_basket_pct is not None
    assert div.spread_pp == pytest.approx(div.ai_basket_pct - div.crypto_basket_pct)
    assert f"divergence.spread.since {div.spread_pp:+.1f} pp" in thesis
    assert f"ai_basket.since {div.ai_basket_pct:+.1f}%" in thesis
    assert f"crypto_basket.since {div.crypto_basket_pct:+.1f}%" in thesis
    assert "-25.9 pp" in thesis  # the figure /divergence shows; -21.4 pp was the bug


async def test_thesis_1_checks_the_published_figures(may: App) -> None:
    text = await ask(may, "/thesis 1")
    assert "Published figures: 2 of 7 agree with the data" in text
    assert "Micron +987% since January 2024" in text
    assert line(text, "2026-05-27 Micron").endswith("data +987.9%: agrees")
    assert line(text, "2026-05-27 Nvidia").endswith(
        "data +329.3%: disagrees; the data reached it on 2026-04-01")
    assert line(text, "2026-05-27 SK Hynix").endswith(
        "data +1485.2%: disagrees; the data never reached it")


async def test_a_figure_no_source_has_says_no_data(may: App) -> None:
    text = await ask(may, "/thesis 5")
    assert line(text, "2025-12-15 AI-token sector market cap $30.6B").endswith(
        "no data: no source has this figure at that date")
