"""Every chart: the metric family whose series it reads, its default window, build and draw."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import assert_never

from services.baskets import Baskets
from services.charts.market import (
    BtcChart,
    DivergenceChart,
    chart_data_btc,
    chart_data_divergence,
    draw_btc,
    draw_divergence,
)
from services.charts.money import (
    StablecoinsChart,
    YieldsChart,
    chart_data_stablecoins,
    chart_data_yields,
    draw_stablecoins,
    draw_yields,
)
from services.charts.sector import (
    AiTokensChart,
    CapexChart,
    chart_data_aitokens,
    chart_data_capex,
    draw_aitokens,
    draw_capex,
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
    match data:
        case DivergenceChart():
            return draw_divergence(data)
        case BtcChart():
            return draw_btc(data)
        case StablecoinsChart():
            return draw_stablecoins(data)
        case YieldsChart():
            return draw_yields(data)
        case AiTokensChart():
            return draw_aitokens(data)
        case CapexChart():
            return draw_capex(data)
        case _:
            assert_never(data)
