"""What each tracked series is: display name, kind (for staleness) and unit."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta


@dataclass(frozen=True)
class Asset:
    key: str
    name: str
    kind: str  # equity | etf | index | crypto | token
    currency: str = "USD"


ASSETS: dict[str, Asset] = {
    a.key: a
    for a in (
        Asset("NVDA", "NVIDIA", "equity"),
        Asset("AMD", "AMD", "equity"),
        Asset("MU", "Micron", "equity"),
        Asset("DELL", "Dell", "equity"),
        Asset("SMH", "VanEck Semis ETF", "etf"),
        Asset("SOXX", "iShares Semis ETF", "etf"),
        Asset("000660.KS", "SK Hynix", "equity", currency="KRW"),
        Asset("SPX", "S&P 500", "index"),
        Asset("BTC", "Bitcoin", "crypto"),
        Asset("ETH", "Ether", "crypto"),
        Asset("TAO", "Bittensor", "token"),
        Asset("NEAR", "NEAR", "token"),
        Asset("ICP", "Internet Computer", "token"),
        Asset("RENDER", "Render", "token"),
        Asset("FET", "Fetch.ai/ASI", "token"),
        Asset("WLD", "Worldcoin", "token"),
        Asset("VIRTUAL", "Virtuals", "token"),
        Asset("VVV", "Venice", "token"),
    )
}

CAPEX_COMPANIES: dict[str, str] = {
    "AMZN": "Amazon",
    "MSFT": "Microsoft",
    "GOOGL": "Alphabet",
    "META": "Meta",
}


@dataclass(frozen=True)
class StaleLimit:
    kind: str
    days: int  # calendar days a series may lag the as-of date before it is called stale
    what: str  # which series, for README and /help conventions


# The one table of staleness limits (README "Conventions" and /help conventions print it).
STALE_LIMITS: tuple[StaleLimit, ...] = (
    StaleLimit("equity", 6, "stocks, ETFs and the S&P 500 (weekends and holidays)"),
    StaleLimit("crypto", 2, "BTC, ETH and the AI tokens (daily, 24/7)"),
    StaleLimit("stablecoins", 2, "stablecoin supply (daily)"),
    StaleLimit("rates", 7, "3-month T-bill rate (business days)"),
    StaleLimit("defi", 3, "Aave USDC supply APY (daily)"),
    StaleLimit("sector", 7, "AI-token sector market cap, token market caps and fees"),
    StaleLimit("capex", 200, "quarterly capex, from the quarter's end"),
)
STALE_AFTER_DAYS: dict[str, int] = {limit.kind: limit.days for limit in STALE_LIMITS}
_KIND_BY_PREFIX = {"stablecoins": "stablecoins", "rates": "rates", "defi": "defi",
                   "capex": "capex", "aitokens": "sector", "fees": "sector", "mcap": "sector"}
_KIND_BY_ASSET = {"equity": "equity", "etf": "equity", "index": "equity", "crypto": "crypto",
                  "token": "crypto"}


def series_kind(key: str) -> str:
    """The staleness kind of a stored series key ("NVDA", "rates.tbill_3m", ...)."""
    asset = ASSETS.get(key)
    if asset is not None:
        return _KIND_BY_ASSET[asset.kind]
    return _KIND_BY_PREFIX.get(key.split(".", maxsplit=1)[0], "equity")


def stale_after(key: str) -> int:
    return STALE_AFTER_DAYS[series_kind(key)]


# A quarterly capex figure counts as known this long after its quarter ends (when it has been
# filed); every reading, chart, alert and the thesis use it.
FILING_LAG = timedelta(days=45)


def known_after(key: str) -> timedelta:
    """How long after its date a point of series `key` counts as known."""
    return FILING_LAG if series_kind(key) == "capex" else timedelta(0)
