"""/thesis in replay: every claim, numbers equal to the metric commands, flips, alerts."""

from __future__ import annotations

import csv
import shutil
import subprocess
import sys
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime
from pathlib import Path

import fakeredis
import pytest

from bot.app import App, build_app
from bot.text import render_text
from handlers.registry import Chat
from services.alerts.backtest import run_backtest
from services.alerts.messages import shown
from services.alerts.rules import parse_rule
from services.metrics.aitokens import AiTokensReading
from services.metrics.btc import BtcReading
from services.metrics.capex import CapexReading
from services.metrics.divergence import DivergenceReading
from services.metrics.stablecoins import StablecoinReading
from services.metrics.usage import UsageReading
from services.metrics.yields import YieldsReading
from services.settings import ReplaySettings, Secrets, Settings, settings_from_dict
from services.thesis.scorecard import FAILS, HOLDS, NO_DATA, STALE, ClaimResult
from services.thesis.service import Scorecard
from services.windows import SINCE_2024, YTD
from tests.integration.alert_fixtures import ListOutbox, app_evaluator

ROOT = Path(__file__).resolve().parents[2]
CHAT = Chat("console", "console")


async def replay(settings: Settings, asof: date | None = None) -> App:
    app = await build_app(settings, Secrets(), asof=asof,
                          redis=fakeredis.FakeAsyncRedis(decode_responses=True))
    await app.refresh()
    return app


async def scorecard(app: App) -> Scorecard:
    assert app.hub.thesis is not None and app.hub.asof is not None
    return await app.hub.thesis.scorecard(app.hub.asof)


def number(result: ClaimResult, metric: str) -> str:
    return next(n.value for n in result.numbers if n.metric == metric)


def verdict(holds: bool | str | None) -> str:
    if isinstance(holds, str):
        return holds
    return NO_DATA if holds is None else HOLDS if holds else FAILS


async def engine_checks(app: App) -> dict[int, tuple[bool | str | None, dict[str, str]]]:
    """Each default claim's verdict and numbers as the metric commands give them; a claim
    whose inputs the commands mark stale is stale."""
    get = app.hub.readings.get
    since = (await get("divergence", DivergenceReading, SINCE_2024)).reading
    btc = (await get("btc", BtcReading)).reading
    st = (await get("stablecoins", StablecoinReading)).reading
    yl = (await get("yields", YieldsReading)).reading
    ai = (await get("aitokens", AiTokensReading, YTD)).reading
    cx = (await get("capex", CapexReading)).reading
    spread, ytd, spx = since.spread_pp, btc.btc.ytd_pct, btc.spx_ytd_pct
    dd, bp, idx = st.total.from_ath_pct, yl.spread_bp, ai.median_drawdown_pct
    assert None not in (spread, ytd, spx, dd, bp, idx)
    assert spread is not None and ytd is not None and spx is not None
    assert dd is not None and bp is not None and idx is not None
    ratio = cx.capex_to_sector_cap
    stale_1 = any(a.stale for a in (*since.ai, *since.crypto))
    stale_2 = bool((btc.btc.price and btc.btc.price.stale) or (btc.spx_close
                   and btc.spx_close.stale))
    stale_4 = any(p is None or p.stale for p in (yl.tbill_pct, yl.defi_usdc_pct))
    stale_6 = ratio is not None and cx.sector_cap is not None and cx.sector_cap.stale
    return {
        1: (STALE if stale_1 else spread > 0, {"divergence.spread.since": shown(spread, "pp")}),
        2: (STALE if stale_2 else ytd < 0 < spx,
            {"btc.ytd": shown(ytd, "%"), "spx.ytd": shown(spx, "%")}),
        3: (dd > -2, {"stablecoins.drawdown": shown(dd, "%")}),
        4: (STALE if stale_4 else bp < 100, {"yields.spread": shown(bp, "bp")}),
        5: (idx < -50, {"aitokens.median_drawdown": shown(idx, "%"),
                        "aitokens.below_half": shown(float(ai.below_half or 0), "tokens")}),
        6: (None if ratio is None else STALE if stale_6 else ratio > 1,
            {} if ratio is None else {"capex.to_sector_cap": shown(ratio, "x")}),
        7: (None, {}),
    }


@pytest.mark.parametrize("asof", [date(2024, 6, 14), date(2025, 3, 14), date(2025, 9, 15),
                                  None, date(2026, 8, 20)])
async def test_verdicts_and_numbers_agree_with_the_metric_commands(
        settings: Settings, asof: date | None) -> None:
    app = await replay(settings, asof)
    try:
        card = await scorecard(app)
        want = await engine_checks(app)
    finally:
        await app.aclose()
    assert [r.n for r in card.claims] == list(range(1, 8))
    for result in card.claims:
        holds, numbers = want[result.n]
        assert result.verdict == verdict(holds), result.n
        for metric, value in numbers.items():
            assert number(result, metric) == value, (result.n, metric)
        if holds is not None:
            assert result.since is not None and result.since <= card.asof
        if holds == STALE:
            assert result.stale_since is not None and result.stale_inputs


async def test_scorecard_reply_shows_every_claim_on_one_screen(replay_app: App) -> None:
    reply = await replay_app.registry.run_text(replay_app.context(CHAT), "/thesis")
    text = render_text(reply)
    assert not reply.error
    assert reply.title.startswith("Thesis scorecard: ") and "of 7 claims hold" in reply.title
    for n in range(1, 8):
        assert f"\n{n}. " in text
    assert "divergence.spread.since above +0.0 pp" in text
    assert "since 2" in text and "as of 2026-05-29 (replay snapshot)" in text
    assert "Claim 6, no data: no source gives the AI-token sector market cap" in text
    assert "Claim 7, no data" in text
    assert len(text.splitlines()) < 60


def _ytd_by_date(path: Path) -> dict[date, float]:
    """Year-to-date return on each date of a snapshot CSV, from plain csv (no project code)."""
    with path.open(newline="", encoding="utf-8") as fh:
        rows = [(date.fromisoformat(r["date"]), float(r["close"])) for r in csv.DictReader(fh)]
    out, base, year = {}, None, None
    for i, (day, close) in enumerate(rows):
        if day.year != year:
            year = day.year
            base = rows[i - 1][1] if i > 0 and rows[i - 1][0].year == day.year - 1 else None
        if base is not None:
            out[day] = close / base - 1
    return out


def hand_checked_flips(end: date) -> list[tuple[str, str]]:
    """Claim 2 from the CSVs: on each date, BTC's and the S&P 500's latest YTD signs."""
    btc = _ytd_by_date(ROOT / "data/series/BTC.csv")
    spx = _ytd_by_date(ROOT / "data/series/SPX.csv")
    out: list[tuple[str, str]] = []
    last_btc = last_spx = None
    for day in sorted(set(btc) | set(spx)):
        if day > end:
            break
        last_btc = btc.get(day, last_btc)
        last_spx = spx.get(day, last_spx)
        if last_btc is None or last_spx is None:
            continue
        now = "holds" if last_btc < 0 < last_spx else "does not hold"
        if not out or out[-1][1] != now:
            out.append((day.isoformat(), now))
    return out


async def test_claim_2_flips_match_a_hand_check_of_the_csvs(replay_app: App) -> None:
    reply = await replay_app.registry.run_text(replay_app.context(CHAT), "/thesis 2")
    assert not reply.error and reply.title == "Thesis claim 2"
    flips = list(reply.tables[-1].rows)
    assert flips == hand_checked_flips(date(2026, 5, 29))
    assert len(flips) > 10
    assert f"since {flips[-1][0]}" in render_text(reply)


async def test_bad_claim_numbers_get_one_line(replay_app: App) -> None:
    for text, message in (("/thesis 9", "no claim 9; claims: 1, 2, 3, 4, 5, 6, 7"),
                          ("/thesis two", "bad claim number 'two'"),
                          ("/thesis 1 2", "unexpected '2'")):
        reply = await replay_app.registry.run_text(replay_app.context(CHAT), text)
        assert reply.error and reply.title.startswith(message)
        assert "\n" not in reply.title and "(usage: /thesis [claim])" in reply.title


async def test_claim_6_holds_once_the_sector_cap_is_known(settings: Settings) -> None:
    app = await replay(settings, date(2026, 7, 1))
    try:
        reply = await app.registry.run_text(app.context(CHAT), "/thesis 6")
    finally:
        await app.aclose()
    text = render_text(reply)
    assert "✅ holds" in text and "aitokens.sector_cap  $20.5B (2026-06-30)" in text


async def test_claim_6_goes_stale_with_its_one_sector_cap_point(settings: Settings) -> None:
    app = await replay(settings, date(2026, 8, 20))
    try:
        reply = await app.registry.run_text(app.context(CHAT), "/thesis 6")
    finally:
        await app.aclose()
    text = render_text(reply)
    assert "⚠ stale" in text and "stale since 2026-06-30 (aitokens.sector_cap 2026-06-30" in text
    assert "last current verdict: holds" in text


@pytest.fixture
async def split_app(settings: Settings, tmp_path: Path) -> AsyncIterator[App]:
    """A replay whose fees source also covers TAO, with zero fees: a narrative token."""
    series = tmp_path / "series"
    shutil.copytree(ROOT / "data/series", series)
    with (series / "fees.TAO.csv").open("w", encoding="utf-8") as fh:
        fh.write("date,close,source\n")
        fh.writelines(f"2026-{m:02d}-{d:02d},0,defillama-fees\n"
                      for m in range(1, 6) for d in range(1, 29))
    app = await replay(settings.model_copy(update={"replay": ReplaySettings(data_dir=tmp_path)}))
    yield app
    await app.aclose()


async def test_claim_7_has_a_verdict_when_the_fees_source_splits_the_tokens(
        split_app: App) -> None:
    usage = (await split_app.hub.readings.get("usage", UsageReading)).reading
    backed = [r.return_90d_pct for r in usage.rows if r.status == "usage-backed"]
    other = [r.return_90d_pct for r in usage.rows if r.status == "narrative"]
    assert backed and other and None not in backed + other
    edge = sum(backed) / len(backed) - sum(other) / len(other)  # type: ignore[arg-type]
    result = next(r for r in (await scorecard(split_app)).claims if r.n == 7)
    assert result.verdict == verdict(edge > 0)
    assert number(result, "aitokens.usage_edge_90d") == shown(edge, "pp")


async def test_thesis_metric_backtest_fires_on_each_flip_to_false(replay_app: App) -> None:
    card = await scorecard(replay_app)
    flips = next(r for r in card.claims if r.n == 2).flips
    assert replay_app.hub.alerts is not None
    result = await run_backtest(replay_app.settings, replay_app.hub.alerts.catalog,
                                parse_rule("thesis.2 crosses_below 1 resolved=on"), None,
                                date(2026, 5, 29))
    fired = [t.point for t in result.transitions if t.kind == "firing"]
    resolved = [t.point for t in result.transitions if t.kind == "resolved"]
    assert not flips[0].holds  # so the first flip (to holds) only arms the crossing
    assert fired == [f.day for f in flips[1:] if not f.holds]
    assert resolved == [f.day for f in flips[2:] if f.holds]


async def test_a_chat_is_alerted_when_a_claim_flips(settings: Settings) -> None:
    card_app = await replay(settings)
    try:
        flips = next(r for r in (await scorecard(card_app)).claims if r.n == 2).flips
    finally:
        await card_app.aclose()
    flip = next(f for f in reversed(flips) if not f.holds)  # the claim stopped holding here
    app = await replay(settings, flip.day)
    try:
        reply = await app.registry.run_text(app.context(CHAT),
                                            "/alert add thesis.2 crosses_below 1")
        assert not reply.error, reply.title
        assert app.hub.alerts is not None
        outbox = ListOutbox()
        evaluator = app_evaluator(app, outbox)
        await evaluator.evaluate(datetime.combine(flip.day, datetime.min.time(), UTC))
    finally:
        await app.aclose()
    assert len(outbox.events) == 1
    event = outbox.events[0]
    assert event.kind == "firing" and "thesis.2" in event.text
    assert "does not hold" in event.text and flip.day.isoformat() in event.text


def test_ask_thesis_at_an_asof_date() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "bot", "ask", "--asof", "2025-03-14", "/thesis"],
        capture_output=True, text=True, cwd=ROOT, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    assert "Thesis scorecard:" in done.stdout
    assert "as of 2025-03-14 (replay snapshot)" in done.stdout


async def test_a_user_defined_claim_from_config_is_scored(settings: Settings) -> None:
    claims = [c.model_dump() for c in settings.thesis.claims]
    claims[4]["enabled"] = False
    claims.append({"n": 12, "title": "ETH is more than 40% below its peak",
                   "rule": "eth.drawdown below -40", "show": ["eth.drawdown"]})
    custom = settings_from_dict({"thesis": {"claims": claims}}, root=ROOT)
    app = await replay(custom)
    try:
        btc = (await app.hub.readings.get("btc", BtcReading)).reading
        scored = render_text(await app.registry.run_text(app.context(CHAT), "/thesis"))
        one = await app.registry.run_text(app.context(CHAT), "/thesis 12")
        gone = await app.registry.run_text(app.context(CHAT), "/thesis 5")
    finally:
        await app.aclose()
        settings_from_dict({}, root=ROOT)  # the default claims' thesis.<n> metrics again
    drawdown = btc.eth.drawdown_pct
    assert drawdown is not None
    assert "12. ETH is more than 40% below its peak" in scored and "\n5. " not in scored
    assert "of 7 claims hold" in scored
    assert f"eth.drawdown  {shown(drawdown, '%')}" in render_text(one)
    want = "✅ holds" if drawdown < -40 else "✗ does not hold"
    assert want in render_text(one)
    assert gone.error and gone.title.startswith("no claim 5; claims: 1, 2, 3, 4, 6, 7, 12")
