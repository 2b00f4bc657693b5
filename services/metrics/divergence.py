"""AI chip and memory stocks vs BTC/ETH: per-asset returns, baskets, spread."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from functools import partial

import numpy as np
import pandas as pd

from services.baskets import Baskets
from services.catalog import ASSETS
from services.metrics.common import MetricDef, closes, lag_is_stale, one_value, sources_of
from services.returns import one_day, period_return, window_return
from services.series import MarketData
from services.windows import DEFAULT_SINCE, SINCE_2024, YTD, Window


@dataclass(frozen=True)
class AssetReturn:
    key: str
    name: str
    pct: float | None
    base_date: str | None
    end_date: str | None
    close: float | None
    currency: str
    source: str
    stale: bool
    missing: str = ""  # why there is no return: "series ended 2026-05-29", "starts 2024-07-26"


@dataclass(frozen=True)
class DivergenceReading:
    window: str
    window_text: str
    asof: str
    ai: tuple[AssetReturn, ...]
    crypto: tuple[AssetReturn, ...]
    benchmark: AssetReturn
    ai_basket_pct: float | None
    crypto_basket_pct: float | None
    spread_pp: float | None
    sources: tuple[str, ...]


def asset_return(data: MarketData, key: str, window: Window, asof: date) -> AssetReturn:
    asset = ASSETS[key]
    series = data.get(key)
    result = period_return(series.values, window, asof) if series is not None else None
    source = series.source if series is not None else "no data"
    if result is None:
        known = series.upto(asof) if series is not None else None
        last = known.last_date if known is not None else None
        stale = lag_is_stale(last, asof, key)
        if last is None:
            why = "no data" if series is None else f"starts {series.first_date}"
        elif stale:
            why = f"series ended {last}"
        else:
            why = f"starts {known.first_date if known else ''}"
        return AssetReturn(key, asset.name, None, None, last.isoformat() if last else None,
                           None, asset.currency, source, stale, why)
    return AssetReturn(
        key, asset.name, result.pct, result.base_date.isoformat(), result.end_date.isoformat(),
        result.end_close, asset.currency, source,
        lag_is_stale(result.end_date, asof, key),
    )


def basket_return(data: MarketData, members: list[str], window: Window,
                  calendar: pd.DatetimeIndex) -> pd.Series:
    """Equal-weight mean of member returns on each date; NaN unless every member has one."""
    if not members:
        return pd.Series(np.nan, index=calendar, dtype="float64")
    parts = [window_return(closes(data, k), window, calendar) for k in members]
    return pd.concat(parts, axis=1).mean(axis=1, skipna=False).astype("float64")


def basket_spread(data: MarketData, b: Baskets, window: Window, calendar: pd.DatetimeIndex,
                  ) -> pd.Series:
    """AI basket minus crypto basket, in percentage points, on each date."""
    return (basket_return(data, b.ai, window, calendar)
            - basket_return(data, b.crypto, window, calendar))


def compute_divergence(
    data: MarketData, asof: date, window: Window, ai: list[str], crypto: list[str],
    benchmark: str,
) -> DivergenceReading:
    ai_rows = tuple(asset_return(data, k, window, asof) for k in ai)
    crypto_rows = tuple(asset_return(data, k, window, asof) for k in crypto)
    day = one_day(asof)
    ai_mean = one_value(basket_return(data, ai, window, day))
    crypto_mean = one_value(basket_return(data, crypto, window, day))
    spread = None if ai_mean is None or crypto_mean is None else ai_mean - crypto_mean
    return DivergenceReading(
        window=window.label,
        window_text=window.describe(asof),
        asof=asof.isoformat(),
        ai=ai_rows,
        crypto=crypto_rows,
        benchmark=asset_return(data, benchmark, window, asof),
        ai_basket_pct=ai_mean,
        crypto_basket_pct=crypto_mean,
        spread_pp=spread,
        sources=sources_of(data, [*ai, *crypto, benchmark]),
    )


def _basket(members: list[str], window: Window, data: MarketData, cal: pd.DatetimeIndex,
            ) -> pd.Series:
    return basket_return(data, members, window, cal)


def _spread(b: Baskets, window: Window, data: MarketData, cal: pd.DatetimeIndex) -> pd.Series:
    return basket_spread(data, b, window, cal)


def metric_defs(b: Baskets) -> list[MetricDef]:
    both = (*b.ai, *b.crypto)
    since = f"since {DEFAULT_SINCE}"
    return [
        MetricDef("divergence.spread.ytd", "pp", "AI basket minus crypto basket, YTD", both,
                  partial(_spread, b, YTD)),
        MetricDef("divergence.spread.since", "pp", f"AI basket minus crypto basket {since}",
                  both, partial(_spread, b, SINCE_2024)),
        MetricDef("ai_basket.ytd", "%", "AI chip and memory basket, YTD", tuple(b.ai),
                  partial(_basket, b.ai, YTD)),
        MetricDef("crypto_basket.ytd", "%", "BTC/ETH basket, YTD", tuple(b.crypto),
                  partial(_basket, b.crypto, YTD)),
        MetricDef("ai_basket.since", "%", f"AI chip and memory basket {since}", tuple(b.ai),
                  partial(_basket, b.ai, SINCE_2024)),
        MetricDef("crypto_basket.since", "%", f"BTC/ETH basket {since}", tuple(b.crypto),
                  partial(_basket, b.crypto, SINCE_2024)),
    ]
