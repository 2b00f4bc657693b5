"""The metric conventions, each computed once, as a series over a calendar of dates.

Every function here is causal: the value on a calendar date uses only the points on or before
it. A reading at an as-of date is the same function over the one-date calendar [asof], so a
command, a chart, an alert, the thesis and a backtest cannot disagree (DESIGN.md conventions).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
import pandas as pd

from services.windows import Window

EMPTY = pd.Series([], index=pd.DatetimeIndex([]), dtype="float64")


def on_or_before(values: pd.Series, when: pd.DatetimeIndex) -> tuple[np.ndarray, np.ndarray]:
    """(value, date) of the last point on or before each timestamp; NaN/NaT when none."""
    if not len(values):
        return (np.full(len(when), np.nan), np.full(len(when), np.datetime64("NaT"),
                                                    dtype="datetime64[ns]"))
    pos = values.index.searchsorted(when, side="right") - 1
    found = pos >= 0
    safe = pos.clip(0)
    vals = np.where(found, values.to_numpy(dtype="float64")[safe], np.nan)
    dates = np.where(found, values.index.to_numpy(dtype="datetime64[ns]")[safe],
                     np.datetime64("NaT"))
    return vals.astype("float64"), dates.astype("datetime64[ns]")


def read_at(values: pd.Series, calendar: pd.DatetimeIndex) -> pd.Series:
    """The series' last value on or before each calendar date (NaN before its first)."""
    return pd.Series(on_or_before(values, calendar)[0], index=calendar, dtype="float64")


def one_day(asof: date) -> pd.DatetimeIndex:
    return pd.DatetimeIndex([pd.Timestamp(asof)])


def union_calendar(series: list[pd.Series]) -> pd.DatetimeIndex:
    index = pd.DatetimeIndex([])
    for s in series:
        index = index.union(pd.DatetimeIndex(s.index))
    return index


def daily_calendar(series: list[pd.Series], through: date | None = None,
                   lag: timedelta = timedelta(0)) -> pd.DatetimeIndex:
    """Every calendar day from the first point of any series to `through` (default: the
    last point of any series, plus the lag after which it counts as known), so weekends
    and holidays read like any other day."""
    firsts = [s.index[0] for s in series if len(s)]
    if not firsts:
        return pd.DatetimeIndex([])
    end = pd.Timestamp(through) if through else max(
        s.index[-1] for s in series if len(s)) + lag
    return pd.date_range(min(firsts), end, freq="D")


@dataclass(frozen=True)
class PeriodReturn:
    base_date: date
    base_close: float
    end_date: date
    end_close: float

    @property
    def pct(self) -> float:
        return (self.end_close / self.base_close - 1.0) * 100.0


def returns_frame(values: pd.Series, window: Window, calendar: pd.DatetimeIndex
                  ) -> pd.DataFrame:
    """close(t) / close(base(t)) - 1 in percent for each calendar date t, with the base and
    end points. `pct` is NaN where the base is missing, zero or not before the end close."""
    end, end_dates = on_or_before(values, calendar)
    base, base_dates = on_or_before(values, window.bases(calendar))
    ok = (base_dates < end_dates) & (base != 0) & ~np.isnan(base)
    pct = np.where(ok, (end / np.where(ok, base, 1.0) - 1.0) * 100.0, np.nan)
    return pd.DataFrame({"pct": pct, "base": base, "base_date": base_dates, "end": end,
                         "end_date": end_dates}, index=calendar)


def window_return(values: pd.Series, window: Window, calendar: pd.DatetimeIndex) -> pd.Series:
    return returns_frame(values, window, calendar)["pct"].astype("float64")


def period_return(values: pd.Series, window: Window, asof: date) -> PeriodReturn | None:
    """The return at one as-of date, or None when the series does not reach back to base."""
    row = returns_frame(values, window, one_day(asof)).iloc[0]
    if np.isnan(row["pct"]):
        return None
    return PeriodReturn(pd.Timestamp(row["base_date"]).date(), float(row["base"]),
                        pd.Timestamp(row["end_date"]).date(), float(row["end"]))


def close_on_or_before(values: pd.Series, day: date) -> tuple[date, float] | None:
    value, when = on_or_before(values, one_day(day))
    if np.isnat(when[0]):
        return None
    return pd.Timestamp(when[0]).date(), float(value[0])


def close_before(values: pd.Series, day: date) -> tuple[date, float] | None:
    return close_on_or_before(values, day - timedelta(days=1))


def drawdown_pct(values: pd.Series, calendar: pd.DatetimeIndex | None = None) -> pd.Series:
    """close / max(close on record so far) - 1, in percent, read on the calendar."""
    points = (values / values.cummax() - 1.0) * 100.0
    return points if calendar is None else read_at(points, calendar)


@dataclass(frozen=True)
class Drawdown:
    peak_date: date
    peak: float
    close: float
    close_date: date
    pct: float


def drawdown(values: pd.Series, asof: date) -> Drawdown | None:
    """close(asof) against the max close over all history up to asof."""
    cut = values.loc[: pd.Timestamp(asof)]
    if cut.empty:
        return None
    peak_ts = pd.Timestamp(cut.index[int(cut.to_numpy().argmax())])
    return Drawdown(peak_ts.date(), float(cut.max()), float(cut.iloc[-1]), cut.index[-1].date(),
                    float(drawdown_pct(cut).iloc[-1]))


def is_new_high(values: pd.Series, asof: date) -> bool:
    """Latest value >= the max of all earlier values (a lone first value counts)."""
    cut = values.loc[: pd.Timestamp(asof)]
    if len(cut) < 2:
        return not cut.empty
    return bool(cut.iloc[-1] >= cut.iloc[:-1].max())


def change_frame(values: pd.Series, days: int, calendar: pd.DatetimeIndex) -> pd.DataFrame:
    """Absolute and percent change from the value on or before t - days to the latest."""
    frame = returns_frame(values, Window("days", days=days), calendar)
    frame["abs"] = np.where(np.isnan(frame["pct"]), np.nan, frame["end"] - frame["base"])
    return frame


def change_over(values: pd.Series, days: int, asof: date) -> tuple[float, float] | None:
    row = change_frame(values, days, one_day(asof)).iloc[0]
    return None if np.isnan(row["pct"]) else (float(row["abs"]), float(row["pct"]))


def equal_weight_index(series: list[pd.Series], asof: date | None = None,
                       start: float = 100.0) -> pd.Series:
    """Chain-linked equal-weight index of daily returns among members quoted on both days."""
    cut = series if asof is None else [s.loc[: pd.Timestamp(asof)] for s in series]
    frame = pd.concat(cut, axis=1, sort=True)
    if frame.empty:
        return EMPTY
    daily = frame.pct_change(fill_method=None)
    mean = daily.mean(axis=1, skipna=True).fillna(0.0)
    first_quoted = frame.notna().any(axis=1)
    mean = mean[first_quoted]
    return ((1.0 + mean).cumprod() * start).astype("float64")
