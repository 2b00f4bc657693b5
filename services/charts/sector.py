"""AI tokens (equal-weight index, per-token drawdown) and hyperscaler capex by quarter."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd

from services.baskets import Baskets
from services.charts.data import ChartMeta, chart_meta, known, window_slice
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
    to_png,
    y_format,
)
from services.metrics.aitokens import SECTOR_CAP
from services.metrics.capex import capex_key
from services.metrics.common import lag_is_stale
from services.returns import drawdown, equal_weight_index
from services.series import MarketData
from services.windows import Window


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
    stale = tuple(k for k, dd in dds.items() if dd and lag_is_stale(dd.close_date, asof, "token"))
    meta = chart_meta("aitokens", "AI tokens", "Equal-weight index of daily returns; below, "
                      "each token's distance from its peak close.", window, asof, data,
                      list(baskets.aitokens))
    shown = window_slice(index, window, asof) if index is not None else pd.Series(dtype=float)
    return AiTokensChart(meta, shown.astype("float64"), drawdowns, stale)


def draw_aitokens(chart: AiTokensChart) -> bytes:
    fig, (top, bottom) = new_figure(chart.meta, 2, (1.2, 1.0))
    if chart.index.empty:
        no_data(top)
    else:
        top.plot(chart.index.index, chart.index.to_numpy(), color=COLORS["ai"], linewidth=2.2,
                 label=f"Index {float(chart.index.iloc[-1]):.1f}")
    panel(top, "Equal-weight AI-token index", "index level")
    y_format(top, lambda v: f"{v:,.0f}")
    date_axis(top)
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
    return to_png(fig)


@dataclass(frozen=True, eq=False)
class CapexChart:
    meta: ChartMeta
    quarterly: dict[str, pd.Series]  # ticker -> capex (USD) by quarter end, in the window
    sector_cap: pd.Series  # AI-token sector market cap (USD) where known; may be empty


def chart_data_capex(data: MarketData, asof: date, window: Window,
                     baskets: Baskets) -> CapexChart:
    start = pd.Timestamp(window.cutoff(asof)[0])
    quarterly = {t: known(data, capex_key(t), asof).loc[start:] for t in baskets.capex}
    meta = chart_meta("capex", "Hyperscaler capex", "Capital expenditure per quarter (SEC "
                      "filings, once filed); line: AI-token sector market cap where known.",
                      window, asof, data, [*(capex_key(t) for t in baskets.capex), SECTOR_CAP])
    return CapexChart(meta, quarterly, window_slice(known(data, SECTOR_CAP, asof), window, asof))


def quarter_label(day: pd.Timestamp) -> str:
    return f"Q{(day.month - 1) // 3 + 1}\n{day.year}"


def draw_capex(chart: CapexChart) -> bytes:
    fig, (ax,) = new_figure(chart.meta)
    quarters = sorted({d for s in chart.quarterly.values() for d in s.index})
    width = 0.8 / max(len(chart.quarterly), 1)
    for i, (ticker, values) in enumerate(chart.quarterly.items()):
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
    elif quarters:
        no_data(ax, "AI-token sector market cap: not known at this date", y=0.97)
    panel(ax, "Capex per quarter", "USD")
    y_format(ax, billions)
    legend(ax)
    return to_png(fig)
