"""Every chart: the metric family whose series it reads, its default window, build and draw."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import assert_never

from matplotlib.figure import Figure

from services.baskets import Baskets
from services.charts.market import (
    BtcChart,
    DivergenceChart,
    btc_figure,
    chart_data_btc,
    chart_data_divergence,
    divergence_figure,
)
from services.charts.money import (
    StablecoinsChart,
    YieldsChart,
    chart_data_stablecoins,
    chart_data_yields,
    stablecoins_figure,
    yields_figure,
)
from services.charts.render import to_png
from services.charts.sector import (
    AiTokensChart,
    CapexChart,
    aitokens_figure,
    capex_figure,
    chart_data_aitokens,
    chart_data_capex,
)
from services.families import FAMILY_BY_NAME
from services.series import MarketData
from services.windows import SINCE_2024, YTD, Window

ChartData = (DivergenceChart | BtcChart | StablecoinsChart | YieldsChart | AiTokensChart
             | CapexChart)
BuildChart = Callable[[MarketData, date, Window, Baskets], ChartData]


@dataclass(frozen=True)
class ChartSpec:
    name: str
    family: str  # the metric family (services.families) whose series the chart reads
    default_window: Window
    build: BuildChart

    def inputs(self, baskets: Baskets) -> list[str]:
        return FAMILY_BY_NAME[self.family].inputs(baskets)


CHARTS: dict[str, ChartSpec] = {s.name: s for s in (
    ChartSpec("divergence", "divergence", SINCE_2024, chart_data_divergence),
    ChartSpec("btc", "btc", SINCE_2024, chart_data_btc),
    ChartSpec("stablecoins", "stablecoins", SINCE_2024, chart_data_stablecoins),
    ChartSpec("yields", "yields", SINCE_2024, chart_data_yields),
    ChartSpec("aitokens", "aitokens", YTD, chart_data_aitokens),
    ChartSpec("capex", "capex", SINCE_2024, chart_data_capex),
)}


def draw_chart(data: ChartData) -> bytes:
    """Render any chart's data to PNG bytes (CPU-bound: call it off the event loop)."""
    return to_png(chart_figure(data))


def chart_figure(data: ChartData) -> Figure:
    """The matplotlib Figure of any chart's data (tests inspect it; draw_chart renders it)."""
    match data:
        case DivergenceChart():
            return divergence_figure(data)
        case BtcChart():
            return btc_figure(data)
        case StablecoinsChart():
            return stablecoins_figure(data)
        case YieldsChart():
            return yields_figure(data)
        case AiTokensChart():
            return aitokens_figure(data)
        case CapexChart():
            return capex_figure(data)
        case _:
            assert_never(data)
