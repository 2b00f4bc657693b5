"""`thesis.<n>`: each enabled claim as an alert metric, 1 while it holds and 0 while not, so
`/alert add thesis.3 crosses_below 1` tells a chat when claim 3 stops holding."""

from __future__ import annotations

from functools import partial

import pandas as pd

from services.alerts.metrics import METRICS, MetricDef, replace_group
from services.baskets import Baskets
from services.series import MarketData
from services.thesis.config import PREFIX, Claim, ThesisConfig
from services.thesis.verdicts import claim_verdicts


def _inputs(claim: Claim, baskets: Baskets) -> list[str]:
    return sorted({k for r in claim.rules() for m in r.metrics
                   for k in METRICS[m].inputs(baskets)})


def _verdicts(claim: Claim, data: MarketData, baskets: Baskets) -> pd.Series:
    return claim_verdicts(claim.rules(), data, baskets)


def claim_metric(claim: Claim) -> MetricDef:
    return MetricDef(claim.metric_id, "verdict", f"1 while claim {claim.n} holds, else 0: "
                     f"{claim.title}",
                     partial(_inputs, claim), partial(_verdicts, claim))


def install(config: ThesisConfig) -> ThesisConfig:
    """Make `thesis.<n>` of every enabled claim an alert metric (replacing earlier ones)."""
    replace_group(PREFIX, [claim_metric(c) for c in config.enabled()])
    return config
