"""Hyperscaler capex: latest quarter and trailing four quarters, against the AI-token sector."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import pandas as pd

from services.catalog import CAPEX_COMPANIES
from services.metrics.aitokens import SECTOR_CAP
from services.metrics.common import Point, latest_point, sources_of
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


def company_capex(data: MarketData, ticker: str, asof: date) -> CompanyCapex:
    series = data.get(capex_key(ticker))
    name = CAPEX_COMPANIES[ticker]
    if series is None:
        return CompanyCapex(ticker, name, None, None, None, "no data")
    known = series.values.loc[: pd.Timestamp(asof)]
    if known.empty:
        return CompanyCapex(ticker, name, None, None, None, series.source)
    last4 = known.iloc[-4:]
    # A trailing four-quarter sum needs four consecutive quarters (about 365 days apart).
    span = (last4.index[-1] - last4.index[0]).days if len(last4) == 4 else 0
    ttm = float(last4.sum()) if len(last4) == 4 and 250 <= span <= 300 else None
    return CompanyCapex(ticker, name, known.index[-1].date().isoformat(),
                        float(known.iloc[-1]), ttm, series.source)


def compute_capex(data: MarketData, asof: date, companies: list[str]) -> CapexReading:
    rows = tuple(company_capex(data, t, asof) for t in companies)
    ends = {r.quarter_end for r in rows}
    common_end = common_total = None
    if len(ends) == 1 and None not in ends:
        common_end = ends.pop()
        common_total = sum(r.quarter_usd or 0.0 for r in rows)
    cap = latest_point(data.get(SECTOR_CAP), asof, "capex")
    ratio = common_total / cap.value if common_total and cap and cap.value else None
    return CapexReading(
        asof=asof.isoformat(), companies=rows, common_quarter_end=common_end,
        common_quarter_usd=common_total, sector_cap=cap, capex_to_sector_cap=ratio,
        sources=sources_of(data, [*(capex_key(t) for t in companies), SECTOR_CAP]),
    )
