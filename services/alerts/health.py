"""What /status shows about alert delivery: the outbox backlog and the dead letters."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from redis.exceptions import ResponseError

from services.alerts.outbox import DeadLetter, RedisOutbox


@dataclass(frozen=True)
class DeliveryHealth:
    pending: int  # appended but not yet delivered: unread plus in the workers' hands
    dead_letters: int
    latest_dead: tuple[DeadLetter, ...]  # newest first


class DeliveryMonitor:
    def __init__(self, outbox: RedisOutbox) -> None:
        self.outbox = outbox

    async def health(self, latest: int = 3) -> DeliveryHealth:
        dead = int(await self.outbox.redis.xlen(self.outbox.keys.alert_dead_letters()))
        recent = await self.outbox.dead_letters(latest) if dead else []
        return DeliveryHealth(await self._pending(), dead, tuple(recent))

    async def _pending(self) -> int:
        outbox = self.outbox
        try:
            groups: Any = await outbox.redis.xinfo_groups(outbox.stream)
        except ResponseError:  # no stream yet
            return 0
        group = next((g for g in groups if g["name"] == outbox.group), None)
        if group is None:  # no worker has started yet: everything is waiting
            return int(await outbox.redis.xlen(outbox.stream))
        lag = group.get("lag")
        return int(group["pending"]) + (int(lag) if lag is not None else 0)
