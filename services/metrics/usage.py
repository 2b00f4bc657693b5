"""AI-token usage: annualized on-chain fees or revenue against market cap.

A token with fees is "usage-backed"; one the fees source covers with zero fees is
"narrative"; one it does not cover at all is said to be not covered, never guessed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd

from services.catalog import ASSETS
from services.metrics.common import MetricDef, Point, closes, latest_point, one_value, sources_of
from services.returns import on_or_before, one_day, window_return
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


def fees_frame(fees: pd.Series, cal: pd.DatetimeIndex) -> pd.DataFrame:
    """Per date t: the fees in the 30 days up to t (NaN before the first record) and whether
    the record covers all 30 of them."""
    total = fees.cumsum()
    now = on_or_before(total, cal)[0]
    before = on_or_before(total, cal - pd.Timedelta(days=FEE_DAYS))[0]
    complete = (len(fees) > 0) & (cal - pd.Timedelta(days=FEE_DAYS - 1) >= (
        fees.index[0] if len(fees) else pd.Timestamp.max))
    return pd.DataFrame({"sum": now - np.nan_to_num(before, nan=0.0),
                         "complete": np.asarray(complete, dtype=bool)}, index=cal)


def usage_row(data: MarketData, token: str, asof: date) -> UsageRow:
    fees = data.get(fees_key(token))
    cap = latest_point(data.get(mcap_key(token)), asof)
    ret = one_value(window_return(closes(data, token), RETURN_WINDOW, one_day(asof)))
    total = status = None
    if fees is None:
        status = "not covered"
    else:
        row = fees_frame(fees.values, one_day(asof)).iloc[0]
        recent = 0.0 if np.isnan(row["sum"]) else float(row["sum"])
        status = "usage-backed" if recent > 0 else "narrative"
        total = float(row["sum"]) if row["complete"] else None
    annual = total * 365 / FEE_DAYS if total is not None else None
    fee_yield = annual / cap.value * 100 if annual is not None and cap and cap.value else None
    return UsageRow(token, ASSETS[token].name, status, total, annual, cap, fee_yield, ret)


def usage_edge_90d(data: MarketData, tokens: list[str], cal: pd.DatetimeIndex) -> pd.Series:
    """Mean 90-day return of usage-backed tokens (fees in the last 30 days) minus that of
    narrative ones (covered by the fees source, no fees); NaN unless both groups are there."""
    backed_sum, backed_n = np.zeros(len(cal)), np.zeros(len(cal))
    narrative_sum, narrative_n = np.zeros(len(cal)), np.zeros(len(cal))
    for token in tokens:
        fees, values = closes(data, fees_key(token)), closes(data, token)
        if fees.empty or values.empty:
            continue  # not covered: neither group
        ret = window_return(values, RETURN_WINDOW, cal).to_numpy()
        window = fees_frame(fees, cal)["sum"].to_numpy()
        has = ~np.isnan(ret) & ~np.isnan(window)
        backed, narrative = has & (window > 0), has & (window <= 0)
        backed_sum += np.where(backed, ret, 0.0)
        backed_n += backed
        narrative_sum += np.where(narrative, ret, 0.0)
        narrative_n += narrative
    ok = (backed_n > 0) & (narrative_n > 0)
    edge = np.where(ok, backed_sum / np.maximum(backed_n, 1)
                    - narrative_sum / np.maximum(narrative_n, 1), np.nan)
    return pd.Series(edge, index=cal, dtype="float64")


def compute_usage(data: MarketData, asof: date, tokens: list[str]) -> UsageReading:
    rows = tuple(usage_row(data, t, asof) for t in tokens)
    keys = [k for t in tokens for k in (fees_key(t), mcap_key(t))]
    return UsageReading(asof.isoformat(), rows, sources_of(data, keys))


def metric_defs(tokens: list[str]) -> list[MetricDef]:
    return [MetricDef(
        "aitokens.usage_edge_90d", "pp",
        "Usage-backed AI tokens minus narrative ones, 90-day return",
        tuple(k for t in tokens for k in (t, fees_key(t))),
        lambda d, cal: usage_edge_90d(d, tokens, cal), members=True)]
