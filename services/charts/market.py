"""Divergence (AI vs crypto baskets vs the S&P 500) and Bitcoin price with drawdown."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import pandas as pd
from matplotlib.figure import Figure

from services.baskets import Baskets
from services.charts.data import (
    ChartMeta,
    basket_cumulative,
    chart_meta,
    known,
    shown_from,
    window_slice,
)
from services.charts.render import (
    COLORS,
    date_axis,
    legend,
    new_figure,
    no_data,
    panel,
    signed_pct,
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


def spread_headline(ai: pd.Series, crypto: pd.Series) -> str:
    if ai.empty or crypto.empty:
        return "AI minus crypto: no data"
    return f"AI minus crypto {(float(ai.iloc[-1]) - float(crypto.iloc[-1])) * 100:+.1f} pp"


def chart_data_divergence(data: MarketData, asof: date, window: Window,
                          baskets: Baskets) -> DivergenceChart:
    def basket(keys: list[str]) -> pd.Series:
        return basket_cumulative([known(data, k, asof) for k in keys], window, asof)

    ai, crypto, bench = basket(baskets.ai), basket(baskets.crypto), basket([baskets.benchmark])
    meta = chart_meta("divergence", "AI vs crypto",
                      "Cumulative price return, equal-weight baskets. Shaded: AI minus crypto.",
                      window, asof, data, [*baskets.ai, *baskets.crypto, baskets.benchmark])
    meta = shown_from(meta, [ai, crypto]).with_headline(spread_headline(ai, crypto))
    return DivergenceChart(meta, ai, crypto, bench, "S&P 500")


def spread_band(ai: pd.Series, crypto: pd.Series) -> pd.DataFrame:
    """Both lines on the union of their dates, each filled in where it has no close (an AI
    basket on a weekend) by the straight segment its plotted line draws there, so the band's
    edges are exactly the lines: no notch at a weekend, no step where a line is diagonal."""
    both = pd.concat([ai, crypto], axis=1, sort=True)
    return both.interpolate(method="time", limit_area="inside").dropna()


def divergence_figure(chart: DivergenceChart) -> Figure:
    fig, (ax,) = new_figure(chart.meta)
    lines = (("AI chips & memory", chart.ai, COLORS["ai"]),
             ("Crypto (BTC, ETH)", chart.crypto, COLORS["crypto"]),
             (chart.benchmark_name, chart.benchmark, COLORS["bench"]))
    for label, values, color in lines:
        if not values.empty:
            last = signed_pct(float(values.iloc[-1]))
            ax.plot(values.index, values.to_numpy(), color=color, linewidth=2.2,
                    label=f"{label} {last}")
    band = spread_band(chart.ai, chart.crypto)
    if not band.empty:
        ax.fill_between(band.index, band.iloc[:, 0].to_numpy(), band.iloc[:, 1].to_numpy(),
                        color=COLORS["ai"], alpha=0.12, linewidth=0, label="Spread", gid="spread")
    else:
        no_data(ax)
    ax.axhline(0.0, color="#999999", linewidth=0.9)
    panel(ax, "Return since the window start", "cumulative return")
    y_format(ax, signed_pct)
    date_axis(ax, chart.meta.data_from or chart.meta.start, chart.meta.asof)
    legend(ax)
    return fig


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
    headline = "BTC: no data" if ath is None else (
        f"BTC ${ath.close:,.0f}, {ath.pct:+.1f}% from its high")
    meta = shown_from(meta, [shown]).with_headline(headline)
    return BtcChart(meta, shown, path, ath.peak_date if ath else None, ath.peak if ath else None)


def btc_figure(chart: BtcChart) -> Figure:
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
    y_format(top, lambda v, d: f"${v / 1000:,.{d}f}k")
    bottom.fill_between(chart.drawdown.index, chart.drawdown.to_numpy(), 0.0,
                        color=COLORS["bad"], alpha=0.3, linewidth=0)
    bottom.plot(chart.drawdown.index, chart.drawdown.to_numpy(), color=COLORS["bad"],
                linewidth=1.4)
    panel(bottom, "Drawdown from all-time high", "from high")
    y_format(bottom, signed_pct)
    for ax in (top, bottom):
        date_axis(ax, chart.meta.data_from or chart.meta.start, chart.meta.asof)
    legend(top)
    return fig
