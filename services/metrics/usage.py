"""AI-token usage: annualized on-chain fees or revenue against market cap.

A token with fees is "usage-backed"; one the fees source covers with zero fees is
"narrative"; one it does not cover at all is said to be not covered, never guessed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import pandas as pd

from services.catalog import ASSETS
from services.metrics.common import Point, latest_point, sources_of
from services.returns import period_return
from services.series import MarketData
from services.windows import Window

FEE_DAYS = 30
RETURN_WINDOW = Window("days", days=90)


def fees_key(token: str) -> str:
    return f"fees.{token}"


def mcap_key(token: str) -> str:
    return f"mcap.{token}"


@dataclass(frozen=True)
class UsageRow:
    key: str
    name: str
    status: str  # usage-backed | narrative | not covered
    fees_30d_usd: float | None
    annualized_usd: float | None
    market_cap: Point | None
    fee_yield_pct: float | None
    return_90d_pct: float | None


@dataclass(frozen=True)
class UsageReading:
    asof: str
    rows: tuple[UsageRow, ...]
    sources: tuple[str, ...]


def fees_last_days(values: pd.Series, asof: date, days: int) -> float | None:
    """Sum of the daily fees in the `days` days up to asof; None unless they are all known."""
    start = asof - timedelta(days=days - 1)
    if values.empty or values.index[0] > pd.Timestamp(start):
        return None
    window = values.loc[pd.Timestamp(start): pd.Timestamp(asof)]
    return float(window.sum())


def _status(fees: pd.Series, asof: date) -> str:
    """Usage-backed when the token earned any fees in the last 30 days on record."""
    recent = fees.loc[pd.Timestamp(asof - timedelta(days=FEE_DAYS - 1)): pd.Timestamp(asof)]
    return "usage-backed" if float(recent.sum()) > 0 else "narrative"


def usage_row(data: MarketData, token: str, asof: date) -> UsageRow:
    fees = data.get(fees_key(token))
    cap = latest_point(data.get(mcap_key(token)), asof, "token")
    price = data.get(token)
    ret = period_return(price.values, RETURN_WINDOW, asof) if price is not None else None
    total = fees_last_days(fees.values, asof, FEE_DAYS) if fees is not None else None
    annual = total * 365 / FEE_DAYS if total is not None else None
    status = "not covered" if fees is None else _status(fees.values, asof)
    fee_yield = annual / cap.value * 100 if annual is not None and cap and cap.value else None
    return UsageRow(token, ASSETS[token].name, status, total, annual, cap, fee_yield,
                    ret.pct if ret else None)


def compute_usage(data: MarketData, asof: date, tokens: list[str]) -> UsageReading:
    rows = tuple(usage_row(data, t, asof) for t in tokens)
    keys = [k for t in tokens for k in (fees_key(t), mcap_key(t))]
    return UsageReading(asof.isoformat(), rows, sources_of(data, keys))
