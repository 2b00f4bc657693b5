"""Point lookups shared by the vectorized alert metrics: a series' closes, and the last value
on or before each of many dates."""

from __future__ import annotations

import numpy as np
import pandas as pd

from services.series import MarketData

EMPTY = pd.Series([], index=pd.DatetimeIndex([]), dtype="float64")


def closes(data: MarketData, key: str) -> pd.Series:
    ts = data.get(key)
    return EMPTY if ts is None else ts.values


def on_or_before(values: pd.Series, when: pd.DatetimeIndex) -> tuple[np.ndarray, np.ndarray]:
    """(value, date) of the last point on or before each timestamp; NaN/NaT when none."""
    pos = values.index.searchsorted(when, side="right") - 1
    found = pos >= 0
    safe = pos.clip(0)
    vals = np.where(found, values.to_numpy()[safe] if len(values) else np.nan, np.nan)
    dates = np.where(found, values.index.to_numpy()[safe] if len(values) else np.nan,
                     np.datetime64("NaT"))
    return vals.astype("float64"), dates.astype("datetime64[ns]")
