"""Each provider's last outcome in its chain, kept in Redis for /status and `doctor`."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass

from redis.asyncio import Redis

from services.keys import Keys
from services.sources.chain import ProviderOutcome


@dataclass(frozen=True)
class ProviderHealth:
    provider: str
    chain: str
    rank: int  # 1 = the chain's first choice
    ok: bool
    checked_at: str
    last_ok_at: str
    served: tuple[str, ...]
    error: str
    check: str = ""
    disagrees: bool = False
    usage: str = ""  # calls against its budgets at the last pass

    @property
    def state(self) -> str:
        if not self.checked_at:
            return "not needed"
        if not self.ok:
            return "FAILING"
        if self.disagrees:
            return "DISAGREES"
        return "ok" if self.served else "standby"


class HealthStore:
    def __init__(self, redis: Redis, keys: Keys) -> None:
        self.redis, self.keys = redis, keys

    async def record(self, chain: str, ranks: dict[str, int], outcomes: list[ProviderOutcome],
                     now: str, usage: dict[str, str] | None = None) -> None:
        """This pass's outcomes; a provider the chain did not need keeps its last record, or
        gets a 'not needed' one so /status lists every configured provider."""
        previous = {h.provider: h for h in await self.load()}
        fields: dict[str | bytes | bytearray | memoryview[int] | int | float,
                     str | bytes | bytearray | memoryview[int] | int | float] = {}
        for outcome in outcomes:
            before = previous.get(outcome.provider)
            last_ok = now if outcome.ok else (before.last_ok_at if before else "")
            check = outcome.check or (before.check if before else "")
            health = ProviderHealth(outcome.provider, chain, ranks.get(outcome.provider, 0),
                                    outcome.ok, now, last_ok, outcome.served, outcome.error,
                                    check, outcome.disagrees or bool(
                                        not outcome.check and before and before.disagrees),
                                    (usage or {}).get(outcome.provider, ""))
            fields[outcome.provider] = json.dumps(asdict(health))
        for name, rank in ranks.items():
            if name not in fields and name not in previous:
                fields[name] = json.dumps(asdict(ProviderHealth(
                    name, chain, rank, True, "", "", (), "", usage=(usage or {}).get(name, ""))))
        if fields:
            await self.redis.hset(self.keys.provider_health(), mapping=fields)

    async def load(self) -> list[ProviderHealth]:
        raw = await self.redis.hgetall(self.keys.provider_health())
        out = []
        for _, value in sorted(raw.items()):
            body = json.loads(value)
            body["served"] = tuple(body["served"])
            out.append(ProviderHealth(**body))
        return sorted(out, key=lambda h: (h.chain, h.rank))
