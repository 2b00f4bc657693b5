"""What each tracked series is: display name, kind (for staleness) and unit."""

from __future__ import annotations

from dataclasses import dataclass


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

# Calendar days a series may lag the as-of date before it is called stale.
STALE_AFTER_DAYS: dict[str, int] = {
    "equity": 6,
    "etf": 6,
    "index": 6,
    "crypto": 2,
    "token": 2,
    "stablecoins": 3,
    "rates": 7,
    "defi": 3,
    "capex": 200,
}
