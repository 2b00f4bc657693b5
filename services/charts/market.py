"""Divergence (AI vs crypto baskets vs the S&P 500) and Bitcoin price with drawdown."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import pandas as pd

from services.baskets import Baskets
from services.charts.data import ChartMeta, basket_cumulative, chart_meta, known, window_slice
from services.charts.render import (
    COLORS,
    date_axis,
    legend,
    new_figure,
    no_data,
    panel,
    signed_pct,
    to_png,
    y_format,
)
from services.returns import drawdown
from services.series import MarketData
from services.windows import Window


@dataclass(frozen=True, eq=False)
class DivergenceChart:
    meta: ChartMeta
    ai: pd.Series  # cumulative return as a fraction, 0.25 = +25%
    crypto: pd.Series
    benchmark: pd.Series
    benchmark_name: str


def chart_data_divergence(data: MarketData, asof: date, window: Window,
                          baskets: Baskets) -> DivergenceChart:
    def basket(keys: list[str]) -> pd.Series:
        return basket_cumulative([known(data, k, asof) for k in keys], window, asof)

    meta = chart_meta("divergence", "AI vs crypto",
                      "Cumulative price return, equal-weight baskets. Shaded: AI minus crypto.",
                      window, asof, data, [*baskets.ai, *baskets.crypto, baskets.benchmark])
    return DivergenceChart(meta, basket(baskets.ai), basket(baskets.crypto),
                           basket([baskets.benchmark]), "S&P 500")


def draw_divergence(chart: DivergenceChart) -> bytes:
    fig, (ax,) = new_figure(chart.meta)
    lines = (("AI chips & memory", chart.ai, COLORS["ai"]),
             ("Crypto (BTC, ETH)", chart.crypto, COLORS["crypto"]),
             (chart.benchmark_name, chart.benchmark, COLORS["bench"]))
    for label, values, color in lines:
        if not values.empty:
            last = signed_pct(float(values.iloc[-1]))
            ax.plot(values.index, values.to_numpy(), color=color, linewidth=2.2,
                    label=f"{label} {last}")
    both = pd.concat([chart.ai, chart.crypto], axis=1, sort=True).ffill().dropna()
    if not both.empty:
        ax.fill_between(both.index, both.iloc[:, 0].to_numpy(), both.iloc[:, 1].to_numpy(),
                        color=COLORS["ai"], alpha=0.12, linewidth=0, label="Spread")
    else:
        no_data(ax)
    ax.axhline(0.0, color="#999999", linewidth=0.9)
    panel(ax, "Return since the window start", "cumulative return")
    y_format(ax, signed_pct)
    date_axis(ax)
    legend(ax)
    return to_png(fig)


@dataclass(frozen=True, eq=False)
class BtcChart:
    meta: ChartMeta
    price: pd.Series  # USD closes in the window
    drawdown: pd.Series  # close / all-time-high-so-far - 1 (history before the window counts)
    ath_date: date | None
    ath: float | None


def chart_data_btc(data: MarketData, asof: date, window: Window,
                   _baskets: Baskets) -> BtcChart:
    values = known(data, "BTC", asof)
    shown = window_slice(values, window, asof)
    path = (values / values.cummax() - 1.0).loc[shown.index]
    ath = drawdown(values, asof)
    meta = chart_meta("btc", "Bitcoin", "Daily close in USD; below, the distance from the "
                      "all-time high on record.", window, asof, data, ["BTC"])
    return BtcChart(meta, shown, path, ath.peak_date if ath else None, ath.peak if ath else None)


def draw_btc(chart: BtcChart) -> bytes:
    fig, (top, bottom) = new_figure(chart.meta, 2, (2.0, 1.0))
    if chart.price.empty:
        no_data(top)
    else:
        top.plot(chart.price.index, chart.price.to_numpy(), color=COLORS["crypto"],
                 linewidth=2.0, label=f"BTC ${float(chart.price.iloc[-1]):,.0f}")
    if chart.ath_date is not None and chart.ath is not None and len(chart.price) and (
            chart.price.index[0] <= pd.Timestamp(chart.ath_date)):
        top.scatter(pd.DatetimeIndex([chart.ath_date]), [chart.ath], color=COLORS["bad"], zorder=3,
                    label=f"All-time high ${chart.ath:,.0f} ({chart.ath_date.isoformat()})")
    panel(top, "Price", "USD")
    y_format(top, lambda v: f"${v / 1000:,.0f}k")
    bottom.fill_between(chart.drawdown.index, chart.drawdown.to_numpy(), 0.0,
                        color=COLORS["bad"], alpha=0.3, linewidth=0)
    bottom.plot(chart.drawdown.index, chart.drawdown.to_numpy(), color=COLORS["bad"],
                linewidth=1.4)
    panel(bottom, "Drawdown from all-time high", "from high")
    y_format(bottom, signed_pct)
    for ax in (top, bottom):
        date_axis(ax)
    legend(top)
    return to_png(fig)

