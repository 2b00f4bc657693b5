"""Stablecoin supply with all-time-high markers and the USDT/USDC split; DeFi vs T-bill yields."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import pandas as pd
from matplotlib.figure import Figure

from services.baskets import Baskets
from services.charts.data import ChartMeta, chart_meta, known, shown_from, window_slice
from services.charts.render import (
    COLORS,
    billions,
    date_axis,
    legend,
    new_figure,
    no_data,
    panel,
    series_or_empty,
    y_format,
)
from services.metrics.stablecoins import SUPPLY_KEYS
from services.metrics.yields import DEFI_USDC, TBILL, discount_to_apy
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


def supply_headline(total: pd.Series) -> str:
    """'Supply $318.3B, 0.8% below its high' (or 'at its all-time high')."""
    if total.empty:
        return "Stablecoin supply: no data"
    last, high = float(total.iloc[-1]), float(total.max())
    if last >= high:
        return f"Supply ${last / 1e9:,.1f}B, at its all-time high"
    return f"Supply ${last / 1e9:,.1f}B, {(1 - last / high) * 100:.1f}% below its high"


def chart_data_stablecoins(data: MarketData, asof: date, window: Window,
                           _baskets: Baskets) -> StablecoinsChart:
    total = known(data, TOTAL, asof)
    shown = window_slice(total, window, asof)
    highs = new_high_days(total)
    meta = chart_meta("stablecoins", "Stablecoin supply",
                      "Total supply (dots: new all-time highs); below, USDT and USDC.",
                      window, asof, data, list(SUPPLY_KEYS))
    meta = shown_from(meta, [shown]).with_headline(supply_headline(total))
    return StablecoinsChart(meta, shown, highs.loc[highs.index.isin(shown.index)],
                            window_slice(known(data, USDT, asof), window, asof),
                            window_slice(known(data, USDC, asof), window, asof))


def stablecoins_figure(chart: StablecoinsChart) -> Figure:
    fig, (top, bottom) = new_figure(chart.meta, 2, (1.4, 1.0))
    if chart.total.empty:
        no_data(top)
    else:
        top.plot(chart.total.index, chart.total.to_numpy(), color=COLORS["total"],
                 linewidth=2.0, label=f"Total {billions(float(chart.total.iloc[-1]), 1)}")
        top.scatter(chart.new_highs.index, chart.new_highs.to_numpy(), s=9,
                    color=COLORS["good"], zorder=3,
                    label=f"New all-time high ({len(chart.new_highs)} days)")
    panel(top, "Total stablecoin supply", "USD")
    for key, values in (("usdt", chart.usdt), ("usdc", chart.usdc)):
        if not values.empty:
            bottom.plot(values.index, values.to_numpy(), color=COLORS[key], linewidth=2.0,
                        label=f"{key.upper()} {billions(float(values.iloc[-1]), 1)}")
    if chart.usdt.empty and chart.usdc.empty:
        no_data(bottom)
    panel(bottom, "USDT and USDC", "USD")
    for ax in (top, bottom):
        y_format(ax, billions)
        date_axis(ax, chart.meta.data_from or chart.meta.start, chart.meta.asof)
        legend(ax)
    return fig


@dataclass(frozen=True, eq=False)
class YieldsChart:
    meta: ChartMeta
    defi_usdc: pd.Series  # Aave USDC supply APY, percent, in the window
    tbill: pd.Series  # 3-month T-bill as an APY (converted from its discount rate), percent
    last_dates: dict[str, date]  # label -> the series' last date on or before as-of


def yields_headline(defi: pd.Series, tbill: pd.Series, asof: date) -> str:
    """'DeFi minus T-bill -23 bp', with the older input's date when it lags the as-of."""
    if defi.empty or tbill.empty:
        return "DeFi minus T-bill: no data"
    spread = (float(defi.iloc[-1]) - float(tbill.iloc[-1])) * 100  # tbill: already an APY
    oldest = min(defi.index[-1], tbill.index[-1]).date()
    when = "" if oldest >= asof else f" (data through {oldest.isoformat()})"
    return f"DeFi minus T-bill {spread:+.0f} bp{when}"


def chart_data_yields(data: MarketData, asof: date, window: Window,
                      _baskets: Baskets) -> YieldsChart:
    defi = known(data, DEFI_USDC, asof)
    tbill = pd.Series(discount_to_apy(known(data, TBILL, asof)), dtype="float64")
    meta = chart_meta("yields", "Yields", "DeFi USDC lending APY (Aave v3) against the "
                      "3-month US T-bill as an APY (from its discount rate).", window, asof,
                      data, [DEFI_USDC, TBILL])
    shown = [window_slice(defi, window, asof), window_slice(tbill, window, asof)]
    meta = shown_from(meta, shown).with_headline(yields_headline(defi, tbill, asof))
    lasts = {label: s.index[-1].date() for label, s in (("Aave USDC APY", defi),
                                                          ("T-bill as APY", tbill)) if len(s)}
    return YieldsChart(meta, shown[0], shown[1], lasts)


def yields_figure(chart: YieldsChart) -> Figure:
    fig, (ax,) = new_figure(chart.meta)
    start = chart.meta.data_from or chart.meta.start
    series = (("Aave USDC APY", chart.defi_usdc, COLORS["usdc"], 1.3),
              ("T-bill as APY", chart.tbill, COLORS["bench"], 2.4))
    drawn = 0
    for label, values, color, width in series:
        inside = series_or_empty(values, start)  # a base close alone is not a line
        if not inside.empty:
            last = inside.index[-1].date().isoformat()
            ax.plot(values.index, values.to_numpy(), color=color, linewidth=width,
                    label=f"{label} {float(values.iloc[-1]):.2f}% ({last})")
            drawn += 1
    if not drawn:
        ended = "\n".join(f"{k} ends {v.isoformat()}" for k, v in chart.last_dates.items())
        no_data(ax, "no data in this window" + (f"\n{ended}" if ended else ""))
        ax.set_yticks([])
    else:
        ax.set_ylim(bottom=0.0)
    panel(ax, "Annual yield", "percent a year")
    y_format(ax, lambda v, d: f"{v:.{d}f}%")
    date_axis(ax, start, chart.meta.asof)
    legend(ax)
    return fig
