"""Charts from the replay snapshot: valid phone-sized PNGs drawing exactly the metric numbers."""

from __future__ import annotations

import struct
from dataclasses import replace

import pandas as pd
import pytest

from bot.app import App
from handlers.registry import Chat
from handlers.reply import Reply
from services.charts.catalog import CHARTS, ChartData, draw_chart
from services.charts.data import basket_cumulative
from services.charts.market import BtcChart, DivergenceChart
from services.charts.money import StablecoinsChart, YieldsChart
from services.charts.sector import AiTokensChart, CapexChart, chart_data_aitokens
from services.charts.service import ChartService
from services.metrics.aitokens import AiTokensReading
from services.metrics.btc import BtcReading
from services.metrics.capex import CapexReading
from services.metrics.divergence import DivergenceReading
from services.metrics.yields import YieldsReading
from services.returns import drawdown, is_new_high
from services.windows import SINCE_2024, Window, parse_window
from tests.helpers import d, series

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def png_size(png: bytes) -> tuple[int, int]:
    """Width and height from the IHDR chunk, after checking the PNG signature."""
    assert png[:8] == PNG_SIGNATURE
    assert png[12:16] == b"IHDR"
    width, height = struct.unpack(">II", png[16:24])
    return width, height


class Recorder:
    """A renderer that keeps the chart data it was handed, then draws it for real."""

    def __init__(self) -> None:
        self.received: list[ChartData] = []

    def __call__(self, data: ChartData) -> bytes:
        self.received.append(data)
        return draw_chart(data)


async def draw(app: App, name: str, window: Window | None = None) -> tuple[ChartData, bytes]:
    recorder = Recorder()
    service = ChartService(app.store, app.redis, app.store.keys, app.settings.baskets,
                           renderer=recorder)
    assert app.hub.asof is not None
    png = await service.chart(name, window or CHARTS[name].default_window, app.hub.asof)
    (data,) = recorder.received
    return data, png


@pytest.mark.parametrize("name", list(CHARTS))
async def test_each_chart_renders_a_phone_sized_png(replay_app: App, name: str) -> None:
    data, png = await draw(replay_app, name)
    width, height = png_size(png)
    assert width >= 1000
    assert 1000 <= height <= 2000
    assert 20_000 < len(png) < 1_500_000
    assert data.meta.chart == name
    assert data.meta.asof == replay_app.hub.asof
    assert data.meta.sources


@pytest.mark.parametrize("window", ["since:2024-01-01", "ytd", "90d", "1y"])
async def test_divergence_lines_end_at_the_reading(replay_app: App, window: str) -> None:
    data, _ = await draw(replay_app, "divergence", parse_window(window))
    assert isinstance(data, DivergenceChart)
    got = await replay_app.hub.readings.get("divergence", DivergenceReading, parse_window(window))
    r = got.reading
    assert r.ai_basket_pct is not None
    assert r.crypto_basket_pct is not None
    assert r.benchmark.pct is not None
    assert data.ai.iloc[-1] == pytest.approx(r.ai_basket_pct / 100, abs=1e-9)
    assert data.crypto.iloc[-1] == pytest.approx(r.crypto_basket_pct / 100, abs=1e-9)
    assert data.benchmark.iloc[-1] == pytest.approx(r.benchmark.pct / 100, abs=1e-9)
    for line in (data.ai, data.crypto, data.benchmark):
        assert line.iloc[0] == 0.0
        assert line.notna().all()


def test_basket_aligns_mixed_calendars_and_skips_members_without_a_base() -> None:
    weekdays = series("A", {"2023-12-29": 100.0, "2024-01-02": 110.0, "2024-01-05": 120.0})
    daily = series("B", {"2023-12-31": 10.0, "2024-01-01": 12.0, "2024-01-03": 8.0})
    late = series("C", {"2024-01-02": 1.0, "2024-01-05": 5.0})  # no close before the start
    out = basket_cumulative([weekdays.values, daily.values, late.values], SINCE_2024,
                            d("2024-01-05"))
    assert list(out.index.date) == [d("2023-12-31"), d("2024-01-01"), d("2024-01-02"),
                                    d("2024-01-03"), d("2024-01-05")]
    assert out.tolist() == pytest.approx([0.0, 0.1, 0.15, -0.05, 0.0])


async def test_btc_drawdown_panel_matches_returns_drawdown(replay_app: App) -> None:
    data, _ = await draw(replay_app, "btc")
    assert isinstance(data, BtcChart)
    values = (await replay_app.store.load_history(["BTC"]))["BTC"].values
    asof = replay_app.hub.asof
    assert asof is not None
    last = drawdown(values, asof)
    assert last is not None
    assert data.drawdown.iloc[-1] == pytest.approx(last.pct / 100, abs=1e-12)
    per_day = [drawdown(values, ts.date()) for ts in data.drawdown.index]
    assert data.drawdown.min() == pytest.approx(min(dd.pct for dd in per_day if dd) / 100)
    assert (data.ath_date, data.ath) == (last.peak_date, last.peak)
    reading = (await replay_app.hub.readings.get("btc", BtcReading)).reading
    assert reading.btc.price is not None
    assert data.price.iloc[-1] == reading.btc.price.value


async def test_stablecoin_markers_are_exactly_the_new_high_days(replay_app: App) -> None:
    data, _ = await draw(replay_app, "stablecoins")
    assert isinstance(data, StablecoinsChart)
    values = (await replay_app.store.load_history(["stablecoins.total"]))["stablecoins.total"]
    expected = [ts for ts in data.total.index if is_new_high(values.values, ts.date())]
    assert list(data.new_highs.index) == expected
    assert 0 < len(expected) < len(data.total)
    assert not data.usdt.empty
    assert not data.usdc.empty


async def test_aitokens_index_and_drawdowns_match_the_reading(replay_app: App) -> None:
    data, _ = await draw(replay_app, "aitokens")
    assert isinstance(data, AiTokensChart)
    r = (await replay_app.hub.readings.get("aitokens", AiTokensReading, CHARTS[
        "aitokens"].default_window)).reading
    if r.index_withheld:  # too few tokens quoted at the as-of date: not drawn there
        assert data.index.empty or data.index.index[-1].date().isoformat() < r.asof
    else:
        assert data.index.iloc[0] == pytest.approx(100.0)  # 100 on the window's first day
        assert data.index.iloc[-1] / 100 == pytest.approx(1 + r.index_return_pct / 100)
    expected = {t.key: t.drawdown_pct / 100 for t in r.tokens if t.drawdown_pct is not None}
    assert data.drawdowns.to_dict() == pytest.approx(expected)
    assert set(data.stale) == {t.key for t in r.tokens if t.price and t.price.stale}


async def test_the_index_chart_starts_at_100_on_the_windows_first_day(replay_app: App,
                                                                    ) -> None:
    baskets = replay_app.settings.baskets
    history = await replay_app.store.load_history(list(baskets.aitokens))
    for window in ("since:2024-01-01", "90d", "ytd"):
        data = chart_data_aitokens(history, d("2025-06-30"), parse_window(window), baskets)
        assert not data.index.empty
        assert data.index.iloc[0] == pytest.approx(100.0)


async def test_yields_and_capex_draw_the_reading_values(replay_app: App) -> None:
    yields, _ = await draw(replay_app, "yields")
    assert isinstance(yields, YieldsChart)
    y = (await replay_app.hub.readings.get("yields", YieldsReading)).reading
    assert y.tbill_pct is not None
    assert y.defi_usdc_pct is not None
    assert yields.tbill.iloc[-1] == pytest.approx(y.tbill_apy_pct)  # drawn as an APY
    assert yields.defi_usdc.iloc[-1] == y.defi_usdc_pct.value
    capex, _ = await draw(replay_app, "capex")
    assert isinstance(capex, CapexChart)
    c = (await replay_app.hub.readings.get("capex", CapexReading)).reading
    for company in c.companies:
        bars = capex.quarterly[company.ticker]
        assert bars.index[0] >= pd.Timestamp("2024-01-01")
        assert (bars.index[-1].date().isoformat(), bars.iloc[-1]) == (
            company.quarter_end, company.quarter_usd)
    assert capex.sector_cap.empty == (c.sector_cap is None)


async def ask(app: App, text: str) -> Reply:
    charts = ChartService(app.store, app.redis, app.store.keys, app.settings.baskets)
    hub = replace(app.hub, charts=charts)
    ctx = replace(app.context(Chat("test", "1")), hub=hub)
    return await app.registry.run_text(ctx, text)


async def test_chart_command_replies_with_png_and_footer(replay_app: App) -> None:
    reply = await ask(replay_app, "/chart divergence ytd")
    assert not reply.error
    assert reply.chart_png is not None
    assert png_size(reply.chart_png)[0] >= 1000
    assert reply.title == "Divergence year to date (2026)"
    assert "as of 2026-05-29 (replay snapshot)" in reply.footer
    assert "Yahoo Finance" in reply.footer
    assert reply.notes[0].startswith("AI minus crypto +")  # the chart's headline number
    assert len(reply.notes) == 2


@pytest.mark.parametrize(("text", "expected"), [
    ("/chart nope", "unknown chart 'nope'; try divergence, btc, stablecoins"),
    ("/chart", "name a chart; try divergence"),
    ("/chart btc banana", "unknown window 'banana'"),
    ("/chart btc ytd extra", "expected one window, got 2 arguments"),
    ("/chart divergence since:2030-01-01", "after the as-of date 2026-05-29"),
])
async def test_bad_chart_input_is_one_line_with_usage(replay_app: App, text: str,
                                                      expected: str) -> None:
    reply = await ask(replay_app, text)
    assert reply.error
    assert reply.chart_png is None
    assert expected in reply.title
    assert "(usage: /chart <chart> [window])" in reply.title
    assert "\n" not in reply.title
