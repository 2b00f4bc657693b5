"""DefiLlama: stablecoin supply, tokenized T-bills, a lending pool's APY, protocol fees.

Hosts: stablecoins.llama.fi (`/stablecoincharts/all`, `/stablecoins`), yields.llama.fi
(`/chart/{pool}`; the ~11 MB `/pools` list is never fetched), api.llama.fi
(`/summary/fees/{slug}`).
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Mapping
from datetime import UTC, date, datetime
from typing import Any

from services.series import MarketData, TimeSeries
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

SOURCE = "DefiLlama"
FEES_SOURCE = "DefiLlama fees"
YIELDS_SOURCE = "DefiLlama yields"
PEG = "peggedUSD"
AAVE_V3_USDC_ETHEREUM = "aa70268e-4b52-42bf-a116-608b370f9501"
# Stablecoin id on DefiLlama -> key; None = every USD-pegged coin summed.
DEFAULT_STABLECOINS: dict[str, str | None] = {
    "stablecoins.total": None, "stablecoins.usdt": "1", "stablecoins.usdc": "2"}
DEFAULT_TBILL_IDS = ("173", "129")  # BUIDL, USDY
DEFAULT_FEES: dict[str, str] = {"VVV": "venice"}  # key -> DefiLlama protocol slug


def pegged_usd(value: Any) -> float | None:
    """`{"peggedUSD": n}` -> n; a bare 0/null (seen where an object belongs) -> None."""
    if not isinstance(value, dict):
        return None
    return number_or_none(value.get(PEG))


def parse_stablecoin_chart(body: Any, key: str) -> TimeSeries:
    """`/stablecoincharts/all[?stablecoin=id]`: daily circulating supply, USD-pegged only."""
    rows = expect_list(body, f"defillama stablecoincharts {key}")
    pairs: list[tuple[date, float]] = []
    for raw in rows:
        row = expect_dict(raw, f"defillama stablecoincharts {key} row")
        stamp = number_or_none(row.get("date"))
        if stamp is None:
            raise BadPayload(f"defillama stablecoincharts {key}: bad date {row.get('date')!r}")
        supply = pegged_usd(row.get("totalCirculating"))
        if supply is None:
            skip_gap("defillama", f"{key}@{int(stamp)}")
            continue
        pairs.append((utc_date(stamp), supply))
    if not pairs:
        raise no_values(f"defillama stablecoincharts {key}", len(rows))
    return TimeSeries.from_pairs(key, pairs, SOURCE)


def parse_stablecoin_list(body: Any) -> dict[str, float]:
    """`/stablecoins`: current USD-pegged circulating supply by stablecoin id."""
    assets = expect_list(expect_dict(body, "defillama stablecoins").get("peggedAssets"),
                         "defillama stablecoins: peggedAssets")
    out: dict[str, float] = {}
    for raw in assets:
        asset = expect_dict(raw, "defillama stablecoins: asset")
        supply = pegged_usd(asset.get("circulating"))
        if supply is None:
            skip_gap("defillama", f"stablecoin {asset.get('id')} circulating")
            continue
        out[str(asset.get("id"))] = supply
    if not out:
        raise no_values("defillama stablecoins", len(assets))
    return out


def tokenized_tbills(supply: Mapping[str, float], ids: Iterable[str]) -> float | None:
    """Sum of the listed T-bill tokens present; None when none of them is listed."""
    found = [supply[i] for i in ids if i in supply]
    return sum(found) if found else None


def parse_pool_chart(body: Any, key: str) -> TimeSeries:
    """yields `/chart/{pool}`: daily base APY in percent (reward APY excluded)."""
    data = expect_dict(body, f"defillama yields {key}")
    if data.get("status") not in (None, "success"):
        raise BadPayload(f"defillama yields {key}: status {data.get('status')!r}")
    rows = expect_list(data.get("data"), f"defillama yields {key}: data")
    pairs: list[tuple[date, float]] = []
    for raw in rows:
        row = expect_dict(raw, f"defillama yields {key} row")
        try:
            when = datetime.fromisoformat(str(row.get("timestamp")).replace("Z", "+00:00"))
        except ValueError:
            raise BadPayload(f"defillama yields {key}: bad timestamp "
                             f"{row.get('timestamp')!r}") from None
        apy = number_or_none(row.get("apyBase"))
        if apy is None:
            skip_gap("defillama", f"{key}@{row.get('timestamp')}")
            continue
        pairs.append((when.astimezone(UTC).date(), apy))
    if not pairs:
        raise no_values(f"defillama yields {key}", len(rows))
    return TimeSeries.from_pairs(key, pairs, YIELDS_SOURCE)


def parse_summary_fees(body: Any, key: str) -> TimeSeries:
    """`/summary/fees/{slug}`: `totalDataChart` daily USD (a 0 is a real zero-fee day)."""
    data = expect_dict(body, f"defillama fees {key}")
    rows = expect_list(data.get("totalDataChart"), f"defillama fees {key}: totalDataChart")
    pairs: list[tuple[date, float]] = []
    for row in rows:
        pair = expect_list(row, f"defillama fees {key} point")
        stamp = number_or_none(pair[0]) if len(pair) == 2 else None
        if stamp is None:
            raise BadPayload(f"defillama fees {key}: expected [seconds, usd], got {row!r}")
        value = number_or_none(pair[1])
        if value is None:
            skip_gap("defillama", f"fees {key}@{int(stamp)}")
            continue
        pairs.append((utc_date(stamp), value))
    if not pairs:
        raise no_values(f"defillama fees {key}", len(rows))
    return TimeSeries.from_pairs(key, pairs, FEES_SOURCE)


def utc_today() -> date:
    return datetime.now(UTC).date()


class StablecoinSource:
    """Supply history per configured stablecoin, plus today's tokenized T-bill total."""

    name = "defillama-stablecoins"

    def __init__(self, client: HttpClient, charts: Mapping[str, str | None] | None = None,
                 tbill_ids: Iterable[str] = DEFAULT_TBILL_IDS,
                 today: Callable[[], date] = utc_today) -> None:
        self.client = client
        self.charts = dict(DEFAULT_STABLECOINS if charts is None else charts)
        self.tbill_ids = tuple(tbill_ids)
        self.today = today

    async def fetch_chart(self, key: str, stablecoin: str | None) -> MarketData:
        params = {"stablecoin": stablecoin} if stablecoin else {}
        body = await self.client.get_json("/stablecoincharts/all", params)
        return {key: parse_stablecoin_chart(body, key)}

    async def fetch_tbills(self) -> MarketData:
        supply = parse_stablecoin_list(await self.client.get_json("/stablecoins"))
        total = tokenized_tbills(supply, self.tbill_ids)
        if total is None:
            skip_gap("defillama", f"tokenized T-bills: none of ids {self.tbill_ids} listed")
            return {}
        key = "stablecoins.tbills"
        return {key: TimeSeries.from_pairs(key, [(self.today(), total)], SOURCE)}

    def covers(self) -> Collection[str]:
        return [*self.charts, *(["stablecoins.tbills"] if self.tbill_ids else [])]

    async def fetch(self, asof: date, keys: Collection[str] | None = None,
                    start: date | None = None) -> MarketData:
        jobs = {key: self.fetch_chart(key, coin) for key, coin in self.charts.items()
                if keys is None or key in keys}
        if self.tbill_ids and (keys is None or "stablecoins.tbills" in keys):
            jobs["stablecoins.tbills"] = self.fetch_tbills()
        return known_upto(await fetch_each(self.name, jobs), asof)


class YieldsSource:
    """Daily base APY of one lending pool (Aave v3 USDC on Ethereum by default)."""

    name = "defillama-yields"

    def __init__(self, client: HttpClient, pool: str = AAVE_V3_USDC_ETHEREUM,
                 key: str = "defi.aave_usdc_apy") -> None:
        self.client, self.pool, self.key = client, pool, key

    def covers(self) -> Collection[str]:
        return (self.key,)

    async def fetch(self, asof: date, keys: Collection[str] | None = None,
                    start: date | None = None) -> MarketData:
        body = await self.client.get_json(f"/chart/{self.pool}")
        return known_upto({self.key: parse_pool_chart(body, self.key)}, asof)


class FeesSource:
    """Daily fees/revenue per protocol slug as `fees.<KEY>`."""

    name = "defillama-fees"

    def __init__(self, client: HttpClient, protocols: Mapping[str, str] | None = None,
                 data_type: str = "dailyHoldersRevenue") -> None:
        self.client = client
        self.protocols = dict(DEFAULT_FEES if protocols is None else protocols)
        self.data_type = data_type

    async def fetch_protocol(self, key: str, slug: str) -> MarketData:
        body = await self.client.get_json(f"/summary/fees/{slug}", {"dataType": self.data_type})
        return {f"fees.{key}": parse_summary_fees(body, f"fees.{key}")}

    def covers(self) -> Collection[str]:
        return [f"fees.{key}" for key in self.protocols]

    async def fetch(self, asof: date, keys: Collection[str] | None = None,
                    start: date | None = None) -> MarketData:
        jobs = {key: self.fetch_protocol(key, slug) for key, slug in self.protocols.items()
                if keys is None or f"fees.{key}" in keys}
        return known_upto(await fetch_each(self.name, jobs), asof)
