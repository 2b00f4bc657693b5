"""Daily candles from exchanges' public market-data APIs: no key, years of history.

- Coinbase Exchange `GET /products/{id}/candles?granularity=86400&start&end`:
  `[[time, low, high, open, close, volume], ...]`, newest first, at most 300 a request.
- Kraken `GET /0/public/OHLC?pair&interval=1440&since`: `{"error": [], "result": {pair:
  [[time, open, high, low, close, vwap, volume, count], ...], "last": t}}`; only the latest
  720 candles, the last one still open. Errors come as HTTP 200 with `error` filled.
- Binance public market data (data-api.binance.vision) `GET /api/v3/klines?symbol&interval=1d
  &startTime&limit=1000`: `[[open_ms, open, high, low, close, volume, close_ms, ...], ...]`.

A candle stamped D 00:00 UTC closes day D (UTC days, like the bundled snapshot's crypto).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import pandas as pd

from services.series import MarketData, TimeSeries
from services.sources.http import BadPayload, HttpClient, fetch_each
from services.sources.parsing import expect_dict, expect_list, no_values, number_or_none, utc_date

COINBASE_PRODUCTS = {"BTC": "BTC-USD", "ETH": "ETH-USD", "NEAR": "NEAR-USD", "ICP": "ICP-USD",
                     "RENDER": "RENDER-USD", "FET": "FET-USD"}
KRAKEN_PAIRS = {"BTC": "XBTUSD", "ETH": "ETHUSD", "TAO": "TAOUSD", "NEAR": "NEARUSD",
                "ICP": "ICPUSD", "RENDER": "RENDERUSD", "FET": "FETUSD", "WLD": "WLDUSD",
                "VIRTUAL": "VIRTUALUSD", "VVV": "VVVUSD"}
BINANCE_SYMBOLS = {"BTC": "BTCUSDT", "ETH": "ETHUSDT", "TAO": "TAOUSDT", "NEAR": "NEARUSDT",
                   "ICP": "ICPUSDT", "RENDER": "RENDERUSDT", "FET": "FETUSDT", "WLD": "WLDUSDT",
                   "VIRTUAL": "VIRTUALUSDT"}
COINBASE_PAGE_DAYS = 300
BINANCE_PAGE = 1000


def _candles(rows: list[Any], what: str, stamp_at: int, close_at: int,
             ms: bool = False) -> list[tuple[date, float]]:
    out: list[tuple[date, float]] = []
    for raw in rows:
        row = expect_list(raw, what)
        if len(row) <= max(stamp_at, close_at):
            raise BadPayload(f"{what}: candle {str(raw)[:60]} is too short")
        stamp, close = number_or_none(row[stamp_at]), number_or_none(row[close_at])
        if stamp is None:
            raise BadPayload(f"{what}: bad candle time {row[stamp_at]!r}")
        if close:
            out.append((utc_date(stamp / 1000 if ms else stamp), close))
    return out


def parse_coinbase(body: Any, key: str, source: str = "Coinbase") -> TimeSeries:
    rows = expect_list(body, f"coinbase candles {key}")
    return TimeSeries.from_pairs(key, _candles(rows, f"coinbase {key}", 0, 4), source)


def parse_kraken(body: Any, key: str) -> TimeSeries:
    data = expect_dict(body, f"kraken ohlc {key}")
    errors = data.get("error") or []
    if errors:
        raise BadPayload(f"kraken ohlc {key}: {'; '.join(map(str, errors))[:160]}")
    result = expect_dict(data.get("result"), f"kraken ohlc {key}: result")
    series = [v for name, v in result.items() if name != "last"]
    if len(series) != 1:
        raise BadPayload(f"kraken ohlc {key}: expected one pair in result, got {len(series)}")
    rows = expect_list(series[0], f"kraken ohlc {key}: candles")
    pairs = _candles(rows, f"kraken {key}", 0, 4)
    if not pairs:
        raise no_values(f"kraken ohlc {key}", len(rows))
    return TimeSeries.from_pairs(key, pairs, "Kraken")


def parse_binance(body: Any, key: str) -> TimeSeries:
    if isinstance(body, dict):  # {"code": -1121, "msg": "Invalid symbol."}
        raise BadPayload(f"binance klines {key}: {body.get('msg', body)}")
    rows = expect_list(body, f"binance klines {key}")
    return TimeSeries.from_pairs(key, _candles(rows, f"binance {key}", 0, 4, ms=True),
                                 "Binance spot")


def _pairs(ts: TimeSeries) -> list[tuple[date, float]]:
    index = pd.DatetimeIndex(ts.values.index)
    return [(d.date(), float(v)) for d, v in zip(index, ts.values.tolist(), strict=True)]


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time(), UTC)


class _Exchange:
    name = "exchange"

    def __init__(self, client: HttpClient, symbols: Mapping[str, str]) -> None:
        self.client = client
        self.symbols = dict(symbols)

    def covers(self) -> Collection[str]:
        return self.symbols.keys()

    async def fetch_key(self, key: str, asof: date, start: date) -> MarketData:
        raise NotImplementedError

    async def fetch(self, asof: date, keys: Collection[str], start: date) -> MarketData:
        jobs = {k: self.fetch_key(k, asof, start) for k in keys if k in self.symbols}
        data = await fetch_each(self.name, jobs)
        return {k: ts.upto(asof) for k, ts in data.items() if not ts.upto(asof).values.empty}


class CoinbaseSource(_Exchange):
    name = "coinbase"

    async def fetch_key(self, key: str, asof: date, start: date) -> MarketData:
        pairs: list[tuple[date, float]] = []
        first = start
        while first <= asof:
            last = min(asof, first + timedelta(days=COINBASE_PAGE_DAYS - 1))
            body = await self.client.get_json(f"/products/{self.symbols[key]}/candles", {
                "granularity": "86400", "start": _midnight(first).isoformat(),
                "end": _midnight(last).isoformat()})
            page = parse_coinbase(body, key)
            pairs += _pairs(page)
            first = last + timedelta(days=1)
        if not pairs:
            raise no_values(f"coinbase candles {key}", 0)
        return {key: TimeSeries.from_pairs(key, pairs, "Coinbase")}


class KrakenSource(_Exchange):
    name = "kraken"

    async def fetch_key(self, key: str, asof: date, start: date) -> MarketData:
        body = await self.client.get_json("/0/public/OHLC", {
            "pair": self.symbols[key], "interval": "1440",
            "since": str(int(_midnight(start).timestamp()) - 1)})
        return {key: parse_kraken(body, key)}


class BinanceSource(_Exchange):
    name = "binance"

    async def fetch_key(self, key: str, asof: date, start: date) -> MarketData:
        pairs: list[tuple[date, float]] = []
        first = start
        while first <= asof:
            body = await self.client.get_json("/api/v3/klines", {
                "symbol": self.symbols[key], "interval": "1d",
                "startTime": str(int(_midnight(first).timestamp() * 1000)),
                "limit": str(BINANCE_PAGE)})
            page = parse_binance(body, key)
            pairs += _pairs(page)
            if len(page.values) < BINANCE_PAGE or page.last_date is None:
                break
            first = page.last_date + timedelta(days=1)
        if not pairs:
            raise no_values(f"binance klines {key}", 0)
        return {key: TimeSeries.from_pairs(key, pairs, "Binance spot")}
