"""Live provider chains built from the `sources:` settings section and the environment.

Chains, first choice first (a provider without its key is left out):
- equities: Yahoo (browser-impersonated) -> Tiingo (TIINGO_API_KEY) -> Stooq (STOOQ_API_KEY)
- S&P 500: Yahoo ^GSPC -> FRED SP500 -> Stooq ^spx, inside the equities chain
- crypto closes: Coinbase -> Kraken -> Binance -> CoinGecko (365 days without a pro key)
- market caps and the AI category: CoinGecko; stablecoins, yields, fees: DefiLlama;
  T-bill rate: FRED; capex: SEC companyconcept
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import datetime, timedelta
from typing import Any

import aiohttp
from redis.asyncio import Redis

from services.keys import Keys
from services.sources.browser import BrowserClient
from services.sources.budget import (
    FREE_TIERS,
    SHARED_COUNTER,
    BudgetedLimiter,
    CallBudget,
    utc_now,
)
from services.sources.chain import Chain, Provider
from services.sources.coingecko import CoinGeckoMarkets, CoinGeckoSource
from services.sources.config import LiveSourcesConfig, ProviderConfig
from services.sources.defillama import FeesSource, StablecoinSource, YieldsSource
from services.sources.exchanges import BinanceSource, CoinbaseSource, KrakenSource
from services.sources.fred import FredSource
from services.sources.http import HttpClient, RetryPolicy
from services.sources.sec import SecCapexSource
from services.sources.stooq import StooqSource
from services.sources.tiingo import TiingoSource
from services.sources.yahoo import YahooSource

__all__ = ["API_KEY_VARIABLES", "LiveSourcesConfig", "build_live_chains"]

API_KEY_VARIABLES = ("COINGECKO_API_KEY", "COINGECKO_PRO_API_KEY", "FRED_API_KEY",
                     "STOOQ_API_KEY", "TIINGO_API_KEY")  # environment, never config.yaml
PRO_DAYS = 20000  # a paid CoinGecko plan serves the whole history
FREE_DAYS = 365  # keyless and demo plans refuse more (error 10012)


class Builder:
    """Makes every provider's client: one session, one budget counter per provider."""

    def __init__(self, session: aiohttp.ClientSession, env: Mapping[str, str],
                 redis: Redis | None, keys: Keys | None, browser: Any = None,
                 clock: Callable[[], datetime] = utc_now) -> None:
        self.session, self.env, self.redis, self.keys = session, env, redis, keys
        self.browser, self.clock = browser, clock
        self.secrets = tuple(v for name in API_KEY_VARIABLES if (v := env.get(name)))
        self._limiters: dict[str, BudgetedLimiter] = {}

    def limiter(self, provider: str, cfg: ProviderConfig) -> BudgetedLimiter:
        counter = SHARED_COUNTER.get(provider, provider)
        if counter not in self._limiters:
            budget = None
            tier = FREE_TIERS.get(tier_name(counter, self.env))
            if self.redis is not None and self.keys is not None and tier is not None:
                budget = CallBudget(self.redis, self.keys, counter, tier, self.clock)
            self._limiters[counter] = BudgetedLimiter(cfg.min_interval_seconds, budget)
        return self._limiters[counter]

    def client(self, provider: str, cfg: ProviderConfig, base_url: str | None = None,
               headers: Mapping[str, str] | None = None, browser: bool = False) -> HttpClient:
        kind = BrowserClient if browser else HttpClient
        extra = {"browser": self.browser} if browser else {}
        return kind(self.session, provider, base_url or cfg.base_url,
                    self.limiter(provider, cfg), cfg.timeout_seconds, dict(headers or {}),
                    RetryPolicy(cfg.attempts, cfg.backoff_seconds, cfg.max_retry_after_seconds),
                    self.secrets, **extra)


def tier_name(counter: str, env: Mapping[str, str]) -> str:
    """The free tier that applies: CoinGecko's depends on the key configured."""
    if counter != "coingecko":
        return counter
    plan = coingecko_plan(env)[0]
    return "coingecko" if plan == "keyless" else f"coingecko-{plan}"


def build_live_chains(session: aiohttp.ClientSession, cfg: LiveSourcesConfig,
                      env: Mapping[str, str], redis: Redis | None = None,
                      keys: Keys | None = None, browser: Any = None,
                      clock: Callable[[], datetime] = utc_now) -> list[Chain]:
    """Every chain with at least one enabled provider.

    Raises ValueError naming the setting when SEC is enabled without a User-Agent.
    """
    b = Builder(session, env, redis if cfg.enforce_budgets else None, keys, browser, clock)
    minutes = cfg.cadence_minutes
    chains = [
        _chain("equities", _equities(b, cfg), minutes.equities, cfg),
        _chain("crypto", _crypto(b, cfg), minutes.crypto, cfg),
        _chain("marketcaps", _coingecko(b, cfg, markets=True), minutes.marketcaps, cfg),
        _chain("stablecoins", _defillama(b, cfg, "stablecoins"), minutes.stablecoins, cfg),
        _chain("yields", _defillama(b, cfg, "yields"), minutes.yields, cfg),
        _chain("fees", _defillama(b, cfg, "fees"), minutes.fees, cfg),
        _chain("rates", _fred(b, cfg, cfg.fred.series_id, "rates.tbill_3m", "fred"),
               minutes.rates, cfg),
        _chain("capex", _sec(b, cfg), minutes.capex, cfg),
    ]
    return [c for c in chains if c.providers]


def _chain(name: str, providers: Iterable[Provider], minutes: int,
           cfg: LiveSourcesConfig) -> Chain:
    return Chain(name, list(providers), timedelta(minutes=minutes), cfg.history_days,
                 cfg.crosscheck_tolerance)


def _equities(b: Builder, cfg: LiveSourcesConfig) -> list[Provider]:
    out: list[Provider] = []
    if cfg.yahoo.enabled:
        out.append(YahooSource(b.client("yahoo", cfg.yahoo, browser=True), cfg.yahoo.symbols,
                               cfg.history_days, cfg.yahoo.cookie_url))
    if cfg.tiingo.enabled and b.env.get("TIINGO_API_KEY"):
        out.append(TiingoSource(b.client("tiingo", cfg.tiingo), b.env["TIINGO_API_KEY"],
                                cfg.tiingo.tickers))
    if cfg.fred.sp500_series_id:
        out += _fred(b, cfg, cfg.fred.sp500_series_id, "SPX", "fred-sp500")
    if cfg.stooq.enabled and b.env.get("STOOQ_API_KEY"):
        out.append(StooqSource(b.client("stooq", cfg.stooq), b.env["STOOQ_API_KEY"],
                               cfg.stooq.symbols))
    return out


def coingecko_plan(env: Mapping[str, str]) -> tuple[str, str, dict[str, str]]:
    """(plan, base-url field, auth header): a pro key needs the pro host and header."""
    if env.get("COINGECKO_PRO_API_KEY"):
        return "pro", "pro_base_url", {"x-cg-pro-api-key": env["COINGECKO_PRO_API_KEY"]}
    if env.get("COINGECKO_API_KEY"):
        return "demo", "base_url", {"x-cg-demo-api-key": env["COINGECKO_API_KEY"]}
    return "keyless", "base_url", {}


def _coingecko(b: Builder, cfg: LiveSourcesConfig, markets: bool) -> list[Provider]:
    c = cfg.coingecko
    if not c.enabled:
        return []
    plan, url_field, headers = coingecko_plan(b.env)
    client = b.client("coingecko", c, getattr(c, url_field), headers)
    days = PRO_DAYS if plan == "pro" else FREE_DAYS
    kind = CoinGeckoMarkets if markets else CoinGeckoSource
    return [kind(client, c.coins, days, c.category_id)]


def _crypto(b: Builder, cfg: LiveSourcesConfig) -> list[Provider]:
    out: list[Provider] = []
    if cfg.coinbase.enabled:
        out.append(CoinbaseSource(b.client("coinbase", cfg.coinbase), cfg.coinbase.products))
    if cfg.kraken.enabled:
        out.append(KrakenSource(b.client("kraken", cfg.kraken), cfg.kraken.pairs))
    if cfg.binance.enabled:
        out.append(BinanceSource(b.client("binance", cfg.binance), cfg.binance.symbols))
    return out + _coingecko(b, cfg, markets=False)


def _defillama(b: Builder, cfg: LiveSourcesConfig, part: str) -> list[Provider]:
    d = cfg.defillama
    if not d.enabled:
        return []
    if part == "stablecoins":
        return [StablecoinSource(b.client("defillama-stablecoins", d, d.stablecoins_base_url),
                                 d.stablecoin_charts, d.tbill_ids)]
    if part == "yields":
        return [YieldsSource(b.client("defillama-yields", d, d.yields_base_url),
                             d.yields_pool)] if d.yields_pool else []
    return [FeesSource(b.client("defillama-fees", d), d.fees_protocols,
                       d.fees_data_type)] if d.fees_protocols else []


def _fred(b: Builder, cfg: LiveSourcesConfig, series_id: str, key: str,
          name: str) -> list[Provider]:
    if not cfg.fred.enabled:
        return []
    return [FredSource(b.client(name, cfg.fred), series_id, key,
                       api_key=b.env.get("FRED_API_KEY") or None,
                       api_base_url=cfg.fred.api_base_url, history_days=cfg.history_days,
                       name=name)]


def _sec(b: Builder, cfg: LiveSourcesConfig) -> list[Provider]:
    if not cfg.sec.enabled:
        return []
    if not cfg.sec.user_agent.strip():
        raise ValueError("sources.sec.user_agent: required by the SEC (name and email, "
                         "e.g. 'flowwatch ops@example.org'); or set sources.sec.enabled: "
                         "false")
    return [SecCapexSource(b.client("sec", cfg.sec), cfg.sec.user_agent, cfg.sec.companies)]
