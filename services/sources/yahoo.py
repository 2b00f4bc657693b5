"""Yahoo Finance chart v8: daily closes (split-adjusted) and adjclose (total return)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime, time, timedelta, timezone, tzinfo
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from services.series import MarketData, TimeSeries
from services.sources.http import BadPayload, HttpClient, fetch_each
from services.sources.parsing import (
    expect_dict,
    expect_list,
    first_dict,
    known_upto,
    no_values,
    number_or_none,
)

SOURCE = "Yahoo Finance"
ADJ_SUFFIX = "_adj"

# Yahoo symbol -> canonical key.
DEFAULT_SYMBOLS: dict[str, str] = {
    "NVDA": "NVDA", "AMD": "AMD", "MU": "MU", "DELL": "DELL", "SMH": "SMH", "SOXX": "SOXX",
    "000660.KS": "000660.KS", "^GSPC": "SPX",
}


def exchange_zone(meta: Mapping[str, Any]) -> tzinfo:
    """The exchange's zone (DST-aware) when named, else the fixed `gmtoffset`."""
    name = meta.get("exchangeTimezoneName")
    if isinstance(name, str):
        try:
            return ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            pass
    offset = meta.get("gmtoffset")
    if not isinstance(offset, int):
        raise BadPayload("yahoo chart: meta has neither exchangeTimezoneName nor gmtoffset")
    return timezone(timedelta(seconds=offset))


def parse_chart(body: Any, key: str) -> MarketData:
    """`{key: close, key_adj: adjclose}` by exchange-local trading date; null bars dropped.

    A chart without a single close (no bars, or every close null) is a BadPayload.
    """
    chart = expect_dict(expect_dict(body, "yahoo body").get("chart"), "yahoo chart")
    error = chart.get("error")
    if error:
        detail = error.get("description") if isinstance(error, dict) else error
        raise BadPayload(f"yahoo chart {key}: upstream error: {detail}")
    results = expect_list(chart.get("result"), f"yahoo chart {key}: result")
    if not results:
        raise BadPayload(f"yahoo chart {key}: empty result")
    result = expect_dict(results[0], f"yahoo chart {key}: result[0]")
    zone = exchange_zone(expect_dict(result.get("meta"), f"yahoo chart {key}: meta"))
    stamps = result.get("timestamp") or []  # absent when the range has no bars
    indicators = expect_dict(result.get("indicators"), f"yahoo chart {key}: indicators")
    quote = first_dict(indicators.get("quote"), f"yahoo chart {key}: quote")
    columns = {key: expect_list(quote.get("close", []), f"yahoo chart {key}: close")}
    adj = indicators.get("adjclose")
    if adj:
        adj_values = first_dict(adj, f"yahoo chart {key}: adjclose").get("adjclose")
        columns[key + ADJ_SUFFIX] = expect_list(adj_values, f"yahoo chart {key}: adjclose")
    seconds = [number_or_none(ts) for ts in expect_list(stamps, f"yahoo chart {key}: timestamp")]
    if None in seconds:
        raise BadPayload(f"yahoo chart {key}: non-numeric timestamp")
    dates = [datetime.fromtimestamp(s or 0, UTC).astimezone(zone).date() for s in seconds]
    out: MarketData = {}
    for name, values in columns.items():
        if len(values) != len(dates):
            raise BadPayload(f"yahoo chart {key}: {len(values)} values for {len(dates)} bars")
        pairs = [(d, v) for d, raw in zip(dates, values, strict=True)
                 if (v := number_or_none(raw)) is not None]
        out[name] = TimeSeries.from_pairs(name, pairs, SOURCE)
    if out[key].values.empty:
        raise no_values(f"yahoo chart {key}", len(dates))
    return out


class YahooSource:
    """SeriesSource over `/v8/finance/chart/{symbol}`, one request per symbol."""

    name = "yahoo"

    def __init__(self, client: HttpClient, symbols: Mapping[str, str] | None = None,
                 history_days: int = 1200) -> None:
        self.client = client
        self.symbols = dict(symbols or DEFAULT_SYMBOLS)
        self.history_days = history_days

    async def fetch_symbol(self, symbol: str, asof: date) -> MarketData:
        start = datetime.combine(asof - timedelta(days=self.history_days), time(), UTC)
        end = datetime.combine(asof + timedelta(days=2), time(), UTC)
        body = await self.client.get_json(f"/v8/finance/chart/{symbol}", {
            "interval": "1d", "period1": str(int(start.timestamp())),
            "period2": str(int(end.timestamp())), "events": "div|split",
        })
        return parse_chart(body, self.symbols[symbol])

    async def fetch(self, asof: date) -> MarketData:
        jobs = {symbol: self.fetch_symbol(symbol, asof) for symbol in self.symbols}
        return known_upto(await fetch_each(self.name, jobs), asof)

