"""Figures the articles behind the thesis published, checked against the data.

Each claim may list them in config.yaml (`published:`): the metric they are about, the date,
the value (in the metric's unit), what was said, the source and a tolerance. At the as-of
date each is shown beside the data's value on its date: agree, disagree (with the nearest
date on which the data did reach the figure) or no data when no source has it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field

AGREES, DISAGREES, NO_DATA, LATER = "agrees", "disagrees", "no data", "published later"


class Published(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    metric: str  # a metric id (/alert metrics) whose value the figure states
    date: date
    value: float  # in the metric's unit: 987 for "+987%", 30.6 for "$30.6B"
    what: str = Field(min_length=1, max_length=120)
    source: str = Field(min_length=1, max_length=120)
    tolerance: float = Field(0.0, ge=0)  # how far the data may be and still agree
    relation: str = Field("about", pattern="^(about|below|above)$")

    def matches(self, values: np.ndarray) -> np.ndarray:
        if self.relation == "below":
            return np.asarray(values < self.value)
        if self.relation == "above":
            return np.asarray(values > self.value)
        return np.asarray(np.abs(values - self.value) <= self.tolerance + 1e-9)


@dataclass(frozen=True)
class PublishedCheck:
    figure: Published
    verdict: str  # agrees | disagrees | no data | published later
    data_value: float | None  # the metric on the figure's date
    nearest: str | None  # where it disagrees: the nearest date the data reached the figure


def check(figure: Published, series: pd.Series, asof: date) -> PublishedCheck:
    """`series`: the metric on every calendar day up to `asof` (NaN-free)."""
    if figure.date > asof:
        return PublishedCheck(figure, LATER, None, None)
    at = pd.Timestamp(figure.date)
    if at not in series.index:
        return PublishedCheck(figure, NO_DATA, None, None)
    value = float(series.loc[at])
    if bool(figure.matches(np.array([value]))[0]):
        return PublishedCheck(figure, AGREES, value, None)
    hits = pd.DatetimeIndex(series.index[figure.matches(series.to_numpy())])
    nearest = None
    if len(hits):
        gaps = np.abs((hits - at).days.to_numpy())
        nearest = pd.Timestamp(hits[int(gaps.argmin())]).date().isoformat()
    return PublishedCheck(figure, DISAGREES, value, nearest)
