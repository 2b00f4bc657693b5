"""Yahoo Finance chart v8: daily closes (split-adjusted) and adjclose (total return)."""

from __future__ import annotations

import asyncio
from collections.abc import Collection, Mapping
from datetime import UTC, date, datetime, time, timedelta, timezone, tzinfo
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from services.series import MarketData, TimeSeries
from services.sources.http import BadPayload, HttpClient, UpstreamHTTPError, fetch_each
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
COOKIE_URL = "https://fc.yahoo.com"

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
    """Provider over `/v8/finance/chart/{symbol}`, one request per symbol.

    Called the way a browser calls it: the cookie Yahoo sets on `cookie_url` (fc.yahoo.com),
    then a crumb from `/v1/test/getcrumb` sent with every chart request. A crumb Yahoo
    rejects (401 "Invalid Crumb") is fetched again once.
    """

    name = "yahoo"

    def __init__(self, client: HttpClient, symbols: Mapping[str, str] | None = None,
                 history_days: int = 1200, cookie_url: str = COOKIE_URL) -> None:
        self.client = client
        self.symbols = dict(symbols or DEFAULT_SYMBOLS)
        self.history_days = history_days
        self.cookie_url = cookie_url
        self._crumb: str | None = None
        self._crumb_lock = asyncio.Lock()

    def covers(self) -> Collection[str]:
        return list(self.symbols.values())  # each with its `_adj` twin where Yahoo has one

    async def crumb(self, renew: bool = False) -> str:
        async with self._crumb_lock:
            if self._crumb is None or renew:
                self._crumb = await self._handshake()
            return self._crumb

    async def _handshake(self) -> str:
        try:  # fc.yahoo.com answers 404, with the session cookie set
            await self.client.at(self.cookie_url).get_text("/")
        except UpstreamHTTPError as exc:
            if exc.status == 429:
                raise
        crumb = (await self.client.get_text("/v1/test/getcrumb")).strip()
        if not crumb or crumb.startswith("<") or " " in crumb or len(crumb) > 64:
            raise BadPayload(f"yahoo getcrumb: no crumb in the answer ({crumb[:40]!r}); "
                             "Yahoo refused the session")
        return crumb

    async def fetch_symbol(self, symbol: str, asof: date, start_day: date | None = None
                           ) -> MarketData:
        begin = start_day or asof - timedelta(days=self.history_days)
        start = datetime.combine(begin, time(), UTC)
        end = datetime.combine(asof + timedelta(days=2), time(), UTC)
        params = {"interval": "1d", "period1": str(int(start.timestamp())),
                  "period2": str(int(end.timestamp())), "events": "div|split"}
        path = f"/v8/finance/chart/{symbol}"
        try:
            body = await self.client.get_json(path, {**params, "crumb": await self.crumb()})
        except UpstreamHTTPError as exc:
            if exc.status not in (401, 403):
                raise
            body = await self.client.get_json(path, {**params,
                                                     "crumb": await self.crumb(renew=True)})
        return parse_chart(body, self.symbols[symbol])

    async def fetch(self, asof: date, keys: Collection[str] | None = None,
                    start: date | None = None) -> MarketData:
        wanted = None if keys is None else {k.removesuffix(ADJ_SUFFIX) for k in keys}
        await self.crumb()  # one handshake per session; a refusal fails the provider once
        jobs = {symbol: self.fetch_symbol(symbol, asof, start)
                for symbol, key in self.symbols.items() if wanted is None or key in wanted}
        return known_upto(await fetch_each(self.name, jobs), asof)
