"""Alert metric ids: each one a vectorized, causal series computed like the metric engine.

Every value at date t uses only data on or before t, so the last value of a series cut at
`asof` equals the reading the metric engine computes for `asof` (see DESIGN.md conventions).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date
from functools import partial

import numpy as np
import pandas as pd

from services.alerts.lookup import EMPTY, closes, on_or_before
from services.alerts.sector_metrics import capex_to_sector_cap, usage_edge_90d
from services.baskets import Baskets
from services.catalog import ASSETS
from services.metrics.aitokens import SECTOR_CAP
from services.metrics.capex import capex_key
from services.metrics.usage import fees_key
from services.metrics.yields import DEFI_USDC, TBILL
from services.returns import equal_weight_index
from services.series import MarketData
from services.windows import DEFAULT_SINCE

MetricFn = Callable[[MarketData, Baskets], pd.Series]
Inputs = Callable[[Baskets], list[str]]


@dataclass(frozen=True)
class MetricDef:
    id: str
    unit: str  # "%", "pp", "bp", "USD bn", "index", or a price currency such as "USD"
    description: str
    inputs: Inputs
    fn: MetricFn


def window_return(values: pd.Series, calendar: pd.DatetimeIndex, bases: pd.DatetimeIndex,
                  ) -> pd.Series:
    """Percent return from the close on or before each base to the close on or before each
    calendar date; NaN where the base is missing, zero or not earlier than the end close."""
    end, end_dates = on_or_before(values, calendar)
    base, base_dates = on_or_before(values, bases)
    ok = (base_dates < end_dates) & (base != 0)
    pct = np.where(ok, (end / np.where(ok, base, 1.0) - 1.0) * 100.0, np.nan)
    return pd.Series(pct, index=calendar, dtype="float64")


def ytd_pct(values: pd.Series, calendar: pd.DatetimeIndex | None = None) -> pd.Series:
    """Base: last close of the previous year (strictly before Jan 1 of each date's year)."""
    cal = pd.DatetimeIndex(values.index if calendar is None else calendar)
    bases = cal.to_period("Y").to_timestamp() - pd.Timedelta(days=1)
    return window_return(values, cal, bases)


def since_pct(values: pd.Series, start: date, calendar: pd.DatetimeIndex | None = None,
              ) -> pd.Series:
    cal = pd.DatetimeIndex(values.index if calendar is None else calendar)
    base = pd.Timestamp(start) - pd.Timedelta(days=1)
    return window_return(values, cal, pd.DatetimeIndex([base] * len(cal)))


def change_pct(values: pd.Series, days: int) -> pd.Series:
    """Percent change from the value on or before t - days (DESIGN: 30d window)."""
    cal = pd.DatetimeIndex(values.index)
    return window_return(values, cal, cal - pd.Timedelta(days=days))


def drawdown_pct(values: pd.Series) -> pd.Series:
    return (values / values.cummax() - 1.0) * 100.0


def union_calendar(series: list[pd.Series]) -> pd.DatetimeIndex:
    index = pd.DatetimeIndex([])
    for s in series:
        index = index.union(pd.DatetimeIndex(s.index))
    return index


def basket_ytd(data: MarketData, members: list[str], start: date | None = None) -> pd.Series:
    """Equal-weight mean of member returns on a common calendar; NaN unless all have one."""
    values = [closes(data, k) for k in members]
    calendar = union_calendar(values)
    if calendar.empty:
        return EMPTY
    parts = [ytd_pct(v, calendar) if start is None else since_pct(v, start, calendar)
             for v in values]
    return pd.concat(parts, axis=1).mean(axis=1, skipna=False)


def yields_spread_bp(data: MarketData) -> pd.Series:
    tbill, defi = closes(data, TBILL), closes(data, DEFI_USDC)
    calendar = union_calendar([tbill, defi])
    spread = (on_or_before(defi, calendar)[0] - on_or_before(tbill, calendar)[0]) * 100.0
    return pd.Series(spread, index=calendar, dtype="float64")


def aitokens_index(data: MarketData, b: Baskets) -> pd.Series:
    members = [closes(data, k) for k in b.aitokens if k in data]
    if not members:
        return EMPTY
    last = max(pd.Timestamp(m.index[-1]) for m in members if len(m))
    return equal_weight_index(members, last.date())


def _spread(data: MarketData, b: Baskets, start: date | None) -> pd.Series:
    return basket_ytd(data, b.ai, start) - basket_ytd(data, b.crypto, start)


def _only(key: str, _b: Baskets) -> list[str]:
    return [key]


def _price(key: str, data: MarketData, _b: Baskets) -> pd.Series:
    return closes(data, key)


def _drawdown(key: str, data: MarketData, _b: Baskets) -> pd.Series:
    return drawdown_pct(closes(data, key))


def _asset_defs() -> list[MetricDef]:
    defs = []
    for key, asset in ASSETS.items():
        unit = "index" if asset.kind == "index" else asset.currency
        defs += [
            MetricDef(f"{key.lower()}.price", unit, f"{asset.name} close",
                      partial(_only, key), partial(_price, key)),
            MetricDef(f"{key.lower()}.drawdown", "%", f"{asset.name} from its all-time high",
                      partial(_only, key), partial(_drawdown, key)),
        ]
    return defs


def _crypto_inputs(b: Baskets) -> list[str]:
    return [*b.ai, *b.crypto]


DEFS: tuple[MetricDef, ...] = (
    MetricDef("btc.ytd", "%", "Bitcoin return year to date", lambda _b: ["BTC"],
              lambda d, _b: ytd_pct(closes(d, "BTC"))),
    MetricDef("spx.ytd", "%", "S&P 500 return year to date", lambda b: [b.benchmark],
              lambda d, b: ytd_pct(closes(d, b.benchmark))),
    MetricDef("divergence.spread.ytd", "pp", "AI basket minus crypto basket, YTD",
              _crypto_inputs, lambda d, b: _spread(d, b, None)),
    MetricDef("divergence.spread.since", "pp",
              f"AI basket minus crypto basket since {DEFAULT_SINCE}", _crypto_inputs,
              lambda d, b: _spread(d, b, DEFAULT_SINCE)),
    MetricDef("ai_basket.ytd", "%", "AI chip and memory basket, YTD", lambda b: list(b.ai),
              lambda d, b: basket_ytd(d, b.ai)),
    MetricDef("crypto_basket.ytd", "%", "BTC/ETH basket, YTD", lambda b: list(b.crypto),
              lambda d, b: basket_ytd(d, b.crypto)),
    MetricDef("ai_basket.since", "%", f"AI chip and memory basket since {DEFAULT_SINCE}",
              lambda b: list(b.ai), lambda d, b: basket_ytd(d, b.ai, DEFAULT_SINCE)),
    MetricDef("crypto_basket.since", "%", f"BTC/ETH basket since {DEFAULT_SINCE}",
              lambda b: list(b.crypto), lambda d, b: basket_ytd(d, b.crypto, DEFAULT_SINCE)),
    MetricDef("stablecoins.supply", "USD bn", "Total stablecoin supply",
              lambda _b: ["stablecoins.total"],
              lambda d, _b: closes(d, "stablecoins.total") / 1e9),
    MetricDef("stablecoins.change_30d", "%", "Stablecoin supply change over 30 days",
              lambda _b: ["stablecoins.total"],
              lambda d, _b: change_pct(closes(d, "stablecoins.total"), 30)),
    MetricDef("stablecoins.drawdown", "%", "Stablecoin supply from its all-time high",
              lambda _b: ["stablecoins.total"],
              lambda d, _b: drawdown_pct(closes(d, "stablecoins.total"))),
    MetricDef("yields.defi_usdc", "%", "Aave USDC lending APY", lambda _b: [DEFI_USDC],
              lambda d, _b: closes(d, DEFI_USDC)),
    MetricDef("yields.tbill_3m", "%", "3-month T-bill rate", lambda _b: [TBILL],
              lambda d, _b: closes(d, TBILL)),
    MetricDef("yields.spread", "bp", "DeFi USDC lending APY minus the T-bill rate",
              lambda _b: [TBILL, DEFI_USDC], lambda d, _b: yields_spread_bp(d)),
    MetricDef("aitokens.index", "index", "Equal-weight AI-token index (start = 100)",
              lambda b: list(b.aitokens), aitokens_index),
    MetricDef("aitokens.drawdown", "%", "AI-token index from its peak",
              lambda b: list(b.aitokens), lambda d, b: drawdown_pct(aitokens_index(d, b))),
    MetricDef("aitokens.sector_cap", "USD bn", "AI-token sector market cap (CoinGecko)",
              lambda _b: [SECTOR_CAP], lambda d, _b: closes(d, SECTOR_CAP) / 1e9),
    MetricDef("aitokens.usage_edge_90d", "pp",
              "Usage-backed AI tokens minus narrative ones, 90-day return",
              lambda b: [k for t in b.aitokens for k in (t, fees_key(t))],
              lambda d, b: usage_edge_90d(d, list(b.aitokens))),
    MetricDef("capex.to_sector_cap", "x",
              "One quarter of hyperscaler capex over the AI-token sector market cap",
              lambda b: [*(capex_key(t) for t in b.capex), SECTOR_CAP],
              lambda d, b: capex_to_sector_cap(d, list(b.capex))),
)
METRICS: dict[str, MetricDef] = {m.id: m for m in (*DEFS, *_asset_defs())}


def replace_group(prefix: str, defs: Iterable[MetricDef]) -> None:
    """Swap every metric id starting with `prefix` for `defs` (the thesis claims of the
    loaded config.yaml register themselves as `thesis.<n>` this way)."""
    for metric_id in [m for m in METRICS if m.startswith(prefix)]:
        del METRICS[metric_id]
    for item in defs:
        if not item.id.startswith(prefix):
            raise ValueError(f"metric {item.id!r} is outside group {prefix!r}")
        METRICS[item.id] = item


def metric_series(metric_id: str, data: MarketData, baskets: Baskets) -> pd.Series:
    """The metric's value per date, NaN-free and sorted."""
    return METRICS[metric_id].fn(data, baskets).dropna().astype("float64")
