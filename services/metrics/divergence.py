"""AI chip and memory stocks vs BTC/ETH: per-asset returns, baskets, spread."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from services.catalog import ASSETS
from services.metrics.common import lag_is_stale, sources_of
from services.returns import period_return
from services.series import MarketData
from services.windows import Window


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
        last = series.last_date if series is not None else None
        return AssetReturn(key, asset.name, None, None, None, None, asset.currency, source,
                           lag_is_stale(last, asof, asset.kind))
    return AssetReturn(
        key, asset.name, result.pct, result.base_date.isoformat(), result.end_date.isoformat(),
        result.end_close, asset.currency, source,
        lag_is_stale(result.end_date, asof, asset.kind),
    )


def basket_mean(members: tuple[AssetReturn, ...]) -> float | None:
    """Equal-weight mean of member returns; None unless every member has one."""
    values = [m.pct for m in members if m.pct is not None]
    if not values or len(values) != len(members):
        return None
    return sum(values) / len(values)


def compute_divergence(
    data: MarketData, asof: date, window: Window, ai: list[str], crypto: list[str],
    benchmark: str,
) -> DivergenceReading:
    ai_rows = tuple(asset_return(data, k, window, asof) for k in ai)
    crypto_rows = tuple(asset_return(data, k, window, asof) for k in crypto)
    ai_mean, crypto_mean = basket_mean(ai_rows), basket_mean(crypto_rows)
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
