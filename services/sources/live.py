"""Live upstream sources built from the `sources:` settings section and the environment."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import aiohttp
from pydantic import BaseModel, ConfigDict, Field

from services.sources import SeriesSource, coingecko, defillama, sec, yahoo
from services.sources.coingecko import CoinGeckoSource
from services.sources.defillama import FeesSource, StablecoinSource, YieldsSource
from services.sources.fred import FredSource
from services.sources.http import HttpClient, RateLimiter, RetryPolicy
from services.sources.sec import SecCapexSource
from services.sources.yahoo import YahooSource

API_KEY_VARIABLES = ("COINGECKO_API_KEY", "FRED_API_KEY")  # environment, never config.yaml


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ProviderConfig(_Strict):
    enabled: bool = True
    base_url: str = Field(pattern=r"^https?://")
    min_interval_seconds: float = Field(ge=0, le=60)  # spacing between requests
    timeout_seconds: float = Field(20.0, gt=0, le=300)
    attempts: int = Field(4, ge=1, le=10)
    backoff_seconds: float = Field(0.5, ge=0, le=30)
    max_retry_after_seconds: float = Field(120.0, ge=0, le=3600)


class YahooConfig(ProviderConfig):
    base_url: str = Field("https://query2.finance.yahoo.com", pattern=r"^https?://")
    min_interval_seconds: float = Field(0.5, ge=0, le=60)
    symbols: dict[str, str] = dict(yahoo.DEFAULT_SYMBOLS)  # Yahoo symbol -> key
    history_days: int = Field(1200, ge=30, le=20000)
    user_agent: str = "Mozilla/5.0 (compatible; flowwatch)"


class CoinGeckoConfig(ProviderConfig):
    base_url: str = Field("https://api.coingecko.com/api/v3", pattern=r"^https?://")
    # Keyless: ~5-15 calls/min; a demo key allows 30/min (then 2.1 s is enough).
    min_interval_seconds: float = Field(6.0, ge=0, le=60)
    coins: dict[str, str] = dict(coingecko.DEFAULT_COINS)  # CoinGecko id -> key
    days: int = Field(365, ge=2, le=5000)  # > 365 needs a paid plan (error 10012)
    category_id: str = coingecko.AI_CATEGORY  # "" = skip the sector cap
    api_key_header: str = "x-cg-demo-api-key"


class DefiLlamaConfig(ProviderConfig):
    base_url: str = Field("https://api.llama.fi", pattern=r"^https?://")  # fees
    stablecoins_base_url: str = Field("https://stablecoins.llama.fi", pattern=r"^https?://")
    yields_base_url: str = Field("https://yields.llama.fi", pattern=r"^https?://")
    min_interval_seconds: float = Field(1.0, ge=0, le=60)
    stablecoin_charts: dict[str, str | None] = dict(defillama.DEFAULT_STABLECOINS)
    tbill_ids: list[str] = list(defillama.DEFAULT_TBILL_IDS)  # tokenized T-bill coins
    yields_pool: str = defillama.AAVE_V3_USDC_ETHEREUM  # "" = skip
    # key -> protocol slug. Only Venice (VVV) is confirmed by a recorded response; other AI
    # tokens' slugs are unverified here. A wrong slug fails alone (HTTP 404), logged.
    fees_protocols: dict[str, str] = dict(defillama.DEFAULT_FEES)
    fees_data_type: str = "dailyHoldersRevenue"


class FredConfig(ProviderConfig):
    base_url: str = Field("https://fred.stlouisfed.org", pattern=r"^https?://")  # keyless CSV
    api_base_url: str = Field("https://api.stlouisfed.org", pattern=r"^https?://")
    min_interval_seconds: float = Field(0.6, ge=0, le=60)  # API: 120 requests/min
    series_id: str = "DTB3"
    history_days: int = Field(1200, ge=30, le=40000)


class SecConfig(ProviderConfig):
    base_url: str = Field("https://data.sec.gov", pattern=r"^https?://")
    min_interval_seconds: float = Field(0.11, ge=0.1, le=60)  # SEC: at most 10 req/s
    user_agent: str = ""  # required: "<org or name> <email>", per SEC fair-access policy
    companies: dict[str, str] = dict(sec.DEFAULT_COMPANIES)  # ticker -> CIK


class LiveSourcesConfig(_Strict):
    yahoo: YahooConfig = YahooConfig()
    coingecko: CoinGeckoConfig = CoinGeckoConfig()
    defillama: DefiLlamaConfig = DefiLlamaConfig()
    fred: FredConfig = FredConfig()
    sec: SecConfig = SecConfig()


def make_client(session: aiohttp.ClientSession, provider: str, cfg: ProviderConfig,
                headers: Mapping[str, str] | None = None,
                secrets: Iterable[str] = ()) -> HttpClient:
    return HttpClient(
        session, provider, cfg.base_url, RateLimiter(cfg.min_interval_seconds),
        cfg.timeout_seconds, dict(headers or {}),
        RetryPolicy(cfg.attempts, cfg.backoff_seconds, cfg.max_retry_after_seconds),
        tuple(s for s in secrets if s))


def build_live_sources(session: aiohttp.ClientSession, cfg: LiveSourcesConfig,
                       env: Mapping[str, str]) -> list[SeriesSource]:
    """One source per enabled provider (DefiLlama: three, sharing one rate limiter).

    Raises ValueError naming the setting when SEC is enabled without a User-Agent. Every
    client knows every API key, so no upstream's error text can quote one back to a user.
    """
    keys = tuple(env.get(name) or "" for name in API_KEY_VARIABLES)
    sources: list[SeriesSource] = []
    if cfg.yahoo.enabled:
        client = make_client(session, "yahoo", cfg.yahoo, {"User-Agent": cfg.yahoo.user_agent},
                             keys)
        sources.append(YahooSource(client, cfg.yahoo.symbols, cfg.yahoo.history_days))
    if cfg.coingecko.enabled:
        key = env.get("COINGECKO_API_KEY") or ""
        headers = {cfg.coingecko.api_key_header: key} if key else {}
        sources.append(CoinGeckoSource(
            make_client(session, "coingecko", cfg.coingecko, headers, keys),
            cfg.coingecko.coins, cfg.coingecko.days, cfg.coingecko.category_id))
    if cfg.defillama.enabled:
        sources.extend(_defillama_sources(session, cfg.defillama, keys))
    if cfg.fred.enabled:
        sources.append(FredSource(
            make_client(session, "fred", cfg.fred, secrets=keys), cfg.fred.series_id,
            api_key=env.get("FRED_API_KEY") or None, api_base_url=cfg.fred.api_base_url,
            history_days=cfg.fred.history_days))
    if cfg.sec.enabled:
        if not cfg.sec.user_agent.strip():
            raise ValueError("sources.sec.user_agent: required by the SEC (name and email, "
                             "e.g. 'flowwatch ops@example.org'); or set sources.sec.enabled: "
                             "false")
        sources.append(SecCapexSource(make_client(session, "sec", cfg.sec, secrets=keys),
                                      cfg.sec.user_agent, cfg.sec.companies))
    return sources


def _defillama_sources(session: aiohttp.ClientSession, cfg: DefiLlamaConfig,
                       keys: Iterable[str]) -> list[SeriesSource]:
    fees = make_client(session, "defillama", cfg, secrets=keys)
    out: list[SeriesSource] = [StablecoinSource(
        fees.at(cfg.stablecoins_base_url), cfg.stablecoin_charts, cfg.tbill_ids)]
    if cfg.yields_pool:
        out.append(YieldsSource(fees.at(cfg.yields_base_url), cfg.yields_pool))
    if cfg.fees_protocols:
        out.append(FeesSource(fees, cfg.fees_protocols, cfg.fees_data_type))
    return out
