"""3-month T-bill against DeFi USDC lending APY, and the spread in basis points."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import pandas as pd

from services.metrics.common import MetricDef, Point, closes, latest_point, one_value, sources_of
from services.returns import one_day, read_at
from services.series import MarketData

TBILL = "rates.tbill_3m"
DEFI_USDC = "defi.aave_usdc_apy"


@dataclass(frozen=True)
class YieldsReading:
    asof: str
    tbill_pct: Point | None
    defi_usdc_pct: Point | None
    spread_bp: float | None
    sources: tuple[str, ...]


def compute_yields(data: MarketData, asof: date) -> YieldsReading:
    tbill = latest_point(data.get(TBILL), asof)
    defi = latest_point(data.get(DEFI_USDC), asof)
    spread = one_value(spread_bp(data, one_day(asof))) if tbill and defi else None
    sources = sources_of(data, [TBILL, DEFI_USDC])
    return YieldsReading(asof.isoformat(), tbill, defi, spread, sources)


def spread_bp(data: MarketData, cal: pd.DatetimeIndex) -> pd.Series:
    """DeFi USDC lending APY minus the 3-month T-bill rate, in basis points."""
    return (read_at(closes(data, DEFI_USDC), cal) - read_at(closes(data, TBILL), cal)) * 100.0


def _level(key: str, data: MarketData, cal: pd.DatetimeIndex) -> pd.Series:
    return read_at(closes(data, key), cal)


def metric_defs() -> list[MetricDef]:
    return [
        MetricDef("yields.defi_usdc", "%", "Aave USDC lending APY", (DEFI_USDC,),
                  lambda d, cal: _level(DEFI_USDC, d, cal)),
        MetricDef("yields.tbill_3m", "%", "3-month T-bill rate", (TBILL,),
                  lambda d, cal: _level(TBILL, d, cal)),
        MetricDef("yields.spread", "bp", "DeFi USDC lending APY minus the T-bill rate",
                  (TBILL, DEFI_USDC), spread_bp),
    ]
