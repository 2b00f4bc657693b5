"""Return, drawdown and all-time-high arithmetic on canonical series (DESIGN.md conventions)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import pandas as pd

from services.windows import Window


@dataclass(frozen=True)
class PeriodReturn:
    base_date: date
    base_close: float
    end_date: date
    end_close: float

    @property
    def pct(self) -> float:
        return (self.end_close / self.base_close - 1.0) * 100.0


def close_on_or_before(values: pd.Series, day: date) -> tuple[date, float] | None:
    cut = values.loc[: pd.Timestamp(day)]
    if cut.empty:
        return None
    return cut.index[-1].date(), float(cut.iloc[-1])


def close_before(values: pd.Series, day: date) -> tuple[date, float] | None:
    cut = values.loc[: pd.Timestamp(day) - pd.Timedelta(days=1)]
    if cut.empty:
        return None
    return cut.index[-1].date(), float(cut.iloc[-1])


def period_return(values: pd.Series, window: Window, asof: date) -> PeriodReturn | None:
    """close(asof) / close(base) - 1, or None when the series does not reach back to base."""
    end = close_on_or_before(values, asof)
    cutoff, strict = window.cutoff(asof)
    base = close_before(values, cutoff) if strict else close_on_or_before(values, cutoff)
    if end is None or base is None or base[1] == 0 or base[0] >= end[0]:
        return None
    return PeriodReturn(base[0], base[1], end[0], end[1])


@dataclass(frozen=True)
class Drawdown:
    peak_date: date
    peak: float
    close: float
    close_date: date

    @property
    def pct(self) -> float:
        return (self.close / self.peak - 1.0) * 100.0


def drawdown(values: pd.Series, asof: date) -> Drawdown | None:
    """close(asof) against the max close over all history up to asof."""
    cut = values.loc[: pd.Timestamp(asof)]
    if cut.empty:
        return None
    peak_ts = pd.Timestamp(cut.index[int(cut.to_numpy().argmax())])
    return Drawdown(peak_ts.date(), float(cut.max()), float(cut.iloc[-1]), cut.index[-1].date())


def is_new_high(values: pd.Series, asof: date) -> bool:
    """Latest value >= the max of all earlier values (a lone first value counts)."""
    cut = values.loc[: pd.Timestamp(asof)]
    if len(cut) < 2:
        return not cut.empty
    return bool(cut.iloc[-1] >= cut.iloc[:-1].max())


def change_over(values: pd.Series, days: int, asof: date) -> tuple[float, float] | None:
    """(absolute, percent) change from the value on or before asof-days to the latest."""
    end = close_on_or_before(values, asof)
    base = close_on_or_before(values, asof - pd.Timedelta(days=days))
    if end is None or base is None or base[1] == 0 or base[0] >= end[0]:
        return None
    return end[1] - base[1], (end[1] / base[1] - 1.0) * 100.0


def equal_weight_index(series: list[pd.Series], asof: date, start: float = 100.0) -> pd.Series:
    """Chain-linked equal-weight index of daily returns among members quoted on both days."""
    frame = pd.concat([s.loc[: pd.Timestamp(asof)] for s in series], axis=1, sort=True)
    daily = frame.pct_change(fill_method=None)
    mean = daily.mean(axis=1, skipna=True).fillna(0.0)
    first_quoted = frame.notna().any(axis=1)
    mean = mean[first_quoted]
    return (1.0 + mean).cumprod() * start
