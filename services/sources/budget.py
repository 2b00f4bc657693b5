"""Call budgets per provider: half of each free tier (2x headroom), counted in Redis.

Every request a provider's client makes is counted per minute, hour, day and month, in
Redis so every process of one deployment shares the count. A request that would go over
a budget is refused before it is sent (BudgetExhausted), so the chain moves on to the next
provider instead of earning a ban. /status shows the use against each budget.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from redis.asyncio import Redis

from services.keys import Keys
from services.sources import SourceError
from services.sources.http import RateLimiter

WINDOWS = (("minute", "%Y%m%d%H%M", 120), ("hour", "%Y%m%d%H", 7200),
           ("day", "%Y%m%d", 2 * 86400), ("month", "%Y%m", 32 * 86400))


class BudgetExhausted(SourceError):
    """A provider's own call budget is spent for this window; try the next provider."""


@dataclass(frozen=True)
class FreeTier:
    """A provider's published free limits (None = none published for that window)."""

    minute: int | None = None
    hour: int | None = None
    day: int | None = None
    month: int | None = None
    note: str = ""

    def limit(self, window: str) -> int | None:
        value: int | None = getattr(self, window)
        return value

    def budget(self, window: str) -> int | None:
        """Ours: half the free tier."""
        value = self.limit(window)
        return None if value is None else max(1, value // 2)


# Where each number comes from is in README (live mode, budgets).
FREE_TIERS: dict[str, FreeTier] = {
    "yahoo": FreeTier(minute=60, hour=2000, day=48000,
                      note="unpublished; ~2,000/hour per IP is what clients observe"),
    "stooq": FreeTier(day=1000, note="API-key downloads; no published quota"),
    "tiingo": FreeTier(hour=50, day=1000, note="free plan: 50/hour, 1,000/day"),
    "fred": FreeTier(minute=120, note="API: 120 requests/minute; the keyless CSV shares it"),
    "coinbase": FreeTier(minute=600, note="public endpoints: 10 requests/second per IP"),
    "kraken": FreeTier(minute=60, note="public endpoints: about 1 request/second"),
    "binance": FreeTier(minute=3000, note="6,000 weight/minute; klines weigh 2"),
    "coingecko": FreeTier(minute=10, month=10000, note="keyless: 5-15/minute (unpublished); "
                          "the demo plan's 10,000/month assumed"),
    "coingecko-demo": FreeTier(minute=30, month=10000, note="demo key: 30/minute, "
                               "10,000 credits/month"),
    "coingecko-pro": FreeTier(minute=500, month=500000, note="paid plans from 500/minute"),
    "defillama": FreeTier(minute=500, note="free API; no published quota, 500/minute seen"),
    "sec": FreeTier(minute=600, note="fair access: 10 requests/second"),
}
# Each CoinGecko provider draws on the one CoinGecko quota.
SHARED_COUNTER = {"coingecko-markets": "coingecko", "fred-sp500": "fred",
                  "defillama-stablecoins": "defillama",
                  "defillama-yields": "defillama", "defillama-fees": "defillama"}


def utc_now() -> datetime:
    return datetime.now(UTC)


class CallBudget:
    """Counts one provider's calls; refuses the call that would pass a budget."""

    def __init__(self, redis: Redis, keys: Keys, provider: str, tier: FreeTier,
                 clock: Callable[[], datetime] = utc_now) -> None:
        self.redis, self.keys, self.provider, self.tier = redis, keys, provider, tier
        self.clock = clock

    def _counters(self, now: datetime) -> list[tuple[str, str, int]]:
        return [(window, self.keys.provider_calls(self.provider, now.strftime(fmt)), ttl)
                for window, fmt, ttl in WINDOWS]

    async def spend(self) -> None:
        counters = self._counters(self.clock())
        pipe = self.redis.pipeline(transaction=False)
        for _, key, ttl in counters:
            pipe.incr(key)
            pipe.expire(key, ttl)
        counts = (await pipe.execute())[::2]
        over = [(w, n, b) for (w, _, _), n in zip(counters, counts, strict=True)
                if (b := self.tier.budget(w)) is not None and int(n) > b]
        if over:
            pipe = self.redis.pipeline(transaction=False)
            for _, key, _ in counters:
                pipe.decr(key)
            await pipe.execute()
            window, _, budget = over[0]
            raise BudgetExhausted(f"{self.provider}: {budget} calls per {window} used "
                                  f"(half of the free tier's {self.tier.limit(window)})")

    async def used(self) -> dict[str, int]:
        counters = self._counters(self.clock())
        raws = await self.redis.mget([key for _, key, _ in counters])
        return {w: int(raw or 0) for (w, _, _), raw in zip(counters, raws, strict=True)}


class BudgetedLimiter(RateLimiter):
    """The provider's request spacing, plus its call budget on every request sent."""

    def __init__(self, min_interval: float, budget: CallBudget | None) -> None:
        super().__init__(min_interval)
        self.budget = budget

    async def wait(self) -> None:
        await super().wait()
        if self.budget is not None and not self.unreachable():
            await self.budget.spend()


def usage_line(used: dict[str, int], tier: FreeTier) -> str:
    """'12/30 per minute, 400/24000 per day' for the windows that have a budget."""
    parts = [f"{used.get(w, 0)}/{b} per {w}" for w, _, _ in WINDOWS
             if (b := tier.budget(w)) is not None]
    return ", ".join(parts) or "no published limit"
