"""Small builders shared by tests."""

from __future__ import annotations

from datetime import date

import pandas as pd

from services.series import TimeSeries


def series(key: str, points: dict[str, float], source: str = "test") -> TimeSeries:
    values = pd.Series(list(points.values()), index=pd.DatetimeIndex(list(points)))
    return TimeSeries.build(key, values, source)


def d(text: str) -> date:
    return date.fromisoformat(text)
