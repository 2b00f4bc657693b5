"""Small shared pieces of the metric readings."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import pandas as pd

from services.catalog import STALE_AFTER_DAYS
from services.series import MarketData, TimeSeries


@dataclass(frozen=True)
class Point:
    """One value with its date, source and whether it lags the as-of date."""

    value: float
    day: str
    source: str
    stale: bool = False


def lag_is_stale(last: date | None, asof: date, kind: str) -> bool:
    if last is None:
        return True
    return (asof - last).days > STALE_AFTER_DAYS.get(kind, 6)


def latest_point(series: TimeSeries | None, asof: date, kind: str) -> Point | None:
    if series is None:
        return None
    cut = series.values.loc[: pd.Timestamp(asof)]
    if cut.empty:
        return None
    last = cut.index[-1].date()
    stale = lag_is_stale(last, asof, kind)
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
