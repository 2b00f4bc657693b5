"""Matplotlib (Agg, no pyplot) figure helpers: phone-sized PNGs with title and footer.

Figures are built with `matplotlib.figure.Figure` and an explicit Agg canvas, so rendering
holds no global state and is safe in worker threads. Chart text is plain ASCII.
"""

from __future__ import annotations

import io
import textwrap
from collections.abc import Callable, Sequence
from datetime import date
from typing import Any

import matplotlib.dates as mdates
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import Formatter

from services.charts.data import ChartMeta

WIDTH_IN, HEIGHT_IN, DPI = 7.2, 9.0, 150  # 1080 x 1350 px, a phone's portrait screen
COLORS = {"ai": "#1b7f5f", "crypto": "#f7931a", "bench": "#5b6770", "usdt": "#26a17b",
          "usdc": "#2775ca", "total": "#3d3d9e", "bad": "#c0392b", "good": "#1b7f5f"}
PALETTE = ("#1b7f5f", "#f7931a", "#2775ca", "#c0392b", "#7d3c98", "#5b6770", "#b7950b",
           "#16a085")
TICK_SIZE, LABEL_SIZE, LEGEND_SIZE = 10.5, 11.5, 10.5
HEADLINE_COLOR = "#222222"
MAX_DECIMALS = 3


def new_figure(meta: ChartMeta, panels: int = 1,
               ratios: Sequence[float] = (1.0,)) -> tuple[Figure, list[Axes]]:
    """A titled figure with `panels` stacked axes and the sources/as-of footer drawn on it."""
    fig = Figure(figsize=(WIDTH_IN, HEIGHT_IN), dpi=DPI)
    FigureCanvasAgg(fig)
    fig.subplots_adjust(left=0.14, right=0.95, top=0.81, bottom=0.10, hspace=0.32)
    fig.suptitle(meta.title, x=0.05, y=0.975, ha="left", fontsize=17, fontweight="bold")
    fig.text(0.05, 0.928, meta.headline, ha="left", va="top", fontsize=15,
             fontweight="bold", color=HEADLINE_COLOR, gid="headline")
    fig.text(0.05, 0.89, "\n".join(textwrap.wrap(meta.subtitle, 76)), ha="left", va="top",
             fontsize=11.5, color="#444444")
    fig.text(0.05, 0.015, "\n".join(textwrap.wrap(footer_text(meta), 95)), ha="left",
             va="bottom", fontsize=9.5, color="#666666")
    grid = fig.add_gridspec(panels, 1, height_ratios=list(ratios)[:panels] or None)
    axes = [fig.add_subplot(grid[i, 0]) for i in range(panels)]
    for ax in axes:
        ax.grid(True, color="#dddddd", linewidth=0.8)
        ax.spines[["top", "right"]].set_visible(False)
        ax.tick_params(labelsize=TICK_SIZE)
    return fig, axes


def footer_text(meta: ChartMeta) -> str:
    sources = ", ".join(meta.sources) if meta.sources else "no data"
    through = (f" (data through {meta.data_through.isoformat()})"
               if meta.data_through is not None else "")
    return f"Source: {sources} | as of {meta.asof.isoformat()}{through} | flowwatch"


def date_axis(ax: Axes, start: date | None = None, end: date | None = None) -> None:
    """Concise date ticks; with `start` and `end`, the x-axis spans exactly that window."""
    if start is not None and end is not None:  # a base close just before start stays in view
        left = min(float(mdates.date2num(pd.Timestamp(start))), ax.dataLim.x0)  # type: ignore[no-untyped-call]
        ax.set_xlim(left, float(mdates.date2num(pd.Timestamp(end))))  # type: ignore[no-untyped-call]
    # matplotlib.dates ships no annotations for these constructors.
    locator = mdates.AutoDateLocator(minticks=3, maxticks=7)  # type: ignore[no-untyped-call]
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))  # type: ignore[no-untyped-call]


Fmt = Callable[[float, int], str]  # (value, decimals) -> label


class DistinctFormatter(Formatter):
    """Tick labels with the fewest decimals (0-3) that keep neighbouring ticks apart, so a
    narrow range never repeats a label ($318B $318B -> $317.5B $318.0B); never '-0'."""

    def __init__(self, fmt: Fmt) -> None:
        self.fmt = fmt
        self.decimals = 0

    def format_ticks(self, values: Any) -> list[str]:
        ticks = [float(v) for v in values]
        for self.decimals in range(MAX_DECIMALS + 1):
            labels = [self(v) for v in ticks]
            if len(set(labels)) == len(labels):
                break
        return labels

    def __call__(self, x: float, pos: int | None = None) -> str:
        return self.fmt(float(x), self.decimals)


def y_format(ax: Axes, fmt: Fmt) -> None:
    ax.yaxis.set_major_formatter(DistinctFormatter(fmt))


def signed_pct(value: float, decimals: int = 0) -> str:
    """A fraction as a signed percent: 0.123 -> '+12%'; zero is '0%'."""
    if round(value * 100, decimals) == 0:
        return "0%"
    return f"{value * 100:+.{decimals}f}%"


def billions(value: float, decimals: int = 0) -> str:
    """$318B; $317.5B at one decimal; zero is $0B (never $-0B)."""
    if round(value / 1e9, decimals) == 0:
        return "$0B"
    sign = "-" if value < 0 else ""
    return f"{sign}${abs(value) / 1e9:,.{decimals}f}B"


def no_data(ax: Axes, text: str = "no data in this window", y: float = 0.5) -> None:
    ax.text(0.5, y, text, transform=ax.transAxes, ha="center", va="center",
            fontsize=12, color="#888888")


def series_or_empty(values: pd.Series, start: date | None) -> pd.Series:
    """The values on or after `start` (the window's days), for lines that must not reach
    back before the window."""
    return values if start is None else values.loc[pd.Timestamp(start):]


def to_png(fig: Figure) -> bytes:
    """Render at the fixed size (no tight bbox, so every chart is the same pixel size)."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=DPI, facecolor="white")
    fig.clear()
    return buf.getvalue()


def panel(ax: Axes, title: str, ylabel: str) -> None:
    ax.set_title(title, loc="left", fontsize=LABEL_SIZE + 1, fontweight="bold")
    ax.set_ylabel(ylabel, fontsize=LABEL_SIZE)


def legend(ax: Axes) -> None:
    if ax.get_legend_handles_labels()[0]:
        ax.legend(fontsize=LEGEND_SIZE, frameon=False, loc="best")
