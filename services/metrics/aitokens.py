"""AI-token sector: per-token return and drawdown, robust sector figures with their coverage,
the equal-weight index (withheld below the minimum coverage), sector cap when known."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from functools import partial

import pandas as pd

from services.catalog import ASSETS
from services.metrics import coverage
from services.metrics.common import (
    MetricDef,
    Point,
    closes,
    latest_point,
    one_value,
    sources_of,
)
from services.returns import (
    EMPTY,
    drawdown,
    drawdown_pct,
    equal_weight_index,
    one_day,
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
    quoted: int  # tokens with a close on the as-of date
    sector_cap: Point | None
    sources: tuple[str, ...]
    current: int = 0  # tokens whose latest close is within the staleness limit
    covered: int = 0  # tokens with a close on record (their drawdown is known)
    needed: int = 0  # tokens a sector figure needs (the configured minimum coverage)
    median_drawdown_pct: float | None = None  # the median token's drawdown
    below_half: int | None = None  # tokens more than 50% below their peak
    index_withheld: str = ""  # why the index is not shown, when it is not


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
                     tokens: list[str], min_coverage: float = 0.5) -> AiTokensReading:
    rows = tuple(token_row(data.get(k), k, window, asof) for k in tokens)
    index = token_index(data, tokens, asof)
    level = ret = dd = None
    peak = start = None
    day = one_day(asof)
    current = int(coverage.current_tokens(data, tokens, day).sum(axis=1).iloc[0])
    need = coverage.needed(tokens, min_coverage)
    withheld = ""
    if not bool(coverage.index_allowed(data, tokens, min_coverage, day).iloc[0]):
        withheld = (f"index withheld: only {current} of {len(tokens)} tokens have a current "
                    f"close (at least {need} needed)")
    if not index.empty:
        start = index.index[0].date().isoformat()
    if not index.empty and not withheld:
        level = float(index.iloc[-1])
        index_dd = drawdown(index, asof)
        index_ret = period_return(index, window, asof)
        dd = index_dd.pct if index_dd else None
        peak = index_dd.peak_date.isoformat() if index_dd else None
        ret = index_ret.pct if index_ret else None
    quoted = sum(1 for r in rows if r.price is not None and r.price.day == asof.isoformat())
    below = one_value(coverage.below_half(data, tokens, min_coverage, day))
    return AiTokensReading(
        asof=asof.isoformat(), window=window.label, window_text=window.describe(asof),
        tokens=rows, index_level=level, index_return_pct=ret, index_drawdown_pct=dd,
        index_peak_date=peak, index_start=start, quoted=quoted,
        sector_cap=latest_point(data.get(SECTOR_CAP), asof),
        sources=sources_of(data, [*tokens, SECTOR_CAP]),
        current=current, covered=sum(1 for r in rows if r.drawdown_pct is not None),
        needed=need,
        median_drawdown_pct=one_value(coverage.median_drawdown(data, tokens, min_coverage,
                                                               day)),
        below_half=None if below is None else int(below), index_withheld=withheld,
    )


def _index(tokens: list[str], min_coverage: float, data: MarketData, cal: pd.DatetimeIndex,
           ) -> pd.Series:
    allowed = coverage.index_allowed(data, tokens, min_coverage, cal)
    return read_at(token_index(data, tokens), cal).where(allowed)


def _index_drawdown(tokens: list[str], min_coverage: float, data: MarketData,
                    cal: pd.DatetimeIndex) -> pd.Series:
    allowed = coverage.index_allowed(data, tokens, min_coverage, cal)
    return drawdown_pct(token_index(data, tokens), cal).where(allowed)


def _sector_cap_bn(data: MarketData, cal: pd.DatetimeIndex) -> pd.Series:
    return read_at(closes(data, SECTOR_CAP), cal) / 1e9


def metric_defs(tokens: list[str], min_coverage: float) -> list[MetricDef]:
    members = tuple(tokens)
    return [
        MetricDef("aitokens.median_drawdown", "%",
                  "The median AI token's drawdown from its peak close", members,
                  lambda d, cal: coverage.median_drawdown(d, tokens, min_coverage, cal),
                  members=True),
        MetricDef("aitokens.below_half", "tokens",
                  "AI tokens more than 50% below their peak close", members,
                  lambda d, cal: coverage.below_half(d, tokens, min_coverage, cal),
                  members=True),
        MetricDef("aitokens.index", "index", "Equal-weight AI-token index (start = 100)",
                  members, partial(_index, tokens, min_coverage), members=True),
        MetricDef("aitokens.drawdown", "%", "AI-token index from its peak", members,
                  partial(_index_drawdown, tokens, min_coverage), members=True),
        MetricDef("aitokens.sector_cap", "USD bn", "AI-token sector market cap (CoinGecko)",
                  (SECTOR_CAP,), _sector_cap_bn),
    ]
