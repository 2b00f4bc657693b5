"""`thesis.<n>`: each enabled claim as an alert metric, 1 while it holds and 0 while not, so
`/alert add thesis.3 crosses_below 1` tells a chat when claim 3 stops holding."""

from __future__ import annotations

from functools import partial

import pandas as pd

from services.metrics.catalog import MetricCatalog
from services.metrics.common import MetricDef
from services.returns import read_at
from services.series import MarketData
from services.thesis.config import Claim
from services.thesis.verdicts import claim_verdicts


def _verdicts(claim: Claim, base: MetricCatalog, data: MarketData, cal: pd.DatetimeIndex,
              ) -> pd.Series:
    verdicts = claim_verdicts(claim.rules(), data, base, cal[-1].date() if len(cal) else None)
    return read_at(verdicts, cal)


def claim_metric(claim: Claim, base: MetricCatalog) -> MetricDef:
    """The claim's verdict series over the base catalog's metrics."""
    ids = [m for r in claim.rules() for m in r.metrics]
    return MetricDef(claim.metric_id, "verdict", f"1 while claim {claim.n} holds, else 0: "
                     f"{claim.title}", tuple(base.inputs(ids)), partial(_verdicts, claim, base))
