"""What a rule observes at each data point: the measured value, whether the condition holds,
and whether the value has come back far enough (hysteresis) to re-arm the rule.

Computed for a whole series at once; every row uses only data on or before its date, so the
last row of a series cut at `now` is the observation at `now` (live, backtest alike).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from services.alerts.rules import CHANGE, RANGE, Rule
from services.returns import on_or_before, union_calendar
from services.series import MarketData

if TYPE_CHECKING:
    from services.metrics.catalog import MetricCatalog

# Conditions that need the value seen on the other side before they can fire; the rest
# are levels and fire on the first evaluation that finds them true.
CROSSING = ("crosses_above", "crosses_below", *RANGE)


@dataclass(frozen=True)
class Observation:
    point: date  # date of the data point observed
    value: float  # the measured quantity (percent change for change_*)
    level: float  # the metric (or spread) value itself
    holds: bool
    released: bool  # condition false by at least the hysteresis
    held_before: bool | None  # at the previous point; None when there is none
    held_since: date | None = None  # first point of the current run of holds
    prev_point: date | None = None  # the data point before this one
    stale_since: str | None = None  # set when an input is stale now: the rule is frozen


def rule_series(rule: Rule, data: MarketData, catalog: MetricCatalog,
                through: date | None = None) -> pd.Series:
    """The rule's subject: one metric, or spread(a, b) = a - b on a common calendar; days on
    which a metric is stale are left out, so a rule never moves on stale data."""
    first = catalog.series(rule.metric, data, through, fresh=True)
    if not rule.other:
        return first
    second = catalog.series(rule.other, data, through, fresh=True)
    calendar = union_calendar([first, second])
    spread = on_or_before(first, calendar)[0] - on_or_before(second, calendar)[0]
    return pd.Series(spread, index=calendar, dtype="float64").dropna()


def observe_all(rule: Rule, series: pd.Series) -> pd.DataFrame:
    """One row per data point: value, level, holds, released, held_before."""
    level = series.dropna().astype("float64")
    value = level
    v, h = rule.value, rule.hysteresis
    cond = rule.condition
    if cond in CHANGE:
        cal = pd.DatetimeIndex(level.index)
        base, base_dates = on_or_before(level, cal - pd.Timedelta(rule.window))
        ok = (base_dates < cal.to_numpy()) & (base != 0)
        value = pd.Series(np.where(ok, (level.to_numpy() / np.where(ok, base, 1.0) - 1) * 100,
                                   np.nan), index=cal).dropna()
        level = level.loc[value.index]
    if cond in ("above", "crosses_above"):
        holds, released = value > v, value <= v - h
    elif cond in ("below", "crosses_below"):
        holds, released = value < v, value >= v + h
    elif cond == "change_up":
        holds, released = value >= v, value < v - h
    elif cond == "change_down":
        holds, released = value <= -v, value > -v + h
    elif cond == "new_ath":
        prior = value.cummax().shift(1)
        holds, released = value >= prior, value < value.cummax() - h  # needs history
    elif cond == "enters":
        holds = (value >= v) & (value <= rule.upper)
        released = (value < v - h) | (value > rule.upper + h)
    else:  # exits
        holds = (value < v) | (value > rule.upper)
        released = (value >= v + h) & (value <= rule.upper - h)
    runs = (holds != holds.shift(1)).cumsum()
    dates = pd.Series(holds.index, index=holds.index)
    held_since = dates.groupby(runs).transform("first").where(holds)
    return pd.DataFrame({"value": value, "level": level, "holds": holds,
                         "released": released, "held_before": holds.shift(1),
                         "held_since": held_since, "prev_point": dates.shift(1)})


def observation(frame: pd.DataFrame, row: int = -1) -> Observation | None:
    if frame.empty:
        return None
    at = frame.iloc[row]
    before = at["held_before"]
    return Observation(
        point=pd.Timestamp(frame.index[row]).date(), value=float(at["value"]),
        level=float(at["level"]), holds=bool(at["holds"]), released=bool(at["released"]),
        held_before=None if pd.isna(before) else bool(before),
        held_since=_day(at["held_since"]), prev_point=_day(at["prev_point"]),
    )


def _day(value: Any) -> date | None:
    return None if value is None or pd.isna(value) else pd.Timestamp(value).date()
