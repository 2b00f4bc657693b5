"""Matplotlib (Agg, no pyplot) figure helpers: phone-sized PNGs with title and footer.

Figures are built with `matplotlib.figure.Figure` and an explicit Agg canvas, so rendering
holds no global state and is safe in worker threads. Chart text is plain ASCII.
"""

from __future__ import annotations

import io
import textwrap
from collections.abc import Callable, Sequence

import matplotlib.dates as mdates
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter

from services.charts.data import ChartMeta

WIDTH_IN, HEIGHT_IN, DPI = 7.2, 9.0, 150  # 1080 x 1350 px, a phone's portrait screen
COLORS = {"ai": "#1b7f5f", "crypto": "#f7931a", "bench": "#5b6770", "usdt": "#26a17b",
          "usdc": "#2775ca", "total": "#3d3d9e", "bad": "#c0392b", "good": "#1b7f5f"}
PALETTE = ("#1b7f5f", "#f7931a", "#2775ca", "#c0392b", "#7d3c98", "#5b6770", "#b7950b",
           "#16a085")
TICK_SIZE, LABEL_SIZE, LEGEND_SIZE = 10.5, 11.5, 10.5


def new_figure(meta: ChartMeta, panels: int = 1,
               ratios: Sequence[float] = (1.0,)) -> tuple[Figure, list[Axes]]:
    """A titled figure with `panels` stacked axes and the sources/as-of footer drawn on it."""
    fig = Figure(figsize=(WIDTH_IN, HEIGHT_IN), dpi=DPI)
    FigureCanvasAgg(fig)
    fig.subplots_adjust(left=0.14, right=0.95, top=0.845, bottom=0.10, hspace=0.32)
    fig.suptitle(meta.title, x=0.05, y=0.975, ha="left", fontsize=17, fontweight="bold")
    fig.text(0.05, 0.925, "\n".join(textwrap.wrap(meta.subtitle, 76)), ha="left", va="top",
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
    return f"Source: {sources} | as of {meta.asof.isoformat()} | flowwatch"


def date_axis(ax: Axes) -> None:
    # matplotlib.dates ships no annotations for these constructors.
    locator = mdates.AutoDateLocator(minticks=3, maxticks=7)  # type: ignore[no-untyped-call]
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))  # type: ignore[no-untyped-call]


def y_format(ax: Axes, fmt: Callable[[float], str]) -> None:
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _pos: fmt(float(v))))


def signed_pct(value: float) -> str:
    """A fraction as a signed percent: 0.123 -> '+12%'."""
    return f"{value * 100:+.0f}%"


def billions(value: float) -> str:
    return f"${value / 1e9:,.0f}B"


def no_data(ax: Axes, text: str = "no data in this window", y: float = 0.5) -> None:
    ax.text(0.5, y, text, transform=ax.transAxes, ha="center", va="center",
            fontsize=12, color="#888888")


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
