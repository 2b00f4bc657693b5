"""3-month T-bill against DeFi USDC lending APY, and the spread in basis points."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from services.metrics.common import Point, latest_point, sources_of
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
    tbill = latest_point(data.get(TBILL), asof, "rates")
    defi = latest_point(data.get(DEFI_USDC), asof, "defi")
    spread = (defi.value - tbill.value) * 100.0 if tbill and defi else None
    sources = sources_of(data, [TBILL, DEFI_USDC])
    return YieldsReading(asof.isoformat(), tbill, defi, spread, sources)
