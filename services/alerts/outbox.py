"""The alert outbox: a Redis Stream read through a consumer group, with delivery markers.

Entries arrive in batches from the fan-out (`append_batch`, written with the fan-out's
cursor in one script) or one by one (digests). An entry stays pending until a notifier
acknowledges it, and is deleted then (bounded growth). A dead worker's entries are
reclaimed by a live one as soon as its heartbeat is gone (`reclaim_dead`), or after
`min_idle_ms` untouched (`claim_stale`, for a worker alive but stuck). Each (event,
destination) has a marker key only while its send is in flight (the send lease); it is
deleted with the entry in the transaction that acknowledges it. What was delivered is what
is no longer in the stream: a worker that still holds an entry someone else finished (it
stalled, its entry was reclaimed) finds it gone when it asks for the lease, and does not
send it again. Nothing is kept per delivered event.
"""

from __future__ import annotations

import json
import logging
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from redis.asyncio import Redis
from redis.exceptions import ResponseError

from services.alerts.events import AlertEvent
from services.alerts.fanout import Progress
from services.alerts.heartbeat import reclaim_dead
from services.keys import Keys

logger = logging.getLogger(__name__)

MAX_LENGTH = 1_000_000  # approximate cap: far beyond any backlog, bounds memory if none reads
DEAD_LETTER_MAX_LENGTH = 100_000
SENT = "sent"  # what markers held after delivery before they were deleted with the entry
# The marker holds "<owner>|<deadline ms>" while a send is in flight. An expired lease stays
# readable, so whoever takes it over knows the earlier send may have gone out. KEYS: the
# marker, the stream; ARGV: owner, lease ms, marker TTL s, void owner prefix, entry id.
_LEASE = """
local t = redis.call('time')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local held = redis.call('get', KEYS[1])
local status = 'ours'
if held == 'sent' then return {'sent', 0} end
if ARGV[5] ~= '' and #redis.call('xrange', KEYS[2], ARGV[5], ARGV[5]) == 0 then
  return {'sent', 0}
end
if held then
  local owner, deadline = string.match(held, '^(.*)|(%d+)$')
  if owner ~= ARGV[1] then
    local dead = ARGV[4] ~= '' and owner and string.sub(owner, 1, #ARGV[4]) == ARGV[4]
    if deadline and tonumber(deadline) > now and not dead then
      return {'busy', tonumber(deadline) - now}
    end
    status = 'taken-over'
  end
end
redis.call('set', KEYS[1], ARGV[1] .. '|' .. (now + tonumber(ARGV[2])), 'EX', ARGV[3])
return {status, 0}
"""
_RELEASE = """
local held = redis.call('get', KEYS[1])
if held and string.sub(held, 1, #ARGV[1] + 1) == ARGV[1] .. '|' then
  return redis.call('del', KEYS[1])
end
return 0
"""
# KEYS[1] the progress key, KEYS[2] the stream; ARGV: expected, next, ttl s, maxlen, events.
_APPEND_BATCH = """
local current = redis.call('get', KEYS[1]) or ''
if current ~= ARGV[1] then return -1 end
for i = 5, #ARGV do
  redis.call('xadd', KEYS[2], 'MAXLEN', '~', ARGV[4], '*', 'event', ARGV[i])
end
redis.call('set', KEYS[1], ARGV[2], 'EX', ARGV[3])
return #ARGV - 4
"""
LeaseStatus = Literal["ours", "taken-over", "sent", "busy"]


@dataclass(frozen=True)
class Lease:
    """The answer to a lease request: "ours" (free or renewed), "taken-over" (ours now, but a
    sender that died may have sent already), "sent" (done: the entry is no longer in the
    outbox), "busy" (wait `wait_ms`)."""

    status: LeaseStatus
    wait_ms: int = 0


@dataclass(frozen=True)
class OutboxEntry:
    entry_id: str
    event: AlertEvent | None  # None when the entry's fields cannot be read
    deliveries: int = 1  # how many times the group has handed this entry out
    dead_owner: str = ""  # the dead worker it was reclaimed from: its lease is void


@dataclass(frozen=True)
class DeadLetter:
    entry_id: str
    reason: str
    event: AlertEvent | None
    at: str


def _parse(entry_id: str, fields: dict[str, str], deliveries: int = 1,
           dead_owner: str = "") -> OutboxEntry:
    try:
        return OutboxEntry(entry_id, AlertEvent.from_fields(fields), deliveries, dead_owner)
    except (KeyError, TypeError, ValueError):
        logger.warning("outbox: unreadable entry entry_id=%s", entry_id)
        return OutboxEntry(entry_id, None, deliveries, dead_owner)


class RedisOutbox:
    def __init__(self, redis: Redis, keys: Keys, group: str = "notifiers",
                 max_length: int = MAX_LENGTH) -> None:
        self.redis, self.keys, self.group, self.max_length = redis, keys, group, max_length
        self.stream = keys.alert_outbox()
        self._lease = redis.register_script(_LEASE)
        self._release = redis.register_script(_RELEASE)
        self._append_batch = redis.register_script(_APPEND_BATCH)

    async def append(self, event: AlertEvent) -> str:
        fields: dict[Any, Any] = event.to_fields()
        return str(await self.redis.xadd(self.stream, fields, maxlen=self.max_length))

    async def append_batch(self, events: list[AlertEvent], progress: Progress) -> bool:
        """Append `events` and advance the fan-out cursor, atomically, if the cursor is
        still `progress.expected`; False (nothing written) when someone moved it first."""
        written = await self._append_batch(
            keys=[progress.key, self.stream],
            args=[progress.expected, progress.next, progress.ttl_s, self.max_length,
                  *(e.to_fields()["event"] for e in events)])
        return int(written) >= 0

    async def ensure_group(self) -> None:
        try:  # from id 0, so events appended before the first worker started are delivered
            await self.redis.xgroup_create(self.stream, self.group, id="0", mkstream=True)
        except ResponseError as exc:
            if "BUSYGROUP" not in str(exc):
                raise

    async def read(self, consumer: str, count: int, block_ms: int | None = None
                   ) -> list[OutboxEntry]:
        reply: Any = await self.redis.xreadgroup(self.group, consumer, {self.stream: ">"},
                                                 count=count, block=block_ms)
        return [_parse(i, f) for _, entries in reply or [] for i, f in entries]

    async def claim_stale(self, consumer: str, min_idle_ms: int, count: int
                          ) -> list[OutboxEntry]:
        """Take over up to `count` entries that no consumer has touched for `min_idle_ms`."""
        claimed: list[tuple[str, dict[str, str]]] = []
        start = "0-0"
        while len(claimed) < count:
            reply: Any = await self.redis.xautoclaim(
                self.stream, self.group, consumer, min_idle_ms, start, count=count - len(claimed))
            start, entries = reply[0], reply[1]
            claimed += [(i, f) for i, f in entries if f is not None]
            if start == "0-0":
                break
        async with self.redis.pipeline(transaction=False) as pipe:
            for entry_id, _ in claimed:
                pipe.xpending_range(self.stream, self.group, entry_id, entry_id, 1)
            pending = await pipe.execute()
        return [_parse(i, f, rows[0]["times_delivered"] if rows else 1)
                for (i, f), rows in zip(claimed, pending, strict=True)]

    async def reclaim_dead(self, consumer: str, count: int) -> list[OutboxEntry]:
        """Take over the entries of workers whose heartbeat is gone."""
        claimed = await reclaim_dead(self.redis, self.keys, self.stream, self.group, consumer,
                                     count)
        gone = [c.entry_id for c in claimed if c.fields is None]
        if gone:
            await self.redis.xack(self.stream, self.group, *gone)
        return [_parse(c.entry_id, c.fields, c.deliveries, c.dead_consumer)
                for c in claimed if c.fields is not None]

    async def touch(self, consumer: str, entry_ids: list[str]) -> None:
        """Reset the idle time of entries still being worked on, so no one reclaims them."""
        if entry_ids:
            ids: list[Any] = list(entry_ids)
            await self.redis.xclaim(self.stream, self.group, consumer, 0, ids, justid=True)

    async def ack(self, entry_id: str, event: AlertEvent | None = None) -> None:
        """Acknowledge and delete the entry (and its marker, given its event)."""
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.xack(self.stream, self.group, entry_id)
            pipe.xdel(self.stream, entry_id)
            if event is not None:
                pipe.delete(self._marker(event))
            await pipe.execute()

    async def lease(self, event: AlertEvent, owner: str, lease_ms: int,
                    keep_s: int = 86_400, dead_owner: str = "", entry_id: str = "") -> Lease:
        """Take or renew the send lease of this (event, destination) for `lease_ms`; a
        lease held under `dead_owner` (a prefix: a worker whose heartbeat is gone) is taken
        over. With `entry_id`, an entry no longer in the outbox answers "sent"."""
        status, wait_ms = await self._lease(keys=[self._marker(event), self.stream],
                                            args=[owner, lease_ms, keep_s, dead_owner,
                                                  entry_id])
        return Lease(status, int(wait_ms))

    async def release(self, event: AlertEvent, owner: str) -> None:
        await self._release(keys=[self._marker(event)], args=[owner])

    async def mark_sent_and_ack(self, entry_id: str, event: AlertEvent) -> None:
        """Delivered: the entry and its lease go in one transaction."""
        await self.ack(entry_id, event)

    async def dead_letter(self, entry_id: str, event: AlertEvent | None, reason: str) -> None:
        record: dict[Any, Any] = {
            "entry_id": entry_id, "reason": reason,
            "event": json.dumps(asdict(event)) if event else "",
            "at": datetime.now(UTC).isoformat(timespec="seconds")}
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.xadd(self.keys.alert_dead_letters(), record, maxlen=DEAD_LETTER_MAX_LENGTH)
            pipe.xack(self.stream, self.group, entry_id)
            pipe.xdel(self.stream, entry_id)
            if event is not None:
                pipe.delete(self._marker(event))
            await pipe.execute()

    async def pending_count(self) -> int:
        try:
            summary = await self.redis.xpending(self.stream, self.group)
        except ResponseError:  # no stream or group yet
            return 0
        return int(summary["pending"])

    async def dead_letters(self, limit: int = 20) -> list[DeadLetter]:
        """The most recent dead letters, newest first."""
        rows: Any = await self.redis.xrevrange(self.keys.alert_dead_letters(), count=limit)
        return [DeadLetter(f["entry_id"], f["reason"],
                           AlertEvent(**json.loads(f["event"])) if f.get("event") else None,
                           f["at"]) for _, f in rows or [] if f]

    def _marker(self, event: AlertEvent) -> str:
        return self.keys.alert_sent(event.event_id, event.destination)
