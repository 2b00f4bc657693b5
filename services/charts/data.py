"""Pure chart-data helpers: window slicing and equal-weight cumulative basket returns."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import date

import pandas as pd

from services.metrics.common import sources_of
from services.returns import close_before, close_on_or_before, period_return
from services.series import MarketData
from services.windows import Window


@dataclass(frozen=True)
class ChartMeta:
    """What every chart prints around its data: title, headline number, subtitle, the x range
    (the window's start through as-of) and the footer facts."""

    chart: str
    name: str  # "Bitcoin"
    subtitle: str
    window: str
    asof: date
    sources: tuple[str, ...]
    window_text: str = ""  # "since 2024-01-01"
    start: date | None = None  # where the window starts (the x-axis starts there)
    data_from: date | None = None  # set when the data start later than the window
    headline: str = ""  # the chart's number, e.g. "AI minus crypto +548.0 pp"
    data_through: date | None = None  # set when the newest data shown is older than as-of

    @property
    def title(self) -> str:
        if self.data_from is not None:
            return f"{self.name}, data from {self.data_from.isoformat()}"
        return f"{self.name} {self.window_text}".strip()

    def with_headline(self, headline: str) -> ChartMeta:
        return replace(self, headline=headline)


def chart_meta(chart: str, title: str, subtitle: str, window: Window, asof: date,
               data: MarketData, keys: list[str]) -> ChartMeta:
    return ChartMeta(chart, title, subtitle, window.label, asof, sources_of(data, keys),
                     window.describe(asof), window.cutoff(asof)[0])


def shown_from(meta: ChartMeta, shown: Iterable[pd.Series]) -> ChartMeta:
    """The meta with `data_from` set when every shown series starts after the window does
    (a window longer than the data): the title then says so instead of the window; and with
    `data_through` set when even the newest shown value is older than the as-of date."""
    present = [s for s in shown if not s.empty]
    lasts = [s.index[-1].date() for s in present]
    if lasts and max(lasts) < meta.asof:
        meta = replace(meta, data_through=max(lasts))
    firsts = [s.index[0].date() for s in present]
    if meta.start is None or not firsts or min(firsts) <= meta.start:
        return meta
    return replace(meta, data_from=min(firsts))


def known(data: MarketData, key: str, asof: date) -> pd.Series:
    """The values of `key` known on or before `asof` (empty when the series is missing)."""
    series = data.get(key)
    if series is None:
        return pd.Series(dtype="float64")
    return series.values.loc[: pd.Timestamp(asof)]


def window_slice(values: pd.Series, window: Window, asof: date) -> pd.Series:
    """From the window's base close (services.returns convention) through `asof`.

    A series that starts inside the window has no base; it is shown from its first value.
    """
    cutoff, strict = window.cutoff(asof)
    base = close_before(values, cutoff) if strict else close_on_or_before(values, cutoff)
    start = pd.Timestamp(base[0]) if base else pd.Timestamp(cutoff)
    return values.loc[start: pd.Timestamp(asof)]


def cumulative_return(values: pd.Series, window: Window, asof: date) -> pd.Series | None:
    """close(t) / close(base) - 1 from the base date (0.0) to asof; None without a base."""
    ret = period_return(values, window, asof)
    if ret is None:
        return None
    span = values.loc[pd.Timestamp(ret.base_date): pd.Timestamp(ret.end_date)]
    return span / ret.base_close - 1.0


def basket_cumulative(members: list[pd.Series], window: Window, asof: date) -> pd.Series:
    """Equal-weight mean of member cumulative returns on the union of their dates.

    Each member is forward-filled onto the union so mixed calendars (KRX, NYSE, 24/7 crypto)
    line up; members without a base close for the window are left out. Every member is 0.0
    from its own base date, and no member closes between its base and the window start,
    so the series starts at 0.0 on the latest base date.
    """
    paths = [p for p in (cumulative_return(m, window, asof) for m in members) if p is not None]
    if not paths:
        return pd.Series(dtype="float64")
    origin = max(p.index[0] for p in paths)
    frame = pd.concat(paths, axis=1, sort=True).ffill().loc[origin:]
    return frame.mean(axis=1).astype("float64")
