"""The AI-token sector's coverage and robust figures, per calendar day.

A token that stops being quoted must not change the sector's story, so beside the
equal-weight index (chain-linked over the tokens quoted each day) the sector is described by
each token's own drawdown at its latest close: the median and how many are more than half
below their peak. Every figure states how many tokens it covers; a figure whose coverage
is below the configured minimum share of the basket is withheld (NaN), not computed.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from services.catalog import stale_after
from services.metrics.common import closes
from services.returns import drawdown_pct, on_or_before
from services.series import MarketData

HALF_BELOW = -50.0  # "more than 50% below its peak", in percent


def needed(tokens: list[str], min_coverage: float) -> int:
    """How many of the basket's tokens a sector figure needs."""
    return max(1, math.ceil(len(tokens) * min_coverage - 1e-9))


def token_drawdowns(data: MarketData, tokens: list[str], cal: pd.DatetimeIndex
                    ) -> pd.DataFrame:
    """Each token's drawdown at its latest close on or before each day (NaN before its
    first close)."""
    return pd.DataFrame({t: drawdown_pct(closes(data, t), cal).to_numpy() for t in tokens},
                        index=cal, dtype="float64")


def current_tokens(data: MarketData, tokens: list[str], cal: pd.DatetimeIndex
                   ) -> pd.DataFrame:
    """True where a token's latest close is within its staleness limit of the day."""
    days = cal.to_numpy(dtype="datetime64[ns]")
    out = {}
    for t in tokens:
        last = on_or_before(closes(data, t), cal)[1]
        limit = np.timedelta64(stale_after(t), "D")
        out[t] = ~np.isnat(last) & (days - np.where(np.isnat(last), days, last) <= limit)
    return pd.DataFrame(out, index=cal, dtype=bool)


def median_drawdown(data: MarketData, tokens: list[str], min_coverage: float,
                    cal: pd.DatetimeIndex) -> pd.Series:
    dds = token_drawdowns(data, tokens, cal)
    enough = dds.notna().sum(axis=1) >= needed(tokens, min_coverage)
    return dds.median(axis=1, skipna=True).where(enough).astype("float64")


def below_half(data: MarketData, tokens: list[str], min_coverage: float,
               cal: pd.DatetimeIndex) -> pd.Series:
    """How many tokens are more than 50% below their peak close."""
    dds = token_drawdowns(data, tokens, cal)
    enough = dds.notna().sum(axis=1) >= needed(tokens, min_coverage)
    return (dds < HALF_BELOW).sum(axis=1).astype("float64").where(enough)


def index_allowed(data: MarketData, tokens: list[str], min_coverage: float,
                  cal: pd.DatetimeIndex) -> pd.Series:
    """True where enough tokens are current for the equal-weight index to speak for the
    sector."""
    count = current_tokens(data, tokens, cal).sum(axis=1)
    return (count >= needed(tokens, min_coverage)).astype(bool)
