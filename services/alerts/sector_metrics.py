"""Vectorized sector series for alert rules and the thesis: capex against the AI-token sector
cap, and usage-backed against narrative AI tokens over 90 days.

Each value at date t uses only what was known on t, as the metric engine does at as-of t:
a capex quarter counts 45 days after it ends (the replay's filing lag), the sector cap and
fees are taken on or before t.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from services.alerts.lookup import EMPTY, closes, on_or_before
from services.metrics.aitokens import SECTOR_CAP
from services.metrics.capex import capex_key
from services.metrics.usage import FEE_DAYS, RETURN_WINDOW, fees_key
from services.series import MarketData
from services.sources.replay import FILING_LAG


def common_quarter_capex(data: MarketData, companies: list[str]) -> pd.Series:
    """USD of the latest quarter every company has filed, per date it became known (NaN while
    their latest filed quarters differ, as /capex shows no common total then)."""
    known = {}
    for ticker in companies:
        values = closes(data, capex_key(ticker))
        known[ticker] = pd.Series(values.to_numpy(),
                                  index=pd.DatetimeIndex(values.index) + pd.Timedelta(FILING_LAG))
    calendar = pd.DatetimeIndex(sorted({d for s in known.values() for d in s.index}))
    if calendar.empty or any(s.empty for s in known.values()):
        return EMPTY
    totals = np.zeros(len(calendar))
    ends = []
    for series in known.values():
        totals += on_or_before(series, calendar)[0]
        as_ends = pd.Series(series.index.to_numpy(dtype="datetime64[ns]").astype("int64"),
                            index=series.index, dtype="float64")
        ends.append(on_or_before(as_ends, calendar)[0])
    same = np.all(np.equal(ends, ends[0]), axis=0)
    return pd.Series(np.where(same, totals, np.nan), index=calendar, dtype="float64")


def capex_to_sector_cap(data: MarketData, companies: list[str]) -> pd.Series:
    """Common-quarter capex divided by the AI-token sector market cap on or before each date."""
    capex = common_quarter_capex(data, companies)
    cap = closes(data, SECTOR_CAP)
    if capex.empty or cap.empty:
        return EMPTY
    calendar = pd.DatetimeIndex(capex.index.union(cap.index))
    total = on_or_before(capex, calendar)[0]  # NaN while the quarters are not common
    base = on_or_before(cap, calendar)[0]
    ratio = np.where(base > 0, total / np.where(base > 0, base, 1.0), np.nan)
    return pd.Series(ratio, index=calendar, dtype="float64")


def _fees_30d(fees: pd.Series, calendar: pd.DatetimeIndex) -> np.ndarray:
    """Sum of daily fees over the 30 days up to each date (NaN before the first record)."""
    total = fees.cumsum()
    now = on_or_before(total, calendar)[0]
    before = on_or_before(total, calendar - pd.Timedelta(days=FEE_DAYS))[0]
    return np.asarray(now - np.nan_to_num(before, nan=0.0), dtype="float64")


def _return_90d(values: pd.Series, calendar: pd.DatetimeIndex) -> np.ndarray:
    end = on_or_before(values, calendar)[0]
    pos_end = values.index.searchsorted(calendar, side="right") - 1
    cut = calendar - pd.Timedelta(days=RETURN_WINDOW.days)
    pos_base = values.index.searchsorted(cut, side="right") - 1
    base = on_or_before(values, cut)[0]
    ok = (pos_base >= 0) & (pos_base < pos_end) & (base != 0)
    return np.where(ok, (end / np.where(ok, base, 1.0) - 1.0) * 100.0, np.nan)


def usage_edge_90d(data: MarketData, tokens: list[str]) -> pd.Series:
    """Mean 90-day return of usage-backed tokens (fees in the last 30 days) minus that of
    narrative ones (covered by the fees source, no fees); NaN unless both groups are there."""
    prices = {t: closes(data, t) for t in tokens}
    calendar = pd.DatetimeIndex([])
    for values in prices.values():
        calendar = calendar.union(pd.DatetimeIndex(values.index))
    if calendar.empty:
        return EMPTY
    backed_sum = np.zeros(len(calendar))
    backed_n = np.zeros(len(calendar))
    narrative_sum = np.zeros(len(calendar))
    narrative_n = np.zeros(len(calendar))
    for token, values in prices.items():
        fees = closes(data, fees_key(token))
        if fees.empty or values.empty:
            continue  # not covered: neither group
        ret = _return_90d(values, calendar)
        window = _fees_30d(fees, calendar)
        has = ~np.isnan(ret) & ~np.isnan(window)
        backed = has & (window > 0)
        narrative = has & (window <= 0)
        backed_sum += np.where(backed, ret, 0.0)
        backed_n += backed
        narrative_sum += np.where(narrative, ret, 0.0)
        narrative_n += narrative
    ok = (backed_n > 0) & (narrative_n > 0)
    edge = np.where(ok, backed_sum / np.maximum(backed_n, 1)
                    - narrative_sum / np.maximum(narrative_n, 1), np.nan)
    return pd.Series(edge, index=calendar, dtype="float64")

