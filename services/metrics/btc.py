"""Bitcoin: price, drawdown from all-time high, YTD against the S&P 500, ETH alongside."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from functools import partial

import pandas as pd

from services.metrics.common import MetricDef, Point, closes, latest_point, sources_of
from services.returns import drawdown, period_return, window_return
from services.series import MarketData
from services.windows import YTD


@dataclass(frozen=True)
class CoinReading:
    key: str
    price: Point | None
    ath: float | None
    ath_date: str | None
    drawdown_pct: float | None
    ytd_pct: float | None


@dataclass(frozen=True)
class BtcReading:
    asof: str
    btc: CoinReading
    eth: CoinReading
    spx_ytd_pct: float | None
    spx_close: Point | None
    history_start: str | None
    sources: tuple[str, ...]


def coin_reading(data: MarketData, key: str, asof: date) -> CoinReading:
    series = data.get(key)
    if series is None:
        return CoinReading(key, None, None, None, None, None)
    dd = drawdown(series.values, asof)
    ytd = period_return(series.values, YTD, asof)
    return CoinReading(
        key=key,
        price=latest_point(series, asof),
        ath=dd.peak if dd else None,
        ath_date=dd.peak_date.isoformat() if dd else None,
        drawdown_pct=dd.pct if dd else None,
        ytd_pct=ytd.pct if ytd else None,
    )


def compute_btc(data: MarketData, asof: date, benchmark: str = "SPX") -> BtcReading:
    spx = data.get(benchmark)
    spx_ytd = period_return(spx.values, YTD, asof) if spx is not None else None
    btc = data.get("BTC")
    return BtcReading(
        asof=asof.isoformat(),
        btc=coin_reading(data, "BTC", asof),
        eth=coin_reading(data, "ETH", asof),
        spx_ytd_pct=spx_ytd.pct if spx_ytd else None,
        spx_close=latest_point(spx, asof),
        history_start=btc.first_date.isoformat() if btc and btc.first_date else None,
        sources=sources_of(data, ["BTC", "ETH", benchmark]),
    )


def _ytd(key: str, data: MarketData, cal: pd.DatetimeIndex) -> pd.Series:
    return window_return(closes(data, key), YTD, cal)


def metric_defs(benchmark: str) -> list[MetricDef]:
    return [
        MetricDef("btc.ytd", "%", "Bitcoin return year to date", ("BTC",),
                  partial(_ytd, "BTC")),
        MetricDef("spx.ytd", "%", "S&P 500 return year to date", (benchmark,),
                  partial(_ytd, benchmark)),
    ]
