"""Pure chart-data helpers: window slicing and equal-weight cumulative basket returns."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import pandas as pd

from services.metrics.common import sources_of
from services.returns import close_before, close_on_or_before, period_return
from services.series import MarketData
from services.windows import Window


@dataclass(frozen=True)
class ChartMeta:
    """What every chart prints around its data: title, subtitle and the footer facts."""

    chart: str
    title: str
    subtitle: str
    window: str
    asof: date
    sources: tuple[str, ...]


def chart_meta(chart: str, title: str, subtitle: str, window: Window, asof: date,
               data: MarketData, keys: list[str]) -> ChartMeta:
    return ChartMeta(chart, f"{title} {window.describe(asof)}", subtitle, window.label, asof,
                     sources_of(data, keys))


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
