"""Tiingo end-of-day prices (`/tiingo/daily/{ticker}/prices?startDate&endDate`), free key.

Answer: `[{"date": "2024-01-02T00:00:00.000Z", "close": ..., "adjClose": ..., ...}, ...]`;
the key goes in an `Authorization: Token <key>` header, so it never appears in a URL.
Free plan: 50 requests an hour, 1,000 a day; indexes are not served (no SPX here).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from datetime import date, datetime
from typing import Any

from services.series import MarketData, TimeSeries
from services.sources.http import BadPayload, HttpClient, fetch_each
from services.sources.parsing import (
    expect_dict,
    expect_list,
    known_upto,
    no_values,
    number_or_none,
)

SOURCE = "Tiingo"
DEFAULT_TICKERS: dict[str, str] = {k: k.lower() for k in
                                   ("NVDA", "AMD", "MU", "DELL", "SMH", "SOXX")}


def parse_tiingo(body: Any, key: str) -> MarketData:
    if isinstance(body, dict):  # {"detail": "Error: Ticker 'X' not found"}
        raise BadPayload(f"tiingo {key}: {str(body.get('detail', body))[:160]}")
    rows = expect_list(body, f"tiingo {key}")
    close: list[tuple[date, float]] = []
    adj: list[tuple[date, float]] = []
    for raw in rows:
        row = expect_dict(raw, f"tiingo {key} row")
        try:
            day = datetime.fromisoformat(str(row.get("date")).replace("Z", "+00:00")).date()
        except ValueError:
            raise BadPayload(f"tiingo {key}: bad date {row.get('date')!r}") from None
        if (c := number_or_none(row.get("close"))) is not None:
            close.append((day, c))
        if (a := number_or_none(row.get("adjClose"))) is not None:
            adj.append((day, a))
    if not close:
        raise no_values(f"tiingo {key}", len(rows))
    return {key: TimeSeries.from_pairs(key, close, SOURCE),
            f"{key}_adj": TimeSeries.from_pairs(f"{key}_adj", adj, SOURCE)}


class TiingoSource:
    name = "tiingo"

    def __init__(self, client: HttpClient, api_key: str,
                 tickers: Mapping[str, str] | None = None) -> None:
        self.client = client.with_headers({"Authorization": f"Token {api_key}"}
                                          ).with_secrets(api_key)
        self.tickers = dict(DEFAULT_TICKERS if tickers is None else tickers)

    def covers(self) -> Collection[str]:
        return list(self.tickers)  # each with its `_adj` twin

    async def fetch_key(self, key: str, asof: date, start: date) -> MarketData:
        body = await self.client.get_json(f"/tiingo/daily/{self.tickers[key]}/prices", {
            "startDate": start.isoformat(), "endDate": asof.isoformat()})
        return parse_tiingo(body, key)

    async def fetch(self, asof: date, keys: Collection[str], start: date) -> MarketData:
        wanted = {k.removesuffix("_adj") for k in keys}
        jobs = {k: self.fetch_key(k, asof, start) for k in self.tickers if k in wanted}
        return known_upto(await fetch_each(self.name, jobs), asof)
