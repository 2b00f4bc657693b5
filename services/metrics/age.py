"""How current a metric value is: the latest date of each input and which inputs lag the
as-of date by more than their kind allows (services.catalog.STALE_LIMITS)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
import pandas as pd

from services.catalog import known_after, stale_after
from services.metrics.common import MetricDef, closes
from services.returns import on_or_before, one_day
from services.series import MarketData


@dataclass(frozen=True)
class InputAge:
    key: str
    last: str | None  # ISO date of its latest point known at the as-of date
    stale: bool


@dataclass(frozen=True)
class Age:
    """The age and coverage of one value. With `members`, the inputs are basket members that
    may drop out (the value is stale only when none is current); otherwise each is needed."""

    asof: str
    inputs: tuple[InputAge, ...]
    members: bool = False

    @property
    def newest(self) -> str | None:
        days = [i.last for i in self.inputs if i.last]
        return max(days) if days else None

    @property
    def current(self) -> int:
        return sum(1 for i in self.inputs if not i.stale)

    @property
    def stale(self) -> bool:
        if self.members:
            return self.current == 0
        return any(i.stale for i in self.inputs)

    @property
    def stale_since(self) -> str | None:
        """The last date of the stale input(s) that make the value stale."""
        if not self.stale:
            return None
        days = [i.last for i in self.inputs if i.stale and i.last]
        if not days:
            return None
        return max(days) if self.members else min(days)

    def stale_inputs(self) -> tuple[InputAge, ...]:
        return tuple(i for i in self.inputs if i.stale)


def _input_dates(metric: MetricDef, data: MarketData, calendar: pd.DatetimeIndex
                 ) -> list[np.ndarray]:
    return [on_or_before(closes(data, k), calendar - known_after(k))[1] for k in metric.inputs]


def stale_mask(metric: MetricDef, data: MarketData, calendar: pd.DatetimeIndex) -> np.ndarray:
    """True on each calendar date where the metric's value is stale."""
    if not metric.inputs:
        return np.zeros(len(calendar), dtype=bool)
    days = calendar.to_numpy(dtype="datetime64[ns]")
    flags = []
    for key, last in zip(metric.inputs, _input_dates(metric, data, calendar), strict=True):
        limit = np.timedelta64(timedelta(days=stale_after(key)))
        flags.append(np.isnat(last) | (days - np.where(np.isnat(last), days, last) > limit))
    stacked = np.vstack(flags)
    return np.asarray(stacked.all(axis=0) if metric.members else stacked.any(axis=0))


def metric_age(metric: MetricDef, data: MarketData, asof: date) -> Age:
    day = one_day(asof)
    rows = []
    for key, last in zip(metric.inputs, _input_dates(metric, data, day), strict=True):
        when = None if np.isnat(last[0]) else pd.Timestamp(last[0]).date()
        stale = when is None or (asof - when).days > stale_after(key)
        rows.append(InputAge(key, when.isoformat() if when else None, stale))
    return Age(asof.isoformat(), tuple(rows), metric.members)
