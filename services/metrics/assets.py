"""`<asset>.price` and `<asset>.drawdown` for every tracked asset (services.catalog.ASSETS)."""

from __future__ import annotations

from functools import partial

import pandas as pd

from services.catalog import ASSETS
from services.metrics.common import MetricDef, closes
from services.returns import drawdown_pct, read_at
from services.series import MarketData


def _price(key: str, data: MarketData, cal: pd.DatetimeIndex) -> pd.Series:
    return read_at(closes(data, key), cal)


def _drawdown(key: str, data: MarketData, cal: pd.DatetimeIndex) -> pd.Series:
    return drawdown_pct(closes(data, key), cal)


def metric_defs() -> list[MetricDef]:
    defs = []
    for key, asset in ASSETS.items():
        unit = "index" if asset.kind == "index" else asset.currency
        defs += [
            MetricDef(f"{key.lower()}.price", unit, f"{asset.name} close", (key,),
                      partial(_price, key)),
            MetricDef(f"{key.lower()}.drawdown", "%", f"{asset.name} from its all-time high",
                      (key,), partial(_drawdown, key)),
        ]
    return defs
