"""A claim's verdict on every date of its history, replayed through the alert evaluator.

Each rule steps through its observations with the same transition function the live
evaluator and the backtest use (`services.alerts.state.step`); the rule holds on a date while
it is firing there. A claim of several rules holds while all of them do, each taken at its
latest data point on or before the date.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from services.alerts.conditions import Observation, observe_all, rule_series
from services.alerts.rules import Rule
from services.alerts.state import AlertState, step
from services.returns import EMPTY, on_or_before, union_calendar
from services.series import MarketData

if TYPE_CHECKING:
    from services.metrics.catalog import MetricCatalog


@dataclass(frozen=True)
class Flip:
    day: date
    holds: bool


def observations(frame: pd.DataFrame) -> list[Observation]:
    """Every row of `observe_all` as the Observation the evaluator sees at that point."""
    before = frame["held_before"].to_numpy()
    return [
        Observation(point=ts.date(), value=float(value), level=float(level), holds=bool(holds),
                    released=bool(released),
                    held_before=None if pd.isna(before[i]) else bool(before[i]))
        for i, (ts, value, level, holds, released) in enumerate(zip(
            frame.index, frame["value"], frame["level"], frame["holds"], frame["released"],
            strict=True))
    ]


def rule_verdicts(rule: Rule, series: pd.Series) -> pd.Series:
    """1.0 on each data point where the rule is firing after replaying history, else 0.0."""
    frame = observe_all(rule, series)
    state: AlertState | None = None
    out = []
    for obs in observations(frame):
        state, _ = step(rule, state, obs, datetime.combine(obs.point, time(), UTC))
        out.append(1.0 if state.status == "firing" else 0.0)
    return pd.Series(out, index=pd.DatetimeIndex(frame.index), dtype="float64")


def claim_verdicts(rules: tuple[Rule, ...], data: MarketData, catalog: MetricCatalog,
                   through: date | None = None) -> pd.Series:
    """The claim's verdict (1.0 holds, 0.0 does not) on the union of its rules' dates, from
    the first date every rule has a verdict."""
    parts = [rule_verdicts(r, rule_series(r, data, catalog, through)) for r in rules]
    if any(p.empty for p in parts):
        return EMPTY
    calendar = union_calendar(parts)
    values = np.vstack([on_or_before(p, calendar)[0] for p in parts])
    known = ~np.isnan(values).any(axis=0)
    combined = np.where(known, np.nanmin(np.where(np.isnan(values), 1.0, values), axis=0),
                        np.nan)
    return pd.Series(combined, index=calendar, dtype="float64").dropna()


def flips(verdicts: pd.Series) -> list[Flip]:
    """The first verdict and every change after it, in date order."""
    if verdicts.empty:
        return []
    changed = verdicts.ne(verdicts.shift(1))
    picked = verdicts[changed]
    return [Flip(ts.date(), bool(v >= 0.5))
            for ts, v in zip(pd.DatetimeIndex(picked.index), picked, strict=True)]
