"""AI-token sector: per-token return and drawdown, equal-weight index, sector cap when known."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from functools import partial

import pandas as pd

from services.catalog import ASSETS
from services.metrics.common import MetricDef, Point, closes, latest_point, sources_of
from services.returns import (
    EMPTY,
    drawdown,
    drawdown_pct,
    equal_weight_index,
    period_return,
    read_at,
)
from services.series import MarketData, TimeSeries
from services.windows import Window

SECTOR_CAP = "aitokens.sector_cap"


@dataclass(frozen=True)
class TokenRow:
    key: str
    name: str
    price: Point | None
    return_pct: float | None
    drawdown_pct: float | None
    peak_date: str | None


@dataclass(frozen=True)
class AiTokensReading:
    asof: str
    window: str
    window_text: str
    tokens: tuple[TokenRow, ...]
    index_level: float | None
    index_return_pct: float | None
    index_drawdown_pct: float | None
    index_peak_date: str | None
    index_start: str | None
    quoted: int
    sector_cap: Point | None
    sources: tuple[str, ...]


def token_row(series: TimeSeries | None, key: str, window: Window, asof: date) -> TokenRow:
    name = ASSETS[key].name
    price = latest_point(series, asof)
    if series is None or price is None:
        return TokenRow(key, name, None, None, None, None)
    ret = period_return(series.values, window, asof)
    dd = drawdown(series.values, asof)
    return TokenRow(key, name, price, ret.pct if ret else None, dd.pct if dd else None,
                    dd.peak_date.isoformat() if dd else None)


def token_index(data: MarketData, tokens: list[str], asof: pd.Timestamp | date | None = None,
                ) -> pd.Series:
    """The equal-weight AI-token index (100 on its first day) on its members' dates."""
    members = [data[k].values for k in tokens if k in data]
    if not members:
        return EMPTY
    return equal_weight_index(members, asof)


def compute_aitokens(data: MarketData, asof: date, window: Window,
                     tokens: list[str]) -> AiTokensReading:
    rows = tuple(token_row(data.get(k), k, window, asof) for k in tokens)
    index = token_index(data, tokens, asof)
    level = ret = dd = None
    peak = start = None
    if not index.empty:
        level = float(index.iloc[-1])
        start = index.index[0].date().isoformat()
        index_dd = drawdown(index, asof)
        index_ret = period_return(index, window, asof)
        dd = index_dd.pct if index_dd else None
        peak = index_dd.peak_date.isoformat() if index_dd else None
        ret = index_ret.pct if index_ret else None
    quoted = sum(1 for r in rows if r.price is not None and not r.price.stale)
    return AiTokensReading(
        asof=asof.isoformat(), window=window.label, window_text=window.describe(asof),
        tokens=rows, index_level=level, index_return_pct=ret, index_drawdown_pct=dd,
        index_peak_date=peak, index_start=start, quoted=quoted,
        sector_cap=latest_point(data.get(SECTOR_CAP), asof),
        sources=sources_of(data, [*tokens, SECTOR_CAP]),
    )


def _index(tokens: list[str], data: MarketData, cal: pd.DatetimeIndex) -> pd.Series:
    return read_at(token_index(data, tokens), cal)


def _index_drawdown(tokens: list[str], data: MarketData, cal: pd.DatetimeIndex) -> pd.Series:
    return drawdown_pct(token_index(data, tokens), cal)


def _sector_cap_bn(data: MarketData, cal: pd.DatetimeIndex) -> pd.Series:
    return read_at(closes(data, SECTOR_CAP), cal) / 1e9


def metric_defs(tokens: list[str]) -> list[MetricDef]:
    members = tuple(tokens)
    return [
        MetricDef("aitokens.index", "index", "Equal-weight AI-token index (start = 100)",
                  members, partial(_index, tokens), members=True),
        MetricDef("aitokens.drawdown", "%", "AI-token index from its peak", members,
                  partial(_index_drawdown, tokens), members=True),
        MetricDef("aitokens.sector_cap", "USD bn", "AI-token sector market cap (CoinGecko)",
                  (SECTOR_CAP,), _sector_cap_bn),
    ]
