"""Stablecoin supply: total, USDT, USDC, 7/30/90-day change, all-time high, net issuance."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import pandas as pd

from services.metrics.common import MetricDef, Point, closes, latest_point, sources_of
from services.returns import (
    change_frame,
    change_over,
    close_before,
    drawdown,
    drawdown_pct,
    is_new_high,
    read_at,
)
from services.series import MarketData, TimeSeries

CHANGE_DAYS = (7, 30, 90)
SUPPLY_KEYS = ("stablecoins.total", "stablecoins.usdt", "stablecoins.usdc")
TBILLS = "stablecoins.tbills"
TOTAL = SUPPLY_KEYS[0]


@dataclass(frozen=True)
class Change:
    days: int
    abs_usd: float
    pct: float


@dataclass(frozen=True)
class SupplyReading:
    key: str
    latest: Point | None
    changes: tuple[Change, ...]
    ath_usd: float | None
    ath_date: str | None
    at_ath: bool
    from_ath_pct: float | None
    net_issuance_usd: float | None


@dataclass(frozen=True)
class StablecoinReading:
    asof: str
    total: SupplyReading
    usdt: SupplyReading
    usdc: SupplyReading
    sources: tuple[str, ...]
    tbills: Point | None = None  # tokenized T-bills DefiLlama lists as stablecoins
    tbill_share_pct: float | None = None


def supply_reading(series: TimeSeries | None, key: str, asof: date) -> SupplyReading:
    latest = latest_point(series, asof)
    if series is None or latest is None:
        return SupplyReading(key, None, (), None, None, False, None, None)
    values = series.values
    changes = []
    for days in CHANGE_DAYS:
        change = change_over(values, days, asof)
        if change is not None:
            changes.append(Change(days, change[0], change[1]))
    dd = drawdown(values, asof)
    prev = close_before(values, date.fromisoformat(latest.day))
    return SupplyReading(
        key=key,
        latest=latest,
        changes=tuple(changes),
        ath_usd=dd.peak if dd else None,
        ath_date=dd.peak_date.isoformat() if dd else None,
        at_ath=is_new_high(values, asof),
        from_ath_pct=dd.pct if dd else None,
        net_issuance_usd=latest.value - prev[1] if prev else None,
    )


def compute_stablecoins(data: MarketData, asof: date) -> StablecoinReading:
    total, usdt, usdc = (supply_reading(data.get(k), k, asof) for k in SUPPLY_KEYS)
    tbills = latest_point(data.get(TBILLS), asof)
    share = None
    if tbills and total.latest and total.latest.value:
        share = tbills.value / total.latest.value * 100
    return StablecoinReading(asof.isoformat(), total, usdt, usdc,
                             sources_of(data, [*SUPPLY_KEYS, TBILLS]), tbills, share)


def _supply_bn(data: MarketData, cal: pd.DatetimeIndex) -> pd.Series:
    return read_at(closes(data, TOTAL), cal) / 1e9


def _change_30d(data: MarketData, cal: pd.DatetimeIndex) -> pd.Series:
    return change_frame(closes(data, TOTAL), 30, cal)["pct"].astype("float64")


def _drawdown(data: MarketData, cal: pd.DatetimeIndex) -> pd.Series:
    return drawdown_pct(closes(data, TOTAL), cal)


def metric_defs() -> list[MetricDef]:
    return [
        MetricDef("stablecoins.supply", "USD bn", "Total stablecoin supply", (TOTAL,),
                  _supply_bn),
        MetricDef("stablecoins.change_30d", "%", "Stablecoin supply change over 30 days",
                  (TOTAL,), _change_30d),
        MetricDef("stablecoins.drawdown", "%", "Stablecoin supply from its all-time high",
                  (TOTAL,), _drawdown),
    ]
