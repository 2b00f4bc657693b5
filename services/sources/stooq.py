"""Stooq daily CSV (`/q/d/l/?s=nvda.us&i=d&d1=YYYYMMDD&d2=YYYYMMDD`).

Since March 2026 Stooq wants an `apikey` for these downloads (pandas-datareader #1012) and
answers keyless clients with an HTML page, HTTP 200 (a proof-of-work check since July 2026,
finance-query #263): that page is refused here with the fix, never parsed as "no data".
Prices and volumes are split-adjusted back in time. stooq.pl sends a Polish header.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Collection, Mapping
from datetime import date

from services.series import MarketData, TimeSeries
from services.sources.http import BadPayload, HttpClient, fetch_each
from services.sources.parsing import known_upto, no_values, number_or_none

SOURCE = "Stooq"
DEFAULT_SYMBOLS: dict[str, str] = {  # key -> Stooq symbol
    "NVDA": "nvda.us", "AMD": "amd.us", "MU": "mu.us", "DELL": "dell.us", "SMH": "smh.us",
    "SOXX": "soxx.us", "SPX": "^spx"}
DATE_COLUMNS = ("Date", "Data")
CLOSE_COLUMNS = ("Close", "Zamkniecie")


def parse_stooq_csv(text: str, key: str) -> TimeSeries:
    body = text.lstrip("\ufeff")
    if body.lstrip().startswith("<"):
        raise BadPayload(f"stooq {key}: got an HTML page instead of CSV (Stooq wants an API "
                         "key or a browser check): set STOOQ_API_KEY")
    if body.strip().lower().startswith("no data") or not body.strip():
        raise no_values(f"stooq {key}", 0)
    reader = csv.DictReader(io.StringIO(body))
    fields = reader.fieldnames or []
    day_col = next((c for c in DATE_COLUMNS if c in fields), None)
    close_col = next((c for c in CLOSE_COLUMNS if c in fields), None)
    if day_col is None or close_col is None:
        raise BadPayload(f"stooq {key}: unexpected header {fields[:6]!r}")
    pairs: list[tuple[date, float]] = []
    rows = 0
    for row in reader:
        rows += 1
        value = number_or_none(row.get(close_col))
        try:
            day = date.fromisoformat(str(row.get(day_col)))
        except ValueError:
            raise BadPayload(f"stooq {key}: bad date {row.get(day_col)!r}") from None
        if value is not None:
            pairs.append((day, value))
    if not pairs:
        raise no_values(f"stooq {key}", rows)
    return TimeSeries.from_pairs(key, pairs, SOURCE)


class StooqSource:
    name = "stooq"

    def __init__(self, client: HttpClient, api_key: str,
                 symbols: Mapping[str, str] | None = None) -> None:
        self.client = client.with_secrets(api_key)
        self.api_key = api_key
        self.symbols = dict(DEFAULT_SYMBOLS if symbols is None else symbols)

    def covers(self) -> Collection[str]:
        return self.symbols.keys()

    async def fetch_key(self, key: str, asof: date, start: date) -> MarketData:
        text = await self.client.get_text("/q/d/l/", {
            "s": self.symbols[key], "i": "d", "d1": start.strftime("%Y%m%d"),
            "d2": asof.strftime("%Y%m%d"), "apikey": self.api_key})
        return {key: parse_stooq_csv(text, key)}

    async def fetch(self, asof: date, keys: Collection[str], start: date) -> MarketData:
        jobs = {k: self.fetch_key(k, asof, start) for k in keys if k in self.symbols}
        return known_upto(await fetch_each(self.name, jobs), asof)
