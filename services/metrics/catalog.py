"""The metric catalog: every metric id with its causal series, built once from the baskets
(and, in services.engine, the thesis claims) by the composition root and passed to whoever
reads metrics. Adding a metric: a module with its series and `metric_defs`, and one entry in
`base_defs` below.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from datetime import date, timedelta

import pandas as pd

from services.baskets import Baskets
from services.catalog import known_after
from services.metrics import aitokens, assets, btc, capex, divergence, stablecoins, usage, yields
from services.metrics.age import Age, metric_age, stale_mask
from services.metrics.common import MetricDef, closes
from services.returns import daily_calendar
from services.series import MarketData

THESIS_PREFIX = "thesis."


def base_defs(b: Baskets) -> list[MetricDef]:
    """Every metric that is not a thesis claim, its inputs taken from the baskets."""
    return [
        *btc.metric_defs(b.benchmark),
        *divergence.metric_defs(b),
        *stablecoins.metric_defs(),
        *yields.metric_defs(),
        *aitokens.metric_defs(list(b.aitokens), b.min_coverage),
        *usage.metric_defs(list(b.aitokens)),
        *capex.metric_defs(list(b.capex)),
        *assets.metric_defs(),
    ]


# Ids and units do not depend on the baskets: what the rule grammar and config validation
# check names against before the catalog exists. Immutable.
BASE_UNITS: Mapping[str, str] = {m.id: m.unit for m in base_defs(Baskets())}
BASE_IDS = frozenset(BASE_UNITS)


def metric_unit(metric_id: str) -> str:
    if metric_id.startswith(THESIS_PREFIX):
        return "verdict"
    return BASE_UNITS.get(metric_id, "")


class MetricCatalog(Mapping[str, MetricDef]):
    """Metric ids to definitions; read-only once built."""

    def __init__(self, defs: Iterable[MetricDef]) -> None:
        self._defs: dict[str, MetricDef] = {}
        for item in defs:
            if item.id in self._defs:
                raise ValueError(f"metric {item.id!r} defined twice")
            self._defs[item.id] = item

    def __getitem__(self, metric_id: str) -> MetricDef:
        return self._defs[metric_id]

    def __iter__(self) -> Iterator[str]:
        return iter(self._defs)

    def __len__(self) -> int:
        return len(self._defs)

    def inputs(self, metric_ids: Iterable[str]) -> list[str]:
        """The stored series the given metrics read, sorted."""
        return sorted({k for m in metric_ids for k in self._defs[m].inputs})

    def series(self, metric_id: str, data: MarketData, through: date | None = None,
               fresh: bool = False) -> pd.Series:
        """The metric's value on every calendar day from its first input to `through`
        (default: the last input point), NaN-free: what any reader sees at that day. With
        `fresh`, the days on which the value is stale are left out (rules and claims)."""
        metric = self._defs[metric_id]
        lag = max((known_after(k) for k in metric.inputs), default=timedelta(0))
        calendar = daily_calendar([closes(data, k) for k in metric.inputs], through, lag)
        if calendar.empty:
            return pd.Series([], index=calendar, dtype="float64")
        values = metric.fn(data, calendar)
        if fresh:
            values = values.mask(stale_mask(metric, data, calendar))
        return values.dropna().astype("float64")

    def age(self, metric_id: str, data: MarketData, asof: date) -> Age:
        """The metric's inputs at `asof`: their latest dates and which ones are stale."""
        return metric_age(self._defs[metric_id], data, asof)
