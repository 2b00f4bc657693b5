"""FRED: the 3-month T-bill rate (DTB3, percent) from the keyless CSV or the JSON API."""

from __future__ import annotations

import csv
import io
import logging
from collections.abc import Collection
from datetime import date, timedelta
from typing import Any

from services.series import MarketData, TimeSeries
from services.sources.http import BadPayload, HttpClient
from services.sources.parsing import (
    expect_dict,
    expect_list,
    known_upto,
    no_values,
    number_or_none,
)

logger = logging.getLogger(__name__)

CSV_BASE = "https://fred.stlouisfed.org"
API_BASE = "https://api.stlouisfed.org"
DATE_HEADERS = ("observation_date", "DATE")  # current and older fredgraph.csv headers
MAX_PAGES = 20


def _observation(day: str, raw: str | None, what: str) -> tuple[date, float] | None:
    """(date, value), or None for a holiday ('' or '.')."""
    try:
        when = date.fromisoformat(day.strip())
    except ValueError:
        raise BadPayload(f"{what}: bad date {day!r}") from None
    value = number_or_none(raw)
    if value is None and (raw or "").strip() not in ("", "."):
        raise BadPayload(f"{what}: bad value {raw!r} on {day}")
    return None if value is None else (when, value)


def parse_fredgraph_csv(text: str, series_id: str, key: str) -> tuple[TimeSeries, int]:
    """fredgraph.csv -> (series, count of skipped holidays); BadPayload if no row has a value."""
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    header = [h.strip() for h in rows[0]] if rows else []
    if len(header) != 2 or header[0] not in DATE_HEADERS or header[1] != series_id:
        raise BadPayload(f"fred csv {series_id}: unexpected header {header!r}; expected "
                         f"'observation_date,{series_id}' (or 'DATE,{series_id}')")
    pairs: list[tuple[date, float]] = []
    for row in rows[1:]:
        if not row:
            continue
        if len(row) != 2:
            raise BadPayload(f"fred csv {series_id}: row {row!r} does not have 2 columns")
        obs = _observation(row[0], row[1], f"fred csv {series_id}")
        if obs:
            pairs.append(obs)
    skipped = sum(1 for row in rows[1:] if row) - len(pairs)
    if not pairs:
        raise no_values(f"fred csv {series_id}", skipped)
    return TimeSeries.from_pairs(key, pairs, f"FRED {series_id}"), skipped


def parse_observations(body: Any, series_id: str) -> tuple[list[tuple[date, float]], int, int]:
    """One `series/observations` page -> (observations, holidays skipped, total count)."""
    data = expect_dict(body, f"fred json {series_id}")
    observations = expect_list(data.get("observations"), f"fred json {series_id}: observations")
    pairs: list[tuple[date, float]] = []
    for raw in observations:
        item = expect_dict(raw, f"fred json {series_id}: observation")
        obs = _observation(str(item.get("date")), item.get("value"), f"fred json {series_id}")
        if obs:
            pairs.append(obs)
    count = data.get("count", len(observations))
    if not isinstance(count, int):
        raise BadPayload(f"fred json {series_id}: count is {count!r}")
    return pairs, len(observations) - len(pairs), count


class FredSource:
    """SeriesSource for one FRED series; uses the JSON API when an API key is given."""

    def __init__(self, client: HttpClient, series_id: str = "DTB3",
                 key: str = "rates.tbill_3m", api_key: str | None = None,
                 api_base_url: str = API_BASE, history_days: int = 1200,
                 name: str = "fred") -> None:
        self.name = name
        self.csv_client = client
        self.api_client = client.at(api_base_url).with_secrets(api_key or "")
        self.series_id, self.key = series_id, key
        self.api_key = api_key
        self.history_days = history_days

    def covers(self) -> Collection[str]:
        return (self.key,)

    async def fetch(self, asof: date, keys: Collection[str] | None = None,
                    start_day: date | None = None) -> MarketData:
        start = (start_day or asof - timedelta(days=self.history_days)).isoformat()
        if self.api_key:
            series = await self._fetch_json(start, asof.isoformat())
        else:
            text = await self.csv_client.get_text(
                "/graph/fredgraph.csv", {"id": self.series_id, "cosd": start})
            series, skipped = parse_fredgraph_csv(text, self.series_id, self.key)
            logger.debug("fred csv: series=%s holidays_skipped=%d", self.series_id, skipped)
        return known_upto({self.key: series}, asof)

    async def _fetch_json(self, start: str, end: str) -> TimeSeries:
        pairs: list[tuple[date, float]] = []
        offset = skipped = 0
        for _ in range(MAX_PAGES):
            body = await self.api_client.get_json("/fred/series/observations", {
                "series_id": self.series_id, "api_key": self.api_key or "",
                "file_type": "json", "observation_start": start, "observation_end": end,
                "offset": str(offset)})
            page, page_skipped, count = parse_observations(body, self.series_id)
            pairs.extend(page)
            skipped += page_skipped
            offset += len(page) + page_skipped
            if offset >= count or (not page and not page_skipped):
                break
        if not pairs:
            raise no_values(f"fred json {self.series_id}", skipped)
        return TimeSeries.from_pairs(self.key, pairs, f"FRED {self.series_id}")
