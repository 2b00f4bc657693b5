"""`python -m bot doctor`: one probe per configured provider and platform, one line each.

Probes are single requests without retries (a start-up check must not wait out a backoff):
the key accepted, every coin id, pair and slug known, rate-limit headers read. A line says
what is wrong and how to fix it; `run` logs the same lines when it starts.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import aiohttp

from services.sources import SourceError
from services.sources.chain import Chain, Provider
from services.sources.checks import (
    FAIL,
    OK,
    WARN,
    Check,
    disable_fix,
    http_fix,
    probe,
    rate_note,
)
from services.sources.coingecko import CoinGeckoSource, missing_ids
from services.sources.exchanges import parse_binance, parse_coinbase, parse_kraken
from services.sources.http import UpstreamHTTPError, UpstreamUnreachable

Probe = Callable[[Any, date], Awaitable[Check]]
PROBE_DAYS = 120  # a daily series that answered nothing for this long is failing


def _ok_or_fail(status: int, name: str, what: str, headers: Any, body: str = "") -> Check:
    if 200 <= status < 300:
        return Check(name, OK, f"{what}{rate_note(headers)}")
    return Check(name, FAIL, f"{what}: HTTP {status} {body[:80]!r}", http_fix(name, status))


async def _yahoo(p: Any, asof: date) -> Check:
    await p.crumb(renew=True)
    symbol = next(iter(p.symbols))
    await p.fetch_symbol(symbol, asof, asof - timedelta(days=7))
    return Check(p.name, OK, f"cookie and crumb accepted; {symbol} chart served")


async def _exchange(p: Any, asof: date) -> Check:
    """Every configured symbol asked once; an unlisted one is a warning (the next provider
    in the chain serves it), every one unlisted is a failure."""
    start = asof - timedelta(days=3)
    unlisted: list[str] = []
    headers: Any = {}
    for key, symbol in p.symbols.items():
        status, body, headers = await probe(p.client, *_candle_request(p.name, symbol, start,
                                                                      asof))
        if not _listed(p.name, status, body, key):
            unlisted.append(symbol)
    if len(unlisted) == len(p.symbols):
        return Check(p.name, FAIL, f"none of {len(unlisted)} symbols listed",
                     f"check sources.{p.name} symbols")
    note = f"; not listed (the next provider serves them): {', '.join(unlisted)}" \
        if unlisted else ""
    return Check(p.name, WARN if unlisted else OK,
                 f"{len(p.symbols) - len(unlisted)}/{len(p.symbols)} symbols listed"
                 f"{note}{rate_note(headers)}")


def _candle_request(name: str, symbol: str, start: date, end: date
                    ) -> tuple[str, dict[str, str]]:
    t0 = datetime.combine(start, time(), UTC)
    if name == "coinbase":
        return f"/products/{symbol}/candles", {
            "granularity": "86400", "start": t0.isoformat(),
            "end": datetime.combine(end, time(), UTC).isoformat()}
    if name == "kraken":
        return "/0/public/OHLC", {"pair": symbol, "interval": "1440",
                                  "since": str(int(t0.timestamp()))}
    return "/api/v3/klines", {"symbol": symbol, "interval": "1d", "limit": "3",
                              "startTime": str(int(t0.timestamp() * 1000))}


def _listed(name: str, status: int, body: str, key: str) -> bool:
    if status >= 300:
        if status in (400, 404):
            return False
        raise UpstreamHTTPError(name, "candles", status, body[:100])
    parse = {"coinbase": parse_coinbase, "kraken": parse_kraken}.get(name, parse_binance)
    try:
        parse(json.loads(body), key)
    except (SourceError, ValueError):
        return False
    return True


async def _coingecko(p: CoinGeckoSource, asof: date) -> Check:
    status, body, headers = await probe(p.client, "/ping")
    if status in (401, 403):
        return Check(p.name, FAIL, f"key refused (HTTP {status})", http_fix("coingecko", 401))
    status, body, headers = await probe(p.client, "/coins/markets", {
        "vs_currency": "usd", "ids": ",".join(p.coins), "per_page": "250"})
    if status != 200:
        return _ok_or_fail(status, p.name, "coins/markets", headers, body)
    missing = missing_ids(json.loads(body), p.coins)
    if missing:
        return Check(p.name, FAIL, f"coin ids not found: {', '.join(missing)}",
                     "correct sources.coingecko.coins (ids are in each coin page's API "
                     "section on coingecko.com)")
    return Check(p.name, OK, f"key accepted, {len(p.coins)}/{len(p.coins)} coin ids "
                 f"resolve, history {p.days} days{rate_note(headers)}")


async def _defillama_fees(p: Any, asof: date) -> Check:
    wrong = []
    headers: Any = {}
    for key, slug in p.protocols.items():
        status, _, headers = await probe(p.client, f"/summary/fees/{slug}",
                                         {"dataType": p.data_type})
        if status in (400, 404):
            wrong.append(f"{key}={slug}")
        elif status != 200:
            return _ok_or_fail(status, p.name, f"fees {slug}", headers)
    if wrong:
        return Check(p.name, FAIL, f"protocol slugs not found: {', '.join(wrong)}",
                     "correct sources.defillama.fees_protocols (the slug in "
                     "defillama.com/protocol/<slug>)")
    return Check(p.name, OK, f"{len(p.protocols)} protocol slugs resolve{rate_note(headers)}")


async def _sec(p: Any, asof: date) -> Check:
    ticker, cik = next(iter(p.companies.items()))
    data = await p.fetch_company(ticker, cik, asof)
    return Check(p.name, OK, f"User-Agent accepted; {', '.join(data)} served")


PROBES: dict[str, Probe] = {
    "YahooSource": _yahoo, "CoinbaseSource": _exchange, "KrakenSource": _exchange,
    "BinanceSource": _exchange, "CoinGeckoSource": _coingecko,
    "CoinGeckoMarkets": _coingecko, "FeesSource": _defillama_fees, "SecCapexSource": _sec}


async def _generic(p: Any, asof: date) -> Check:
    keys = sorted(p.covers())[:1]
    data = await p.fetch(asof, keys, asof - timedelta(days=PROBE_DAYS))
    return Check(p.name, OK if data else WARN, f"served {', '.join(sorted(data)) or 'nothing'}")


async def check_provider(provider: Provider, asof: date) -> Check:
    """The provider's own probe; any failure becomes its line, with the fix."""
    try:
        return await PROBES.get(type(provider).__name__, _generic)(provider, asof)
    except UpstreamUnreachable as exc:
        return Check(provider.name, FAIL, f"unreachable ({str(exc).split(': ')[-1][:60]})",
                     disable_fix(provider.name))
    except UpstreamHTTPError as exc:
        return Check(provider.name, FAIL, f"HTTP {exc.status}: {exc.snippet[:100]}",
                     http_fix(provider.name, exc.status))
    except SourceError as exc:
        return Check(provider.name, FAIL, f"{exc.__class__.__name__}: {str(exc)[:140]}",
                     "see README, live mode")


async def platform_check(session: aiohttp.ClientSession, name: str, url: str,
                         headers: dict[str, str], limit_s: float = 10.0) -> Check:
    """Telegram getMe / Discord users/@me: the token is valid, and whose it is."""
    try:
        async with session.get(url, headers=headers,
                               timeout=aiohttp.ClientTimeout(total=limit_s)) as resp:
            body = await resp.text()
            status = resp.status
    except (TimeoutError, aiohttp.ClientError) as exc:
        return Check(name, FAIL, f"unreachable ({exc.__class__.__name__})",
                     f"check the network path to {name}")
    if status in (401, 403, 404):
        return Check(name, FAIL, f"token refused (HTTP {status})",
                     f"set a valid {name.upper()}_BOT_TOKEN")
    if status != 200:
        return Check(name, FAIL, f"HTTP {status}", f"retry later; {name} may be down")
    data = json.loads(body)
    user = data.get("result", data) if isinstance(data, dict) else {}
    return Check(name, OK, f"token valid ({user.get('username', '?')})")


async def run_doctor(chains: list[Chain], asof: date,
                     platforms: tuple[Awaitable[Check], ...] = ()) -> list[Check]:
    """Every provider once (a provider in two chains is probed once), then the platforms."""
    seen: dict[str, Provider] = {}
    for chain in chains:
        for provider in chain.providers:
            seen.setdefault(provider.name, provider)
    return list(await asyncio.gather(*(check_provider(p, asof) for p in seen.values()),
                                     *platforms))
