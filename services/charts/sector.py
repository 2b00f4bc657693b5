"""AI tokens (equal-weight index, per-token drawdown) and hyperscaler capex by quarter."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from services.baskets import Baskets
from services.charts.data import ChartMeta, chart_meta, known, shown_from, window_slice
from services.charts.render import (
    COLORS,
    PALETTE,
    TICK_SIZE,
    billions,
    date_axis,
    legend,
    new_figure,
    no_data,
    panel,
    signed_pct,
    y_format,
)
from services.metrics.aitokens import SECTOR_CAP
from services.metrics.capex import capex_key
from services.metrics.common import lag_is_stale
from services.metrics.coverage import index_allowed
from services.returns import drawdown, equal_weight_index
from services.series import MarketData
from services.windows import Window

MIN_QUARTERS = 4
HALF = 0.5  # "more than 50% below its peak"


@dataclass(frozen=True, eq=False)
class AiTokensChart:
    meta: ChartMeta
    index: pd.Series  # equal-weight index level (100 at its first day), shown in the window
    drawdowns: pd.Series  # by token: last close / peak close on record - 1
    stale: tuple[str, ...]  # tokens whose last quote lags the as-of date


def chart_data_aitokens(data: MarketData, asof: date, window: Window,
                        baskets: Baskets) -> AiTokensChart:
    tokens = [k for k in baskets.aitokens if k in data]
    index = equal_weight_index([data[k].values for k in tokens], asof) if tokens else None
    dds = {k: drawdown(data[k].values, asof) for k in tokens}
    drawdowns = pd.Series({k: dd.pct / 100.0 for k, dd in dds.items() if dd}, dtype="float64")
    stale = tuple(k for k, dd in dds.items() if dd and lag_is_stale(dd.close_date, asof, k))
    meta = chart_meta("aitokens", "AI tokens", "Equal-weight index of daily returns; below, "
                      "each token's distance from its peak close.", window, asof, data,
                      list(baskets.aitokens))
    shown = window_slice(index, window, asof) if index is not None else pd.Series(dtype=float)
    if not shown.empty and float(shown.iloc[0]) > 0:  # 100 on the window's first day
        shown = shown / float(shown.iloc[0]) * 100.0
    # Where too few tokens are quoted the index no longer speaks for the sector: not drawn.
    allowed = index_allowed(data, tokens, baskets.min_coverage, pd.DatetimeIndex(shown.index))
    shown = shown[allowed.to_numpy(dtype=bool)] if not shown.empty else shown
    meta = shown_from(meta, [shown]).with_headline(token_headline(drawdowns))
    return AiTokensChart(meta, shown.astype("float64"), drawdowns, stale)


def token_headline(drawdowns: pd.Series) -> str:
    """'Median token -75.6% from its peak; 7 of 8 more than 50% below'."""
    if drawdowns.empty:
        return "AI tokens: no data"
    deep = int((drawdowns < -HALF).sum())
    return (f"Median token {drawdowns.median() * 100:+.1f}% from its peak; "
            f"{deep} of {len(drawdowns)} more than 50% below")


def aitokens_figure(chart: AiTokensChart) -> Figure:
    fig, (top, bottom) = new_figure(chart.meta, 2, (1.2, 1.0))
    if chart.index.empty:
        no_data(top)
    else:
        top.plot(chart.index.index, chart.index.to_numpy(), color=COLORS["ai"], linewidth=2.2,
                 label=f"Index {float(chart.index.iloc[-1]):.1f}")
    panel(top, "Equal-weight AI-token index", "index level")
    y_format(top, lambda v, d: f"{v:,.{d}f}")
    date_axis(top, chart.meta.data_from or chart.meta.start, chart.meta.asof)
    legend(top)
    depth = -chart.drawdowns.sort_values()  # deepest first, as positive bar lengths
    stale = [k in chart.stale for k in depth.index]
    bars = bottom.barh([f"{k}*" if s else str(k) for k, s in zip(depth.index, stale, strict=True)],
                       depth.to_numpy(), color=["#aaaaaa" if s else COLORS["bad"] for s in stale])
    bottom.bar_label(bars, labels=[signed_pct(-v) for v in depth.to_numpy()], padding=4,
                     fontsize=TICK_SIZE)
    bottom.set_xlim(0.0, 1.15)
    bottom.invert_yaxis()
    bottom.xaxis.set_major_formatter(lambda v, _pos: signed_pct(-float(v)))
    panel(bottom, "Drawdown from peak close", "")
    if chart.stale:
        bottom.set_xlabel("* grey: last quote lags the as-of date", fontsize=TICK_SIZE,
                          color="#666666")
    return fig


@dataclass(frozen=True, eq=False)
class CapexChart:
    meta: ChartMeta
    quarterly: dict[str, pd.Series]  # ticker -> capex (USD) by quarter end, in the window
    sector_cap: pd.Series  # AI-token sector market cap (USD) where known; may be empty


def chart_data_capex(data: MarketData, asof: date, window: Window,
                     baskets: Baskets) -> CapexChart:
    """The quarters ending in the window; at least the last MIN_QUARTERS filed ones, since a
    window shorter than a year holds fewer quarters than make a picture (or none)."""
    start = pd.Timestamp(window.cutoff(asof)[0])
    filed = {t: known(data, capex_key(t), asof) for t in baskets.capex}
    ends = sorted({d for s in filed.values() for d in s.index})
    first = min([start, *ends[-MIN_QUARTERS:][:1]])
    quarterly = {t: s.loc[first:] for t, s in filed.items()}
    subtitle = ("Capital expenditure per quarter (SEC filings, once filed); line: AI-token "
                "sector market cap where known.")
    if first < start:
        subtitle += f" Quarterly data: the last {MIN_QUARTERS} filed quarters."
    cap = window_slice(known(data, SECTOR_CAP, asof), window, asof)
    if cap.empty:
        subtitle += " AI-token sector market cap: not known at this date."
    meta = chart_meta("capex", "Hyperscaler capex", subtitle, window, asof, data,
                      [*(capex_key(t) for t in baskets.capex), SECTOR_CAP])
    return CapexChart(meta.with_headline(capex_headline(quarterly)), quarterly, cap)


def capex_headline(quarterly: dict[str, pd.Series]) -> str:
    """'Q1 2026: $120.4B from 4 of 4 companies' for the latest quarter anyone filed."""
    ends = [s.index[-1] for s in quarterly.values() if not s.empty]
    if not ends:
        return "Capex: no quarter filed"
    latest = max(ends)
    values = [float(s.loc[latest]) for s in quarterly.values() if latest in s.index]
    label = quarter_label(latest).replace("\n", " ")
    return f"{label}: ${sum(values) / 1e9:,.1f}B from {len(values)} of {len(quarterly)} companies"


def quarter_label(day: pd.Timestamp) -> str:
    return f"Q{(day.month - 1) // 3 + 1}\n{day.year}"


def capex_figure(chart: CapexChart) -> Figure:
    fig, (ax,) = new_figure(chart.meta)
    quarters = sorted({d for s in chart.quarterly.values() for d in s.index})
    width = 0.8 / max(len(chart.quarterly), 1)
    for i, (ticker, values) in enumerate(chart.quarterly.items()):
        if values.empty:  # an empty bar set would put a default-coloured swatch in the legend
            continue
        x = [quarters.index(d) - 0.4 + width * (i + 0.5) for d in values.index]
        ax.bar(x, values.to_numpy(), width=width, color=PALETTE[i % len(PALETTE)], label=ticker)
    ax.set_xticks(range(len(quarters)), [quarter_label(q) for q in quarters])
    if not quarters:
        no_data(ax, "no quarter filed in this window")
    cap = chart.sector_cap
    if not cap.empty and quarters:
        ordinals = [q.toordinal() for q in quarters]
        x = np.interp([d.toordinal() for d in cap.index], ordinals, range(len(quarters)))
        last = f"{billions(float(cap.iloc[-1]))} on {cap.index[-1].date().isoformat()}"
        ax.plot(x, cap.to_numpy(), color="#222222", marker="D", linestyle="--",
                label=f"AI-token sector cap {last}")
        ax.axhline(float(cap.iloc[-1]), color="#222222", linestyle=":", linewidth=1.0)
    panel(ax, "Capex per quarter", "USD")
    ax.set_ylim(bottom=0.0)
    y_format(ax, billions)
    legend(ax)
    return fig
