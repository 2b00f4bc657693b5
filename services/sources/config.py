"""The `sources:` section of config.yaml: each provider's endpoint, spacing and symbols,
each chain's cadence. API keys come from the environment only (see live.py)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from services.sources import coingecko, defillama, exchanges, sec, stooq, tiingo, yahoo

URL = r"^https?://"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ProviderConfig(_Strict):
    enabled: bool = True
    base_url: str = Field(pattern=URL)
    min_interval_seconds: float = Field(ge=0, le=60)  # spacing between requests
    timeout_seconds: float = Field(10.0, gt=0, le=300)
    attempts: int = Field(3, ge=1, le=10)
    backoff_seconds: float = Field(0.5, ge=0, le=30)
    max_retry_after_seconds: float = Field(30.0, ge=0, le=3600)


class YahooConfig(ProviderConfig):
    base_url: str = Field("https://query2.finance.yahoo.com", pattern=URL)
    cookie_url: str = Field(yahoo.COOKIE_URL, pattern=URL)  # sets the session cookie
    min_interval_seconds: float = Field(0.5, ge=0, le=60)
    symbols: dict[str, str] = dict(yahoo.DEFAULT_SYMBOLS)  # Yahoo symbol -> key


class StooqConfig(ProviderConfig):  # used only when STOOQ_API_KEY is set
    base_url: str = Field("https://stooq.com", pattern=URL)
    min_interval_seconds: float = Field(1.0, ge=0, le=60)
    symbols: dict[str, str] = dict(stooq.DEFAULT_SYMBOLS)  # key -> Stooq symbol


class TiingoConfig(ProviderConfig):  # used only when TIINGO_API_KEY is set
    base_url: str = Field("https://api.tiingo.com", pattern=URL)
    min_interval_seconds: float = Field(1.0, ge=0, le=60)
    tickers: dict[str, str] = dict(tiingo.DEFAULT_TICKERS)


class CoinbaseConfig(ProviderConfig):
    base_url: str = Field("https://api.exchange.coinbase.com", pattern=URL)
    min_interval_seconds: float = Field(0.15, ge=0, le=60)  # public: 10/s per IP
    products: dict[str, str] = dict(exchanges.COINBASE_PRODUCTS)  # key -> product id


class KrakenConfig(ProviderConfig):
    base_url: str = Field("https://api.kraken.com", pattern=URL)
    min_interval_seconds: float = Field(1.0, ge=0, le=60)  # public: about 1/s
    pairs: dict[str, str] = dict(exchanges.KRAKEN_PAIRS)


class BinanceConfig(ProviderConfig):
    base_url: str = Field("https://data-api.binance.vision", pattern=URL)  # market data only
    min_interval_seconds: float = Field(0.2, ge=0, le=60)
    symbols: dict[str, str] = dict(exchanges.BINANCE_SYMBOLS)


class CoinGeckoConfig(ProviderConfig):
    base_url: str = Field("https://api.coingecko.com/api/v3", pattern=URL)  # keyless, demo
    pro_base_url: str = Field("https://pro-api.coingecko.com/api/v3", pattern=URL)
    # Keyless: 5-15 calls/min; a demo key allows 30/min. Two calls a pass at most.
    min_interval_seconds: float = Field(2.5, ge=0, le=60)
    coins: dict[str, str] = dict(coingecko.DEFAULT_COINS)  # CoinGecko id -> key
    category_id: str = coingecko.AI_CATEGORY  # "" = skip the sector cap


class DefiLlamaConfig(ProviderConfig):
    base_url: str = Field("https://api.llama.fi", pattern=URL)  # fees
    stablecoins_base_url: str = Field("https://stablecoins.llama.fi", pattern=URL)
    yields_base_url: str = Field("https://yields.llama.fi", pattern=URL)
    min_interval_seconds: float = Field(0.5, ge=0, le=60)
    stablecoin_charts: dict[str, str | None] = dict(defillama.DEFAULT_STABLECOINS)
    tbill_ids: list[str] = list(defillama.DEFAULT_TBILL_IDS)  # tokenized T-bill coins
    yields_pool: str = defillama.AAVE_V3_USDC_ETHEREUM  # "" = skip
    # key -> protocol slug. Only Venice (VVV) is confirmed by a recorded response; `doctor`
    # checks every slug. A wrong slug fails alone (HTTP 404).
    fees_protocols: dict[str, str] = dict(defillama.DEFAULT_FEES)
    fees_data_type: str = "dailyHoldersRevenue"


class FredConfig(ProviderConfig):
    base_url: str = Field("https://fred.stlouisfed.org", pattern=URL)  # keyless CSV
    api_base_url: str = Field("https://api.stlouisfed.org", pattern=URL)
    min_interval_seconds: float = Field(0.6, ge=0, le=60)  # API: 120 requests/min
    series_id: str = "DTB3"
    sp500_series_id: str = "SP500"  # "" = no FRED fallback for the S&P 500


class SecConfig(ProviderConfig):
    base_url: str = Field("https://data.sec.gov", pattern=URL)
    min_interval_seconds: float = Field(0.11, ge=0.1, le=60)  # SEC: at most 10 req/s
    user_agent: str = ""  # required: "<org or name> <email>", per SEC fair-access policy
    companies: dict[str, str] = dict(sec.DEFAULT_COMPANIES)  # ticker -> CIK


class CadenceConfig(_Strict):
    """Minutes between two fetches of each chain (prices move, filings do not)."""

    equities: int = Field(5, ge=1, le=10080)
    crypto: int = Field(5, ge=1, le=10080)
    marketcaps: int = Field(30, ge=1, le=10080)
    stablecoins: int = Field(60, ge=1, le=10080)
    yields: int = Field(60, ge=1, le=10080)
    fees: int = Field(1440, ge=1, le=10080)
    rates: int = Field(1440, ge=1, le=10080)
    capex: int = Field(1440, ge=1, le=10080)


class LiveSourcesConfig(_Strict):
    yahoo: YahooConfig = YahooConfig()
    stooq: StooqConfig = StooqConfig()
    tiingo: TiingoConfig = TiingoConfig()
    coinbase: CoinbaseConfig = CoinbaseConfig()
    kraken: KrakenConfig = KrakenConfig()
    binance: BinanceConfig = BinanceConfig()
    coingecko: CoinGeckoConfig = CoinGeckoConfig()
    defillama: DefiLlamaConfig = DefiLlamaConfig()
    fred: FredConfig = FredConfig()
    sec: SecConfig = SecConfig()
    cadence_minutes: CadenceConfig = CadenceConfig()
    history_days: int = Field(1200, ge=30, le=20000)  # what a series never stored fetches
    backfill_from_snapshot: bool = True  # first start: seed history from data/series
    crosscheck_tolerance: float = Field(0.03, gt=0, le=1)  # relative; flagged beyond it
    enforce_budgets: bool = True  # refuse calls past half of each free tier (budget.py)
