"""Hyperscaler capex: latest quarter and trailing four quarters, against the AI-token sector."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from functools import partial

import numpy as np
import pandas as pd

from services.catalog import CAPEX_COMPANIES, FILING_LAG
from services.metrics.aitokens import SECTOR_CAP
from services.metrics.common import MetricDef, Point, closes, latest_point, one_value, sources_of
from services.returns import on_or_before, one_day, read_at
from services.series import MarketData


@dataclass(frozen=True)
class CompanyCapex:
    ticker: str
    name: str
    quarter_end: str | None
    quarter_usd: float | None
    ttm_usd: float | None
    source: str


@dataclass(frozen=True)
class CapexReading:
    asof: str
    companies: tuple[CompanyCapex, ...]
    common_quarter_end: str | None
    common_quarter_usd: float | None
    sector_cap: Point | None
    capex_to_sector_cap: float | None
    sources: tuple[str, ...]


def capex_key(ticker: str) -> str:
    return f"capex.{ticker}"


def filed(values: pd.Series) -> pd.Series:
    """Quarterly capex re-dated to when it counts as known: FILING_LAG after quarter end."""
    return pd.Series(values.to_numpy(), index=pd.DatetimeIndex(values.index) + FILING_LAG,
                     dtype="float64")


def known_quarters(values: pd.Series, asof: date) -> pd.Series:
    """The quarters filed by `asof`, indexed by quarter end."""
    return values.loc[: pd.Timestamp(asof) - FILING_LAG]


def common_quarter(data: MarketData, companies: list[str], cal: pd.DatetimeIndex
                   ) -> pd.DataFrame:
    """Per date: the summed capex of the latest quarter every company has filed and its end;
    NaN while their latest filed quarters differ (there is no common total then)."""
    totals = np.zeros(len(cal))
    ends = []
    for ticker in companies:
        values, when = on_or_before(filed(closes(data, capex_key(ticker))), cal)
        totals += values
        ends.append(when)
    if not ends:
        return pd.DataFrame({"usd": np.nan, "end": pd.NaT}, index=cal)
    same = np.all(np.equal(ends, ends[0]), axis=0) & ~np.isnat(ends[0])
    end = pd.DatetimeIndex(ends[0]) - FILING_LAG
    return pd.DataFrame({"usd": np.where(same, totals, np.nan),
                         "end": np.where(same, end.to_numpy(), np.datetime64("NaT"))},
                        index=cal)


def capex_to_sector_cap(data: MarketData, companies: list[str], cal: pd.DatetimeIndex,
                        ) -> pd.Series:
    """Common-quarter capex over the AI-token sector market cap on or before each date."""
    total = common_quarter(data, companies, cal)["usd"].to_numpy(dtype="float64")
    cap = read_at(closes(data, SECTOR_CAP), cal).to_numpy()
    ok = ~np.isnan(cap) & (np.nan_to_num(cap) > 0)
    return pd.Series(np.where(ok, total / np.where(ok, cap, 1.0), np.nan), index=cal,
                     dtype="float64")


def company_capex(data: MarketData, ticker: str, asof: date) -> CompanyCapex:
    series = data.get(capex_key(ticker))
    name = CAPEX_COMPANIES[ticker]
    if series is None:
        return CompanyCapex(ticker, name, None, None, None, "no data")
    known = known_quarters(series.values, asof)
    if known.empty:
        return CompanyCapex(ticker, name, None, None, None, series.source)
    ttm_bn = one_value(trailing_year(data, [ticker], one_day(asof)))
    ttm = None if ttm_bn is None else ttm_bn * 1e9
    return CompanyCapex(ticker, name, known.index[-1].date().isoformat(),
                        float(known.iloc[-1]), ttm, series.source)


def compute_capex(data: MarketData, asof: date, companies: list[str]) -> CapexReading:
    rows = tuple(company_capex(data, t, asof) for t in companies)
    common = common_quarter(data, companies, one_day(asof)).iloc[0]
    common_total = None if np.isnan(common["usd"]) else float(common["usd"])
    common_end = None if common_total is None else pd.Timestamp(common["end"]).date().isoformat()
    cap = latest_point(data.get(SECTOR_CAP), asof)
    ratio = one_value(capex_to_sector_cap(data, companies, one_day(asof)))
    return CapexReading(
        asof=asof.isoformat(), companies=rows, common_quarter_end=common_end,
        common_quarter_usd=common_total, sector_cap=cap, capex_to_sector_cap=ratio,
        sources=sources_of(data, [*(capex_key(t) for t in companies), SECTOR_CAP]),
    )


def trailing_year(data: MarketData, companies: list[str], cal: pd.DatetimeIndex
                  ) -> pd.Series:
    """USD bn of the four latest filed quarters, summed over the companies, on each date;
    NaN unless each company has four consecutive filed quarters ending on the same date."""
    total = np.zeros(len(cal))
    ends = []
    for ticker in companies:
        known = filed(closes(data, capex_key(ticker)))
        sums = known.rolling(4).sum()
        span = pd.Series(known.index, index=known.index).diff(3).dt.days
        sums = sums.where((span >= 250) & (span <= 300))  # four consecutive quarters
        values, when = on_or_before(sums, cal)  # NaN where the latest four are not a year
        total += values
        ends.append(when)
    if not ends:
        return pd.Series(np.nan, index=cal, dtype="float64")
    same = np.all(np.equal(ends, ends[0]), axis=0)
    return pd.Series(np.where(same, total / 1e9, np.nan), index=cal, dtype="float64")


def metric_defs(companies: list[str]) -> list[MetricDef]:
    each = [MetricDef(f"capex.{t.lower()}.ttm", "USD bn",
                      f"{CAPEX_COMPANIES[t]} capex over the four latest filed quarters",
                      (capex_key(t),), partial(_one_trailing_year, t)) for t in companies]
    return [*each, MetricDef("capex.ttm", "USD bn",
                             "Hyperscaler capex over the four latest filed quarters, together",
                             tuple(capex_key(t) for t in companies),
                             lambda d, cal: trailing_year(d, companies, cal)), MetricDef(
        "capex.to_sector_cap", "x",
        "One quarter of hyperscaler capex over the AI-token sector market cap",
        (*(capex_key(t) for t in companies), SECTOR_CAP),
        lambda d, cal: capex_to_sector_cap(d, companies, cal))]


def _one_trailing_year(ticker: str, data: MarketData, cal: pd.DatetimeIndex) -> pd.Series:
    return trailing_year(data, [ticker], cal)
