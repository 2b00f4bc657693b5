"""The notifier: takes alert events from the outbox and delivers each to its destination.

Per entry: wait for the chat's turn and one of its platform's send slots; take the send
lease on the (event, destination) marker, which also tells whether it was sent already (then
just XACK); right before the send, take the platform-wide pacing slot (one schedule in Redis
shared by all workers, see pacing.py); send; on success write "sent" and XACK in one
transaction. Each worker keeps a heartbeat; a worker whose heartbeat is gone is dead, and a
live one takes its entries over at once, its send leases included (`reclaim_dead`, within
about the heartbeat's 5 s TTL). Entries in hand are also touched, so that only an entry
untouched for `min_idle_ms` (a worker alive but stuck) is taken by `claim_stale`.

The same loop runs the fan-out (fanout.py): rule events become one entry per subscriber.

The crash window: a worker killed after the platform accepted a message but before the
"sent" transaction leaves its lease behind. The reclaiming worker waits the lease out, then
sends again: at-least-once, because a lost alert is worse than a repeated one. Only the sends
in flight at the moment of the crash (at most `concurrency` per platform) can repeat; they
are logged as "sent:possible-repeat" (Sent.possible_repeat), and so is an entry a worker
takes back from itself after a failover lost its ack (each hand-out leases under its own
name, so an earlier one's lease is a take-over, not a renewal). A receiver that honours the
idempotency key ("<event_id>:<destination>") drops them. Telegram and Discord cannot;
where a repeat is worse than a miss, `resend_after_crash=False` dead-letters those entries
instead (at-most-once).
A send that timed out is just as ambiguous and is retried like a 5xx.

Each platform has its own send slots, and every entry is its own task, so a platform that
is failing or rate-limited never holds up another.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections import deque
from collections.abc import Mapping

from redis.exceptions import RedisError

from services.alerts.attempts import (
    ChartLoader,
    EntryDelivery,
    NotifierSettings,
    OnGone,
    OnMigrated,
)
from services.alerts.delivery import Sender
from services.alerts.fanout import FanOut
from services.alerts.heartbeat import Heartbeat
from services.alerts.outbox import OutboxEntry, RedisOutbox
from services.alerts.outcomes import DeadLetter, DeliveryCounts, Final
from services.alerts.pacing import Pacer, SharedSchedule
from services.clock import SYSTEM_CLOCK, Clock, wait_any, wait_event

logger = logging.getLogger(__name__)


class Notifier:
    """Hands outbox entries to EntryDelivery, one task each, and keeps them claimed."""

    def __init__(self, outbox: RedisOutbox, senders: Mapping[str, Sender], pacer: Pacer, *,
                 consumer: str, on_gone: OnGone, on_migrated: OnMigrated,
                 settings: NotifierSettings | None = None,
                 charts: ChartLoader | None = None, clock: Clock = SYSTEM_CLOCK,
                 fanout: FanOut | None = None) -> None:
        self.outbox, self.consumer, self.clock, self.fanout = outbox, consumer, clock, fanout
        self.settings = settings or NotifierSettings()
        self.heartbeat = Heartbeat(outbox.redis, outbox.keys, consumer,
                                   self.settings.heartbeat_ttl_ms, clock)
        if self.settings.shared_pacing:
            pacer.share(SharedSchedule(outbox.redis, outbox.keys, clock=pacer.clock))
        self.delivery = EntryDelivery(
            outbox, dict(senders), pacer, on_gone=on_gone, on_migrated=on_migrated,
            owner=f"{consumer}:{uuid.uuid4().hex[:8]}",  # unique even if a name is reused
            settings=self.settings, charts=charts, clock=clock)
        self._tasks: dict[str, asyncio.Task[None]] = {}
        # The latest outcomes, newest last: what an operator (or a test) reads back.
        self.recent: deque[tuple[OutboxEntry, Final]] = deque(maxlen=1000)
        self.counts = DeliveryCounts()  # every final outcome since start
        self._next_claim = self._next_reclaim = 0.0
        self.redis_down = False  # between a failed Redis call and the next one that works

    async def run(self, stop: asyncio.Event) -> None:
        """Fan out and deliver until `stop`. Redis being down (at start too) is waited out
        with one warning per outage; a consumer group lost with the data (NOGROUP) is
        re-created. On stop the fan-out finishes its batch in hand."""
        toucher = asyncio.create_task(self._touch_forever())
        beating = asyncio.create_task(self.heartbeat.run())
        fanning = (asyncio.create_task(self._fan_out_forever(self.fanout, stop))
                   if self.fanout else None)
        grouped, down = False, False
        try:
            while not stop.is_set():
                try:
                    if not grouped:
                        await self.outbox.ensure_group()
                        grouped = True
                    await self._fill(self.settings.block_ms)
                except RedisError as exc:
                    grouped = grouped and "NOGROUP" not in str(exc)
                    if not down:
                        logger.warning("notifier: Redis unavailable consumer=%s: %s",
                                       self.consumer, exc)
                    down = self.redis_down = True
                    await self.clock.sleep(self.settings.redis_retry_s)
                else:
                    if down:
                        logger.info("notifier: Redis back consumer=%s", self.consumer)
                    down = self.redis_down = False
        finally:
            if fanning is not None and self.fanout is not None:
                self.fanout.stopping = True
                await wait_any(self.clock, self.settings.grace_s, fanning)
                fanning.cancel()
            await self._finish(toucher, self.settings.grace_s)
            beating.cancel()
            await asyncio.gather(beating, return_exceptions=True)
            await self.heartbeat.stop()

    async def _fan_out_forever(self, fanout: FanOut, stop: asyncio.Event) -> None:
        grouped = False
        while not stop.is_set():
            try:
                if not grouped:
                    await fanout.ensure_group()
                    grouped = True
                await fanout.step(self.settings.block_ms)
            except RedisError as exc:  # the delivery loop logs the outage once
                grouped = grouped and "NOGROUP" not in str(exc)
                logger.debug("fan-out: Redis unavailable: %s", exc)
                await wait_event(self.clock, stop, self.settings.redis_retry_s)
            except Exception:
                logger.exception("fan-out failed; retrying")
                await wait_event(self.clock, stop, self.settings.redis_retry_s)

    async def drain_once(self) -> int:
        """Fan out every rule event, then deliver everything in the outbox now (stale
        entries included); return how many entries were delivered."""
        if self.fanout is not None:
            await self.fanout.drain_once()
        await self.outbox.ensure_group()
        await self.heartbeat.beat()
        self._next_claim = self._next_reclaim = 0.0
        self.redis_down = False  # between a failed Redis call and the next one that works
        toucher = asyncio.create_task(self._touch_forever())
        handled = 0
        try:
            while True:
                added = await self._fill(None)
                handled += added
                if not added and not self._tasks:
                    return handled
                if not added:
                    await asyncio.wait(list(self._tasks.values()),
                                       return_when=asyncio.FIRST_COMPLETED)
        finally:
            await self._finish(toucher, 0.0)

    async def _fill(self, block_ms: int | None) -> int:
        room = self.settings.max_in_hand - len(self._tasks)
        added = 0
        if room > 0 and self.clock.monotonic() >= self._next_reclaim:
            self._next_reclaim = self.clock.monotonic() + self.settings.heartbeat_ttl_ms / 5000
            added += self._dispatch(await self.outbox.reclaim_dead(self.consumer, room))
            room = self.settings.max_in_hand - len(self._tasks)
        if room > 0 and self.clock.monotonic() >= self._next_claim:
            self._next_claim = self.clock.monotonic() + self.settings.min_idle_ms / 2000
            added += self._dispatch(await self.outbox.claim_stale(
                self.consumer, self.settings.min_idle_ms, room))
            room = self.settings.max_in_hand - len(self._tasks)
        if room <= 0:
            if block_ms and self._tasks:
                await wait_any(self.clock, block_ms / 1000, *self._tasks.values())
            return added
        count = min(self.settings.batch, room)
        return added + self._dispatch(await self.outbox.read(self.consumer, count, block_ms))

    def _dispatch(self, entries: list[OutboxEntry]) -> int:
        fresh = [e for e in entries if e.entry_id not in self._tasks]
        for entry in fresh:
            self._tasks[entry.entry_id] = asyncio.create_task(self._handle(entry))
        return len(fresh)

    async def _touch_forever(self) -> None:
        while True:
            await self.clock.sleep(self.settings.min_idle_ms / 3000)
            try:
                await self.outbox.touch(self.consumer, list(self._tasks))
            except RedisError as exc:
                logger.warning("notifier: could not touch entries in hand: %s", exc)

    async def _finish(self, toucher: asyncio.Task[None], grace_s: float) -> None:
        toucher.cancel()
        tasks = [toucher, *self._tasks.values()]
        if grace_s > 0 and self._tasks:
            await asyncio.wait(list(self._tasks.values()), timeout=grace_s)
        for task in tasks:
            task.cancel()  # unfinished entries stay pending; another worker reclaims them
        await asyncio.gather(*tasks, return_exceptions=True)

    async def _handle(self, entry: OutboxEntry) -> None:
        event_id = entry.event.event_id if entry.event else "-"
        destination = entry.event.destination if entry.event else "-"
        try:
            outcome, sends = await self.delivery.deliver(entry)
        except Exception:  # isolate: one entry's trouble never stops the others
            logger.exception("alert delivery event_id=%s destination=%s outcome=error "
                             "entry_id=%s (left pending)", event_id, destination, entry.entry_id)
        else:
            self.recent.append((entry, outcome))
            self.counts.record(outcome)
            level = logging.WARNING if isinstance(outcome, DeadLetter) else logging.INFO
            logger.log(level, "alert delivery event_id=%s destination=%s outcome=%s sends=%d "
                       "entry_id=%s", event_id, destination, outcome.label, sends,
                       entry.entry_id)
        finally:
            self._tasks.pop(entry.entry_id, None)
