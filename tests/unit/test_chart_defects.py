"""One test per chart defect users met, each on the Figure as drawn from the replay snapshot:
axis ranges, tick labels, colours, the spread band against its lines, titles, headline
numbers, and one render per chart key at a time."""

from __future__ import annotations

import asyncio
import threading
from datetime import date, timedelta
from typing import Any, cast

import matplotlib.dates as mdates
import numpy as np
import pytest
from matplotlib.collections import PolyCollection
from matplotlib.colors import to_hex
from matplotlib.figure import Figure
from redis.asyncio import Redis

from bot.app import App
from handlers.registry import Chat
from services.charts.catalog import CHARTS, ChartData, chart_figure, draw_chart
from services.charts.render import PALETTE
from services.charts.service import ChartService
from services.metrics.btc import BtcReading
from services.metrics.divergence import DivergenceReading
from services.metrics.stablecoins import StablecoinReading
from services.metrics.yields import YieldsReading
from services.windows import SINCE_2024, parse_window


async def build(app: App, name: str, window: str) -> ChartData:
    spec = CHARTS[name]
    data = await app.store.load_history(spec.inputs(app.settings.baskets))
    assert app.hub.asof is not None
    return spec.build(data, app.hub.asof, parse_window(window), app.settings.baskets)


async def figure(app: App, name: str, window: str) -> Figure:
    fig = chart_figure(await build(app, name, window))
    fig.canvas.draw()  # lay out ticks and labels as the PNG shows them
    return fig


def tick_labels(fig: Figure, axis: str = "y") -> list[list[str]]:
    return [[t.get_text() for t in (ax.get_yticklabels() if axis == "y"
                                    else ax.get_xticklabels()) if t.get_text()]
            for ax in fig.axes]


def texts(fig: Figure) -> list[str]:
    found = [t.get_text() for t in fig.texts]
    found += [t.get_text() for ax in fig.axes for t in ax.texts]
    return found


def headline(fig: Figure) -> str:
    [text] = [t.get_text() for t in fig.texts if t.get_gid() == "headline"]
    return text


def xlim_dates(fig: Figure) -> tuple[date, date]:
    left, right = fig.axes[0].get_xlim()
    return mdates.num2date(left).date(), mdates.num2date(right).date()


async def test_yields_30d_spans_the_window_and_says_why_it_is_empty(replay_app: App) -> None:
    asof = replay_app.hub.asof
    assert asof is not None
    fig = await figure(replay_app, "yields", "30d")
    assert xlim_dates(fig) == (asof - timedelta(days=30), asof)  # was January to March
    assert all(len(line.get_xdata()) == 0 for line in fig.axes[0].lines)
    shown = "\n".join(texts(fig))
    assert "no data in this window" in shown
    assert "Aave USDC APY ends 2026-01-20" in shown
    assert "T-bill as APY ends 2026-03-26" in shown


async def test_capex_30d_has_readable_money_ticks_and_one_colour_per_company(
        replay_app: App) -> None:
    fig = await figure(replay_app, "capex", "30d")
    [labels] = tick_labels(fig)
    assert labels[0] == "$0B"
    assert len(set(labels)) == len(labels)
    assert not any("-" in label for label in labels)  # was $0B $0B $-0B
    handles, names = fig.axes[0].get_legend_handles_labels()
    assert names == ["AMZN", "MSFT", "GOOGL", "META"]
    colours = [to_hex(h.patches[0].get_facecolor()) for h in handles]  # type: ignore[attr-defined]
    assert colours == list(PALETTE[:4])
    assert all(len(h.patches) >= 4 for h in handles)  # type: ignore[attr-defined]


@pytest.mark.parametrize("window", ["30d", "90d", "ytd"])
async def test_stablecoins_tick_labels_never_repeat(replay_app: App, window: str) -> None:
    fig = await figure(replay_app, "stablecoins", window)
    for labels in tick_labels(fig):
        assert labels
        assert len(set(labels)) == len(labels), labels  # was $318B three times


@pytest.mark.parametrize("window", ["90d", "ytd", "since:2024-01-01"])
async def test_divergence_spread_band_follows_its_lines_through_weekends(
        replay_app: App, window: str) -> None:
    fig = await figure(replay_app, "divergence", window)
    ax = fig.axes[0]
    [band] = [c for c in ax.collections if isinstance(c, PolyCollection)
              and c.get_gid() == "spread"]
    lines = {line.get_label().split(" ")[0]: line for line in ax.lines
             if line.get_label().startswith(("AI", "Crypto"))}
    edges = [(mdates.date2num(np.asarray(line.get_xdata())),
              np.asarray(line.get_ydata(), dtype=float)) for line in lines.values()]
    vertices = band.get_paths()[0].vertices
    off = [(x, y) for x, y in vertices
           if min(abs(np.interp(x, lx, ly) - y) for lx, ly in edges) > 1e-9]
    assert not off, f"{len(off)} band corners off both lines (a notch), e.g. {off[:3]}"
    weekends = {d for d in mdates.num2date(vertices[:, 0]) if d.weekday() >= 5}
    assert weekends  # the check covered weekend days


async def test_btc_window_before_the_data_says_data_from(replay_app: App) -> None:
    fig = await figure(replay_app, "btc", "since:2020-01-01")
    title = fig.get_suptitle()
    assert title == "Bitcoin, data from 2023-06-01"
    assert xlim_dates(fig)[0] == date(2023, 6, 1)
    reply = await replay_app.registry.run_text(
        replay_app.context(Chat("test", "1")),
        "/chart btc since:2020-01-01")
    assert reply.title == "BTC, data from 2023-06-01"


async def test_a_chart_whose_data_lags_the_asof_says_data_through(replay_app: App) -> None:
    """At 2026-05-29 the newest yields input is the T-bill of 2026-03-26 (Aave ends
    2026-01-20): the footer says so; BTC, quoted that day, says nothing of the kind."""
    lagging = await figure(replay_app, "yields", "1y")
    assert any("as of 2026-05-29 (data through 2026-03-26)" in t for t in texts(lagging))
    current = await figure(replay_app, "btc", "ytd")
    assert not any("data through" in t for t in texts(current))


async def test_every_chart_states_its_headline_number(replay_app: App) -> None:
    readings = replay_app.hub.readings
    div = (await readings.get("divergence", DivergenceReading, SINCE_2024)).reading
    btc = (await readings.get("btc", BtcReading)).reading
    st = (await readings.get("stablecoins", StablecoinReading)).reading
    yl = (await readings.get("yields", YieldsReading)).reading
    assert st.total.from_ath_pct is not None and yl.spread_bp is not None
    expected = {
        "divergence": f"AI minus crypto {div.spread_pp:+.1f} pp",
        "btc": f"{btc.btc.drawdown_pct:+.1f}% from its high",
        "stablecoins": f"{-st.total.from_ath_pct:.1f}% below its high",
        "yields": f"DeFi minus T-bill {yl.spread_bp:+.0f} bp",
        "aitokens": "Median token -",
        "capex": "Q1 2026: $",
    }
    assert set(expected) == set(CHARTS)
    for name, part in expected.items():
        fig = chart_figure(await build(replay_app, name, CHARTS[name].default_window.label))
        assert part in headline(fig), (name, headline(fig))


class ReadCountingRedis:
    """The cache's Redis, telling the test when two readers have both missed the cache."""

    def __init__(self, inner: Redis) -> None:
        self.inner = inner
        self.reads = 0
        self.both_read = asyncio.Event()

    async def get(self, key: str) -> Any:
        value = await self.inner.get(key)
        self.reads += 1
        if self.reads == 2:  # the two askers
            self.both_read.set()
        return value

    async def set(self, key: str, value: str, ex: int) -> Any:
        return await self.inner.set(key, value, ex=ex)


async def test_two_chats_asking_at_once_get_one_render(replay_app: App) -> None:
    entered: list[ChartData] = []
    release = threading.Event()

    def renderer(data: ChartData) -> bytes:
        entered.append(data)
        release.wait(30)
        return draw_chart(data)

    redis = ReadCountingRedis(replay_app.redis)
    service = ChartService(replay_app.store, cast(Redis, redis), replay_app.store.keys,
                           replay_app.settings.baskets, renderer=renderer)
    asof = replay_app.hub.asof
    assert asof is not None
    first = asyncio.create_task(service.drawn("btc", SINCE_2024, asof))
    second = asyncio.create_task(service.drawn("btc", SINCE_2024, asof))
    await redis.both_read.wait()  # both missed the cache while the render is held
    release.set()
    a, b = await asyncio.gather(first, second)
    assert len(entered) == 1
    assert a.png == b.png
    again = await service.drawn("btc", SINCE_2024, asof)  # later: from the cache
    assert again.png == a.png and len(entered) == 1
