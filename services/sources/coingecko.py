"""CoinGecko v3: daily closes and market caps per coin, the AI category's market cap."""

from __future__ import annotations

from collections.abc import Awaitable, Collection, Mapping
from datetime import UTC, date, datetime, timedelta
from typing import Any

from services.series import MarketData, TimeSeries, merge_series
from services.sources.http import BadPayload, HttpClient, fetch_each
from services.sources.parsing import (
    expect_dict,
    expect_list,
    known_upto,
    no_values,
    number_or_none,
    skip_gap,
    utc_date,
)

SOURCE = "CoinGecko"
CATEGORY_SOURCE = "CoinGecko categories"
MS_PER_DAY = 86_400_000
AI_CATEGORY = "artificial-intelligence"

# CoinGecko coin id -> canonical key.
DEFAULT_COINS: dict[str, str] = {
    "bitcoin": "BTC", "ethereum": "ETH", "bittensor": "TAO", "near": "NEAR",
    "internet-computer": "ICP", "render-token": "RENDER",
    # FET merged into the ASI Alliance (2024); CoinGecko moved it off "fetch-ai".
    "artificial-superintelligence-alliance": "FET",
    "worldcoin-wld": "WLD", "virtual-protocol": "VIRTUAL", "venice-token": "VVV",
}


def daily_closes(points: Any, what: str) -> list[tuple[date, float]]:
    """`[[ms, value], ...]` stamped D 00:00Z -> (D-1, value); the trailing "now" point dropped.

    A daily point at D 00:00Z is the close of day D-1. Anything else that is not at
    midnight means hourly data (a days<=90 request without interval=daily): refused.
    CoinGecko writes 0 for a market cap (or price) it does not know: a gap, not a value.
    """
    rows = expect_list(points, what)
    if rows and _ms(rows[-1], what) % MS_PER_DAY:
        rows = rows[:-1]
    out: list[tuple[date, float]] = []
    for row in rows:
        ms = _ms(row, what)
        if ms % MS_PER_DAY:
            raise BadPayload(f"{what}: point at {ms} ms is not at 00:00Z; "
                             "expected daily data (interval=daily)")
        value = number_or_none(row[1])
        if not value:
            skip_gap("coingecko", f"{what}@{ms}")
            continue
        out.append((utc_date(ms / 1000) - timedelta(days=1), value))
    return out


def _ms(row: Any, what: str) -> int:
    pair = expect_list(row, what)
    ms = number_or_none(pair[0]) if len(pair) == 2 else None
    if ms is None:
        raise BadPayload(f"{what}: expected [ms_timestamp, value] pairs, got {str(row)[:60]}")
    return int(ms)


def parse_market_chart(body: Any, key: str) -> MarketData:
    """`/coins/{id}/market_chart` -> `{key: close, mcap.key: market cap}`."""
    data = expect_dict(body, f"coingecko market_chart {key}")
    for field in ("prices", "market_caps"):
        if field not in data:
            raise BadPayload(f"coingecko market_chart {key}: no {field!r} "
                             f"(keys: {', '.join(sorted(data))[:120]})")
    prices = daily_closes(data["prices"], f"{key} prices")
    caps = daily_closes(data["market_caps"], f"{key} market_caps")
    if not prices and not caps:
        raise no_values(f"coingecko market_chart {key}",
                        len(data["prices"]) + len(data["market_caps"]))
    return {
        key: TimeSeries.from_pairs(key, prices, SOURCE),
        f"mcap.{key}": TimeSeries.from_pairs(f"mcap.{key}", caps, SOURCE),
    }


def parse_category_cap(body: Any, category_id: str, key: str) -> TimeSeries:
    """`/coins/categories` -> one point: the category's market cap on its `updated_at` date."""
    items = expect_list(body, "coingecko categories")
    if not items:
        raise no_values("coingecko categories", 0)
    for item in items:
        if not isinstance(item, dict) or item.get("id") != category_id:
            continue
        cap = number_or_none(item.get("market_cap"))
        if cap is None:
            raise BadPayload(f"coingecko category {category_id}: market_cap is not a number")
        stamp = item.get("updated_at")
        try:
            when = datetime.fromisoformat(str(stamp).replace("Z", "+00:00")).astimezone(UTC)
        except ValueError:
            raise BadPayload(f"coingecko category {category_id}: bad updated_at {stamp!r}"
                             ) from None
        return TimeSeries.from_pairs(key, [(when.date(), cap)], CATEGORY_SOURCE)
    raise BadPayload(f"coingecko categories: no category with id {category_id!r}")


def parse_markets(body: Any, coins: Mapping[str, str]) -> MarketData:
    """`/coins/markets?ids=...`: today's price and market cap per coin, on `last_updated`'s
    UTC date. An id CoinGecko does not know is simply absent from the answer."""
    rows = expect_list(body, "coingecko markets")
    out: MarketData = {}
    for raw in rows:
        row = expect_dict(raw, "coingecko markets row")
        key = coins.get(str(row.get("id")))
        if key is None:
            continue
        try:
            when = datetime.fromisoformat(str(row.get("last_updated")).replace("Z", "+00:00"))
        except ValueError:
            raise BadPayload(f"coingecko markets {key}: bad last_updated "
                             f"{row.get('last_updated')!r}") from None
        day = when.astimezone(UTC).date()
        for name, field in ((key, "current_price"), (f"mcap.{key}", "market_cap")):
            value = number_or_none(row.get(field))
            if value:
                out[name] = TimeSeries.from_pairs(name, [(day, value)], SOURCE)
    return out


def missing_ids(body: Any, coins: Mapping[str, str]) -> list[str]:
    """Configured coin ids absent from a `/coins/markets?ids=` answer: wrong or renamed ids."""
    seen = {str(r.get("id")) for r in expect_list(body, "coingecko markets")
            if isinstance(r, dict)}
    return [coin for coin in coins if coin not in seen]


class CoinGeckoSource:
    """Daily closes from `/coins/{id}/market_chart` (a fallback behind the exchanges:
    keyless and demo plans stop at 365 days, error 10012)."""

    name = "coingecko"

    def __init__(self, client: HttpClient, coins: Mapping[str, str] | None = None,
                 days: int = 365, category_id: str = AI_CATEGORY,
                 category_key: str = "aitokens.sector_cap") -> None:
        self.client = client
        self.coins = dict(coins or DEFAULT_COINS)
        self.days = days  # the most this plan serves
        self.category_id = category_id
        self.category_key = category_key

    def covers(self) -> Collection[str]:
        return list(self.coins.values())

    async def fetch_coin(self, coin_id: str, days: int | None = None) -> MarketData:
        body = await self.client.get_json(f"/coins/{coin_id}/market_chart", {
            "vs_currency": "usd", "days": str(days or self.days), "interval": "daily"})
        return parse_market_chart(body, self.coins[coin_id])

    async def fetch_category(self) -> MarketData:
        body = await self.client.get_json("/coins/categories")
        return {self.category_key: parse_category_cap(body, self.category_id,
                                                      self.category_key)}

    def days_for(self, asof: date, start: date | None) -> int:
        if start is None:
            return self.days
        return max(2, min(self.days, (asof - start).days + 2))

    async def fetch(self, asof: date, keys: Collection[str] | None = None,
                    start: date | None = None) -> MarketData:
        days = self.days_for(asof, start)
        jobs = {coin: self.fetch_coin(coin, days) for coin, key in self.coins.items()
                if keys is None or key in keys}
        if self.category_id and keys is None:
            jobs["categories"] = self.fetch_category()
        return known_upto(await fetch_each(self.name, jobs), asof)


class CoinGeckoMarkets(CoinGeckoSource):
    """Market caps (`mcap.<KEY>`) and the AI category's cap: one `/coins/markets` call for
    every coin plus `/coins/categories`; a market_chart per coin only to backfill."""

    name = "coingecko-markets"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._backfilled: dict[str, date] = {}  # coin -> the as-of date last backfilled

    def covers(self) -> Collection[str]:
        keys = [f"mcap.{key}" for key in self.coins.values()]
        return [*keys, self.category_key] if self.category_id else keys

    async def fetch_markets(self) -> MarketData:
        body = await self.client.get_json("/coins/markets", {
            "vs_currency": "usd", "ids": ",".join(self.coins), "per_page": "250"})
        return {k: v for k, v in parse_markets(body, self.coins).items()
                if k.startswith("mcap.")}

    async def fetch(self, asof: date, keys: Collection[str] | None = None,
                    start: date | None = None) -> MarketData:
        wanted = set(self.covers() if keys is None else keys)
        today = await self.fetch_markets()
        jobs: dict[str, Awaitable[MarketData]] = {}
        if start is not None and (asof - start).days > 2:  # backfill what is not stored,
            days = self.days_for(asof, start)  # once a day per coin, found or not
            coins = [c for c, key in self.coins.items()
                     if f"mcap.{key}" in wanted and self._backfilled.get(c) != asof]
            self._backfilled.update(dict.fromkeys(coins, asof))
            jobs.update({coin: self.fetch_coin(coin, days) for coin in coins})
        if self.category_id and self.category_key in wanted:
            jobs["categories"] = self.fetch_category()
        history = await fetch_each(self.name, jobs) if jobs else {}
        data = {k: merge_series(history.get(k), ts) for k, ts in today.items()}
        data.update({k: ts for k, ts in history.items() if k not in data})
        return known_upto({k: v for k, v in data.items() if k in wanted}, asof)
