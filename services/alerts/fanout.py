"""Fan-out: each rule event becomes one outbox entry per subscriber, in batches.

A worker reads rule events through the `fanout` consumer group. For each it first takes
the rule's subscribers (Subscriptions.subscriber_batches) as the event's audience: a sorted
list, written once (a Redis SCAN cursor would not survive a restart, which reorders the
set). It then walks the audience in batches and appends a batch's entries to the delivery
outbox in the same script that advances the event's cursor (an index into the audience),
from the cursor it read (a compare-and-set): a batch is written exactly once, whoever
continues after a crash starts where the last one stopped, and two workers on one event
cannot both write a batch.
When the last batch is out the event is acknowledged and deleted with its cursor and
audience: nothing is kept per event. A slow second worker still holding the event cannot
start it again: its batch's compare-and-set finds the cursor gone, and a worker that has
not begun finds the event gone from the stream before it takes an audience. A worker that
stops (SIGTERM) finishes the batch in hand first; one that dies leaves a cursor and a
pending event that a live worker reclaims (heartbeat.py).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any, Protocol

from redis.asyncio import Redis
from redis.exceptions import ResponseError, WatchError

from services.alerts.admission import Admission
from services.alerts.events import AlertEvent, RuleEvent
from services.alerts.heartbeat import Heartbeat, reclaim_dead
from services.alerts.subscriptions import Subscriptions
from services.keys import Keys

logger = logging.getLogger(__name__)
DONE = "done"  # the cursor of an event whose every batch is out
PROGRESS_TTL_S = 86_400  # an unfinished fan-out's cursor and audience (a crash) expire


@dataclass(frozen=True)
class Progress:
    """Advance the cursor at `key` from `expected` to `next` with the batch."""

    key: str
    expected: str
    next: str
    ttl_s: int = PROGRESS_TTL_S


class DeliverySink(Protocol):
    async def append_batch(self, events: list[AlertEvent], progress: Progress) -> bool: ...


class FanOut:
    def __init__(self, redis: Redis, keys: Keys, subscriptions: Subscriptions,
                 sink: DeliverySink, admission: Admission, *, consumer: str,
                 batch_size: int = 500, group: str = "fanout") -> None:
        self.redis, self.keys, self.subscriptions = redis, keys, subscriptions
        self.sink, self.admission, self.consumer = sink, admission, consumer
        self.batch_size, self.group = batch_size, group
        self.stream = keys.alert_rule_events()
        self.heartbeat = Heartbeat(redis, keys, consumer)
        self.stopping = False  # set on SIGTERM: finish the batch in hand, then stop

    async def ensure_group(self) -> None:
        try:  # from 0: events recorded before any worker started are fanned out too
            await self.redis.xgroup_create(self.stream, self.group, id="0", mkstream=True)
        except ResponseError as exc:
            if "BUSYGROUP" not in str(exc):
                raise

    async def step(self, block_ms: int | None) -> list[AlertEvent]:
        """Fan out a dead worker's events, ours left unfinished, or new ones (waiting up to
        `block_ms` for one); returns the entries written."""
        written: list[AlertEvent] = []
        for entry_id, fields in await self._pending_or_new(block_ms):
            if self.stopping:
                break
            written += await self.fan_out(entry_id, fields)
        return written

    async def drain_once(self) -> list[AlertEvent]:
        """Fan out every event recorded so far (a dead worker's included)."""
        await self.ensure_group()
        await self.heartbeat.beat()
        written: list[AlertEvent] = []
        seen: set[str] = set()
        while batch := [e for e in await self._pending_or_new(None) if e[0] not in seen]:
            for entry_id, fields in batch:
                seen.add(entry_id)
                written += await self.fan_out(entry_id, fields)
        return written

    async def fan_out(self, entry_id: str, fields: dict[str, str] | None
                      ) -> list[AlertEvent]:
        """Continue this event's fan-out from its cursor to the end (or to a stop)."""
        try:
            event = RuleEvent.from_json(fields["event"]) if fields else None
        except (KeyError, TypeError, ValueError):
            logger.warning("fan-out: unreadable rule event entry_id=%s (dropped)", entry_id)
            event = None
        if event is None:
            await self._finish(entry_id)
            return []
        progress = self.keys.alert_fanout_progress(entry_id)
        cursor = str(await self.redis.get(progress) or "")
        if not cursor:
            cursor = await self._take_audience(entry_id, event.rule_id)
        audience = self.keys.alert_fanout_audience(entry_id)
        written: list[AlertEvent] = []
        batches = 0
        while cursor != DONE:
            start = int(cursor)
            dests = [str(d) for d in await self.redis.lrange(
                audience, start, start + self.batch_size - 1)]
            after = str(start + len(dests)) if len(dests) == self.batch_size else DONE
            out = await self.admission.admit(event, dests) if dests else []
            if not await self.sink.append_batch(out, Progress(progress, cursor, after)):
                logger.info("fan-out taken over by another worker: event_id=%s",
                            event.event_id)
                return written
            written += out
            cursor, batches = after, batches + 1
            if self.stopping and cursor != DONE:
                return written  # pending with its cursor: continued after the restart
        await self._finish(entry_id)
        logger.info("fan-out done: event_id=%s entries=%d batches=%d", event.event_id,
                    len(written), batches)
        return written

    async def _take_audience(self, entry_id: str, rule_id: str) -> str:
        """Write the rule's subscribers, sorted, as this event's audience, and set its
        cursor to 0; the cursor (someone else may have been quicker, or finished it)."""
        members: set[str] = set()
        async for batch, _ in self.subscriptions.subscriber_batches(rule_id, "",
                                                                     self.batch_size):
            members.update(batch)
        audience = sorted(members)
        progress = self.keys.alert_fanout_progress(entry_id)
        target = self.keys.alert_fanout_audience(entry_id)
        async with self.redis.pipeline(transaction=True) as pipe:
            await pipe.watch(progress)
            if cursor := await pipe.get(progress):
                return str(cursor)
            if not await pipe.xrange(self.stream, entry_id, entry_id):
                return DONE  # fanned out (or dropped) by another worker meanwhile
            pipe.multi()  # type: ignore[no-untyped-call]
            pipe.delete(target)
            for start in range(0, len(audience), 10_000):
                pipe.rpush(target, *audience[start:start + 10_000])
            pipe.expire(target, PROGRESS_TTL_S)
            pipe.set(progress, "0", ex=PROGRESS_TTL_S)
            try:
                await pipe.execute()
            except WatchError:
                return str(await self.redis.get(progress) or DONE)
        return "0"

    async def _pending_or_new(self, block_ms: int | None
                              ) -> list[tuple[str, dict[str, str] | None]]:
        claimed = await reclaim_dead(self.redis, self.keys, self.stream, self.group,
                                     self.consumer, 100)
        if claimed:
            return [(c.entry_id, c.fields) for c in claimed]
        for start, block in (("0", None), (">", block_ms)):  # ours left unfinished, new ones
            reply: Any = await self.redis.xreadgroup(self.group, self.consumer,
                                                     {self.stream: start}, count=100,
                                                     block=block)
            rows = [(i, f or None) for _, found in reply or [] for i, f in found]
            if rows:
                return rows
        return []

    async def _finish(self, entry_id: str) -> None:
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.xack(self.stream, self.group, entry_id)
            pipe.xdel(self.stream, entry_id)
            pipe.delete(self.keys.alert_fanout_progress(entry_id),
                        self.keys.alert_fanout_audience(entry_id))
            await pipe.execute()
