"""Worker heartbeats, and handing a dead worker's stream entries to a live one.

Each worker keeps `alert_heartbeat(consumer)` alive (a key with a short TTL, renewed every
ttl/4). A consumer of a stream group whose heartbeat key is gone is dead: its pending
entries are claimed at once (XCLAIM with no idle minimum) instead of after a fixed idle
time, so a killed worker's entries go out again within about one TTL. A worker that only
stalled (a long GC, SIGSTOP) and comes back finds its entries taken: the send markers keep
that to the sends it had in flight.
"""

from __future__ import annotations

import contextlib
import logging
from dataclasses import dataclass
from typing import Any

from redis.asyncio import Redis
from redis.exceptions import RedisError, ResponseError

from services.clock import SYSTEM_CLOCK, Clock
from services.keys import Keys

logger = logging.getLogger(__name__)
HEARTBEAT_TTL_MS = 5_000


class Heartbeat:
    def __init__(self, redis: Redis, keys: Keys, consumer: str,
                 ttl_ms: int = HEARTBEAT_TTL_MS, clock: Clock = SYSTEM_CLOCK) -> None:
        self.redis, self.keys, self.consumer, self.ttl_ms = redis, keys, consumer, ttl_ms
        self.clock = clock

    async def beat(self) -> None:
        await self.redis.set(self.keys.alert_heartbeat(self.consumer), "1", px=self.ttl_ms)

    async def run(self) -> None:
        """Beat every ttl/4 until cancelled; an outage is logged by the loops that need
        Redis, so here it is only retried."""
        while True:
            try:
                await self.beat()
            except RedisError as exc:
                logger.debug("heartbeat failed consumer=%s: %s", self.consumer, exc)
            await self.clock.sleep(self.ttl_ms / 4000)

    async def stop(self) -> None:
        """A clean stop: gone at once, so nobody waits out the TTL for our entries."""
        with contextlib.suppress(RedisError):
            await self.redis.delete(self.keys.alert_heartbeat(self.consumer))


@dataclass(frozen=True)
class Claimed:
    entry_id: str
    fields: dict[str, str] | None  # None: the entry was deleted meanwhile
    deliveries: int
    dead_consumer: str  # whose entry this was


async def reclaim_dead(redis: Redis, keys: Keys, stream: str, group: str, consumer: str,
                       count: int) -> list[Claimed]:
    """Claim up to `count` entries pending at consumers without a heartbeat."""
    try:
        consumers: Any = await redis.xinfo_consumers(stream, group)
    except ResponseError:  # no stream or group yet
        return []
    others = [str(c["name"]) for c in consumers
              if str(c["name"]) != consumer and int(c["pending"]) > 0]
    if not others:
        return []
    async with redis.pipeline(transaction=False) as pipe:
        for name in others:
            pipe.exists(keys.alert_heartbeat(name))
        alive = await pipe.execute()
    claimed: list[Claimed] = []
    for name, live in zip(others, alive, strict=True):
        if live or len(claimed) >= count:
            continue
        rows: Any = await redis.xpending_range(stream, group, "-", "+", count - len(claimed),
                                               consumername=name)
        if not rows:
            await redis.xgroup_delconsumer(stream, group, name)
            continue
        ids = [r["message_id"] for r in rows]
        times = {r["message_id"]: int(r["times_delivered"]) for r in rows}
        entries: Any = await redis.xclaim(stream, group, consumer, 0, ids)
        found = {str(i): f for i, f in entries}
        for entry_id in ids:  # an id deleted from the stream is claimed without fields
            claimed.append(Claimed(str(entry_id), found.get(str(entry_id)),
                                   times[entry_id] + 1, name))
        logger.warning("reclaimed %d entries of dead worker %s stream=%s", len(ids), name,
                       stream.rsplit(":", 1)[-1])
    return claimed
