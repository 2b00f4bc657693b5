"""Stablecoin supply with all-time-high markers and the USDT/USDC split; DeFi vs T-bill yields."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import pandas as pd

from services.baskets import Baskets
from services.charts.data import ChartMeta, chart_meta, known, window_slice
from services.charts.render import (
    COLORS,
    billions,
    date_axis,
    legend,
    new_figure,
    no_data,
    panel,
    to_png,
    y_format,
)
from services.metrics.stablecoins import SUPPLY_KEYS
from services.metrics.yields import DEFI_USDC, TBILL
from services.series import MarketData
from services.windows import Window

TOTAL, USDT, USDC = SUPPLY_KEYS


@dataclass(frozen=True, eq=False)
class StablecoinsChart:
    meta: ChartMeta
    total: pd.Series  # USD supply in the window
    new_highs: pd.Series  # the days (and values) where total supply set an all-time high
    usdt: pd.Series
    usdc: pd.Series


def new_high_days(values: pd.Series) -> pd.Series:
    """Values that are >= every earlier value (services.returns.is_new_high, vectorised)."""
    earlier_max = values.cummax().shift(1)
    return values[earlier_max.isna() | (values >= earlier_max)]


def chart_data_stablecoins(data: MarketData, asof: date, window: Window,
                           _baskets: Baskets) -> StablecoinsChart:
    total = known(data, TOTAL, asof)
    shown = window_slice(total, window, asof)
    highs = new_high_days(total)
    meta = chart_meta("stablecoins", "Stablecoin supply",
                      "Total supply (dots: new all-time highs); below, USDT and USDC.",
                      window, asof, data, list(SUPPLY_KEYS))
    return StablecoinsChart(meta, shown, highs.loc[highs.index.isin(shown.index)],
                            window_slice(known(data, USDT, asof), window, asof),
                            window_slice(known(data, USDC, asof), window, asof))


def draw_stablecoins(chart: StablecoinsChart) -> bytes:
    fig, (top, bottom) = new_figure(chart.meta, 2, (1.4, 1.0))
    if chart.total.empty:
        no_data(top)
    else:
        top.plot(chart.total.index, chart.total.to_numpy(), color=COLORS["total"],
                 linewidth=2.0, label=f"Total {billions(float(chart.total.iloc[-1]))}")
        top.scatter(chart.new_highs.index, chart.new_highs.to_numpy(), s=9,
                    color=COLORS["good"], zorder=3,
                    label=f"New all-time high ({len(chart.new_highs)} days)")
    panel(top, "Total stablecoin supply", "USD")
    for key, values in (("usdt", chart.usdt), ("usdc", chart.usdc)):
        if not values.empty:
            bottom.plot(values.index, values.to_numpy(), color=COLORS[key], linewidth=2.0,
                        label=f"{key.upper()} {billions(float(values.iloc[-1]))}")
    if chart.usdt.empty and chart.usdc.empty:
        no_data(bottom)
    panel(bottom, "USDT and USDC", "USD")
    for ax in (top, bottom):
        y_format(ax, billions)
        date_axis(ax)
        legend(ax)
    return to_png(fig)


@dataclass(frozen=True, eq=False)
class YieldsChart:
    meta: ChartMeta
    defi_usdc: pd.Series  # Aave USDC supply APY, percent
    tbill: pd.Series  # 3-month T-bill, percent (discount basis)


def chart_data_yields(data: MarketData, asof: date, window: Window,
                      _baskets: Baskets) -> YieldsChart:
    meta = chart_meta("yields", "Yields", "DeFi USDC lending APY (Aave v3) against the "
                      "3-month US T-bill.", window, asof, data, [DEFI_USDC, TBILL])
    return YieldsChart(meta, window_slice(known(data, DEFI_USDC, asof), window, asof),
                       window_slice(known(data, TBILL, asof), window, asof))


def draw_yields(chart: YieldsChart) -> bytes:
    fig, (ax,) = new_figure(chart.meta)
    series = (("Aave USDC APY", chart.defi_usdc, COLORS["usdc"], 1.3),
              ("3-month T-bill", chart.tbill, COLORS["bench"], 2.4))
    for label, values, color, width in series:
        if not values.empty:
            last = values.index[-1].date().isoformat()
            ax.plot(values.index, values.to_numpy(), color=color, linewidth=width,
                    label=f"{label} {float(values.iloc[-1]):.2f}% ({last})")
    if chart.defi_usdc.empty and chart.tbill.empty:
        no_data(ax)
    ax.set_ylim(bottom=0.0)
    panel(ax, "Annual yield", "percent a year")
    y_format(ax, lambda v: f"{v:g}%")
    date_axis(ax)
    legend(ax)
    return to_png(fig)
