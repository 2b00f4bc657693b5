"""Small shared pieces of the metric readings."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

import pandas as pd

from services.catalog import stale_after
from services.returns import EMPTY
from services.series import MarketData, TimeSeries


@dataclass(frozen=True)
class Point:
    """One value with its date, source and whether it lags the as-of date."""

    value: float
    day: str
    source: str
    stale: bool = False


def lag_is_stale(last: date | None, asof: date, key: str) -> bool:
    """Whether series `key`, last dated `last`, lags `asof` by more than its kind allows."""
    if last is None:
        return True
    return (asof - last).days > stale_after(key)


def latest_point(series: TimeSeries | None, asof: date) -> Point | None:
    if series is None:
        return None
    cut = series.values.loc[: pd.Timestamp(asof)]
    if cut.empty:
        return None
    last = cut.index[-1].date()
    stale = lag_is_stale(last, asof, series.key)
    return Point(float(cut.iloc[-1]), last.isoformat(), series.source, stale)


def sources_of(data: MarketData, keys: list[str]) -> tuple[str, ...]:
    """Distinct source names of the given series, in first-seen order."""
    seen: dict[str, None] = {}
    for key in keys:
        ts = data.get(key)
        if ts is not None:
            for part in ts.source.split(", "):
                seen.setdefault(part, None)
    return tuple(seen)


SeriesFn = Callable[[MarketData, pd.DatetimeIndex], pd.Series]


@dataclass(frozen=True)
class MetricDef:
    """One metric id: its causal series over a calendar, the series it reads, its unit."""

    id: str
    unit: str  # "%", "pp", "bp", "USD bn", "index", "x", "verdict" or a price currency
    description: str
    inputs: tuple[str, ...]
    fn: SeriesFn
    members: bool = False  # inputs may drop out (a token index); else every one is needed


def closes(data: MarketData, key: str) -> pd.Series:
    ts = data.get(key)
    return EMPTY if ts is None else ts.values


def one_value(series: pd.Series) -> float | None:
    """The value of a one-date series, None when it is NaN."""
    value = float(series.iloc[0]) if len(series) else math.nan
    return None if math.isnan(value) else value
