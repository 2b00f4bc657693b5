"""3-month T-bill against DeFi USDC lending APY, and the spread in basis points.

FRED's DTB3 is a discount rate (on face value, 360-day year), an APY compounds over a
365-day year. Before the two are compared the T-bill rate is converted to the same basis:
the 91-day holding return 1 / (1 - d * 91/360) - 1, compounded to a year (365/91 periods).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import pandas as pd

from services.metrics.common import MetricDef, Point, closes, latest_point, one_value, sources_of
from services.returns import one_day, read_at
from services.series import MarketData

TBILL = "rates.tbill_3m"
DEFI_USDC = "defi.aave_usdc_apy"
BILL_DAYS = 91  # a 3-month bill's term


def discount_to_apy(discount_pct: pd.Series | float) -> pd.Series | float:
    """A T-bill discount rate (percent) as an APY (percent), the basis Aave quotes."""
    holding = 1.0 / (1.0 - discount_pct / 100.0 * BILL_DAYS / 360.0) - 1.0
    return ((1.0 + holding) ** (365.0 / BILL_DAYS) - 1.0) * 100.0


@dataclass(frozen=True)
class YieldsReading:
    asof: str
    tbill_pct: Point | None  # discount basis, as FRED publishes it
    defi_usdc_pct: Point | None
    spread_bp: float | None  # DeFi APY minus the T-bill as an APY
    sources: tuple[str, ...]
    tbill_apy_pct: float | None = None  # the T-bill converted to an APY


def compute_yields(data: MarketData, asof: date) -> YieldsReading:
    tbill = latest_point(data.get(TBILL), asof)
    defi = latest_point(data.get(DEFI_USDC), asof)
    spread = one_value(spread_bp(data, one_day(asof))) if tbill and defi else None
    apy = one_value(tbill_apy(data, one_day(asof)))
    sources = sources_of(data, [TBILL, DEFI_USDC])
    return YieldsReading(asof.isoformat(), tbill, defi, spread, sources, apy)


def tbill_apy(data: MarketData, cal: pd.DatetimeIndex) -> pd.Series:
    return pd.Series(discount_to_apy(read_at(closes(data, TBILL), cal)), index=cal,
                     dtype="float64")


def spread_bp(data: MarketData, cal: pd.DatetimeIndex) -> pd.Series:
    """DeFi USDC lending APY minus the 3-month T-bill as an APY, in basis points."""
    return (read_at(closes(data, DEFI_USDC), cal) - tbill_apy(data, cal)) * 100.0


def _level(key: str, data: MarketData, cal: pd.DatetimeIndex) -> pd.Series:
    return read_at(closes(data, key), cal)


def metric_defs() -> list[MetricDef]:
    return [
        MetricDef("yields.defi_usdc", "%", "Aave USDC lending APY", (DEFI_USDC,),
                  lambda d, cal: _level(DEFI_USDC, d, cal)),
        MetricDef("yields.tbill_3m", "%", "3-month T-bill rate (discount basis, as published)",
                  (TBILL,), lambda d, cal: _level(TBILL, d, cal)),
        MetricDef("yields.tbill_apy", "%", "3-month T-bill as an APY (from the discount rate)",
                  (TBILL,), tbill_apy),
        MetricDef("yields.spread", "bp", "DeFi USDC lending APY minus the T-bill as an APY",
                  (TBILL, DEFI_USDC), spread_bp),
    ]
