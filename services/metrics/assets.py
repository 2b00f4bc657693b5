"""`<asset>.price`, `.drawdown`, `.ytd` and `.since` (return since 2024-01-01) for every
tracked asset (services.catalog.ASSETS)."""

from __future__ import annotations

from functools import partial

import pandas as pd

from services.catalog import ASSETS
from services.metrics.common import MetricDef, closes
from services.returns import drawdown_pct, read_at, window_return
from services.series import MarketData
from services.windows import DEFAULT_SINCE, SINCE_2024, YTD, Window


def _price(key: str, data: MarketData, cal: pd.DatetimeIndex) -> pd.Series:
    return read_at(closes(data, key), cal)


def _drawdown(key: str, data: MarketData, cal: pd.DatetimeIndex) -> pd.Series:
    return drawdown_pct(closes(data, key), cal)


def _return(key: str, window: Window, data: MarketData, cal: pd.DatetimeIndex) -> pd.Series:
    return window_return(closes(data, key), window, cal)


def metric_defs() -> list[MetricDef]:
    defs = []
    for key, asset in ASSETS.items():
        unit = "index" if asset.kind == "index" else asset.currency
        defs += [
            MetricDef(f"{key.lower()}.price", unit, f"{asset.name} close", (key,),
                      partial(_price, key)),
            MetricDef(f"{key.lower()}.drawdown", "%", f"{asset.name} from its all-time high",
                      (key,), partial(_drawdown, key)),
            MetricDef(f"{key.lower()}.since", "%", f"{asset.name} return since {DEFAULT_SINCE}",
                      (key,), partial(_return, key, SINCE_2024)),
        ]
        if key not in ("BTC", "SPX"):  # btc.ytd and spx.ytd are defined with the baskets
            defs.append(MetricDef(f"{key.lower()}.ytd", "%", f"{asset.name} return year to "
                                  "date", (key,), partial(_return, key, YTD)))
    return defs
