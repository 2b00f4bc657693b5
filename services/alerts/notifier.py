"""The notifier: takes alert events from the outbox and delivers each to its destination.

Per entry: wait for the chat's turn and one of its platform's send slots; take the send
lease on the (event, destination) marker, which also tells whether it was sent already (then
just XACK); right before the send, take the platform-wide pacing slot (one schedule in Redis
shared by all workers, see pacing.py); send; on success write "sent" and XACK in one
transaction. Entries in hand are touched so no other worker reclaims them; a dead worker's
entries go idle and `claim_stale` hands them to a live one.

The crash window: a worker killed after the platform accepted a message but before the
"sent" transaction leaves its lease behind. The reclaiming worker waits the lease out, then
sends again: at-least-once, because a lost alert is worse than a repeated one. Only the sends
in flight at the moment of the crash (at most `concurrency` per platform) can repeat; they
are logged as "sent:possible-repeat", and a receiver that honours the idempotency key
("<event_id>:<destination>") drops them. Telegram and Discord cannot; where a repeat is worse
than a miss, `resend_after_crash=False` dead-letters those entries instead (at-most-once).
A send that timed out is just as ambiguous and is retried like a 5xx.

Each platform has its own send slots, and every entry is its own task, so a platform that
is failing or rate-limited never holds up another.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
import uuid
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass

from redis.exceptions import RedisError

from services.alerts.delivery import DeliveryResult, Sender
from services.alerts.events import AlertEvent, destination_id, split_destination
from services.alerts.outbox import OutboxEntry, RedisOutbox
from services.alerts.pacing import Pacer, SharedSchedule

logger = logging.getLogger(__name__)

OnGone = Callable[[str], Awaitable[None]]  # (destination)
OnMigrated = Callable[[str, str], Awaitable[None]]  # (old destination, new destination)
ChartLoader = Callable[[AlertEvent], Awaitable[bytes | None]]
MAX_MIGRATIONS = 3


@dataclass(frozen=True)
class NotifierSettings:
    max_attempts: int = 5  # failed sends (5xx, timeouts) before an entry is dead-lettered
    batch: int = 100
    block_ms: int = 1000
    min_idle_ms: int = 60_000  # an entry untouched this long belongs to a dead worker
    lease_ms: int = 30_000  # must exceed send_timeout_s
    send_timeout_s: float = 20.0
    backoff_s: float = 1.0
    backoff_max_s: float = 60.0
    concurrency: int = 4  # entries worked on at once per platform (sends, Redis connections)
    max_in_hand: int = 1000
    sent_ttl_s: int = 7 * 86_400
    grace_s: float = 5.0  # on stop, how long sends in flight may finish
    # After a sender died mid-send: send again (at-least-once) or dead-letter (at-most-once).
    resend_after_crash: bool = True
    # Platform-wide limits: one schedule in Redis for all workers, or 1/N in each (`workers`).
    shared_pacing: bool = True


@dataclass
class _Attempt:
    owner: str  # the send lease's owner: this worker and entry
    chat_id: str  # changes when a group migrates
    failures: int = 0
    sends: int = 0
    migrations: int = 0
    took_over: bool = False  # from a sender that died and may have sent already


class Notifier:
    def __init__(self, outbox: RedisOutbox, senders: Mapping[str, Sender], pacer: Pacer, *,
                 consumer: str, on_gone: OnGone, on_migrated: OnMigrated,
                 settings: NotifierSettings | None = None,
                 charts: ChartLoader | None = None) -> None:
        self.outbox, self.senders, self.pacer = outbox, dict(senders), pacer
        self.consumer, self.on_gone, self.on_migrated = consumer, on_gone, on_migrated
        self.settings = settings or NotifierSettings()
        self.charts = charts
        self.owner = f"{consumer}:{uuid.uuid4().hex[:8]}"  # unique even if a name is reused
        if self.settings.shared_pacing:
            pacer.share(SharedSchedule(outbox.redis, outbox.keys, clock=pacer.clock))
        self._slots = {p: asyncio.Semaphore(self.settings.concurrency) for p in self.senders}
        self._other_slots = asyncio.Semaphore(self.settings.concurrency)
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self._next_claim = 0.0

    async def run(self, stop: asyncio.Event) -> None:
        """Deliver until `stop`. Redis being down (at start too) is waited out with one
        warning per outage; a consumer group lost with the data (NOGROUP) is re-created."""
        toucher = asyncio.create_task(self._touch_forever())
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
                    down = True
                    await asyncio.sleep(1.0)
                else:
                    if down:
                        logger.info("notifier: Redis back consumer=%s", self.consumer)
                    down = False
        finally:
            await self._finish(toucher, self.settings.grace_s)

    async def drain_once(self) -> int:
        """Deliver everything in the outbox now (stale entries included); return how many."""
        await self.outbox.ensure_group()
        self._next_claim = 0.0
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
        if room > 0 and time.monotonic() >= self._next_claim:
            self._next_claim = time.monotonic() + self.settings.min_idle_ms / 2000
            added += self._dispatch(await self.outbox.claim_stale(
                self.consumer, self.settings.min_idle_ms, room))
            room = self.settings.max_in_hand - len(self._tasks)
        if room <= 0:
            if block_ms and self._tasks:
                await asyncio.wait(list(self._tasks.values()), timeout=block_ms / 1000,
                                   return_when=asyncio.FIRST_COMPLETED)
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
            await asyncio.sleep(self.settings.min_idle_ms / 3000)
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
            outcome, sends = await self._deliver(entry)
        except Exception:  # isolate: one entry's trouble never stops the others
            logger.exception("alert delivery event_id=%s destination=%s outcome=error "
                             "entry_id=%s (left pending)", event_id, destination, entry.entry_id)
        else:
            level = logging.WARNING if outcome.startswith("dead") else logging.INFO
            logger.log(level, "alert delivery event_id=%s destination=%s outcome=%s sends=%d "
                       "entry_id=%s", event_id, destination, outcome, sends, entry.entry_id)
        finally:
            self._tasks.pop(entry.entry_id, None)

    def _problem(self, entry: OutboxEntry) -> str:
        """Why this entry can never be delivered, or ''."""
        if entry.event is None:
            return "unreadable entry"
        if entry.deliveries > self.settings.max_attempts:
            return f"handed out {entry.deliveries} times, never acked"
        try:
            platform, _ = split_destination(entry.event.destination)
        except ValueError as exc:
            return str(exc)
        return "" if platform in self.senders else f"no sender for platform {platform!r}"

    async def _deliver(self, entry: OutboxEntry) -> tuple[str, int]:
        problem = self._problem(entry)
        if problem or entry.event is None:
            async with self._other_slots:
                return await self._dead(entry, problem or "unreadable entry"), 0
        platform, chat_id = split_destination(entry.event.destination)
        attempt = _Attempt(f"{self.owner}:{entry.entry_id}", chat_id,
                           failures=entry.deliveries - 1)  # earlier hand-outs count as failed
        while True:
            async with self.pacer.turn(platform, attempt.chat_id), self._slots[platform]:
                # The slots also bound this worker's sends and Redis connections per platform.
                outcome, wait_s = await self._attempt(entry, entry.event, platform, attempt)
            if outcome:
                return outcome, attempt.sends
            await asyncio.sleep(wait_s)

    async def _attempt(self, entry: OutboxEntry, event: AlertEvent, platform: str,
                       attempt: _Attempt) -> tuple[str, float]:
        """One try: the final outcome, or '' and how long to wait before the next try."""
        if stop := await self._lease(entry, event, attempt):
            return stop
        leased_at = time.monotonic()
        image = await self._chart(event)
        # The platform-wide slot comes last, so the send leaves on time (see pacing.py).
        await self.pacer.slot(platform, attempt.chat_id)
        if (time.monotonic() - leased_at) * 1000 > self.settings.lease_ms / 2 and (
                stop := await self._lease(entry, event, attempt)):  # renew a lease grown old
            return stop
        result = await self._send(platform, attempt.chat_id, event, image)
        attempt.sends += 1
        if result.outcome == "ok":
            await self.outbox.mark_sent_and_ack(entry.entry_id, event, self.settings.sent_ttl_s)
            return "sent:possible-repeat" if attempt.took_over else "sent", 0.0
        if result.outcome == "retry_after":  # not a failure: the platform asked us to wait
            await self.pacer.pause(platform, None if result.global_limit else attempt.chat_id,
                                   result.retry_after)
            return "", 0.0
        if result.outcome == "migrated" and attempt.migrations < MAX_MIGRATIONS:
            attempt.migrations += 1
            new = destination_id(platform, result.new_chat_id)
            await self.on_migrated(destination_id(platform, attempt.chat_id), new)
            attempt.chat_id = result.new_chat_id
            return "", 0.0
        await self.outbox.release(event, attempt.owner)
        if result.outcome == "gone":
            await self.on_gone(event.destination)
            await self.outbox.ack(entry.entry_id)
            return "gone", 0.0
        attempt.failures += 1
        if not result.retryable or attempt.failures >= self.settings.max_attempts:
            reason = f"{attempt.failures} failed attempts; last: {result.error or result.outcome}"
            return await self._dead(entry, reason), 0.0
        return "", self._backoff(attempt.failures)

    async def _lease(self, entry: OutboxEntry, event: AlertEvent,
                     attempt: _Attempt) -> tuple[str, float] | None:
        """Take (or renew) the send lease; None to go on and send, else the try's result."""
        lease = await self.outbox.lease(event, attempt.owner, self.settings.lease_ms,
                                        self.settings.sent_ttl_s)
        if lease.status == "sent":
            await self.outbox.ack(entry.entry_id)
            return "skipped:already-sent", 0.0
        if lease.status == "busy":  # another worker is sending, or died mid-send
            return "", max(lease.wait_ms, 20) / 1000
        if lease.status == "taken-over" and not self.settings.resend_after_crash:
            return await self._dead(entry, "its sender died mid-send; not sent again"), 0.0
        attempt.took_over |= lease.status == "taken-over"
        return None

    async def _send(self, platform: str, chat_id: str, event: AlertEvent,
                    image: bytes | None) -> DeliveryResult:
        key = f"{event.event_id}:{event.destination}"
        try:
            async with asyncio.timeout(self.settings.send_timeout_s):
                return await self.senders[platform].send(chat_id, event.text, image,
                                                         idempotency_key=key)
        except TimeoutError:
            return DeliveryResult.failed("send timed out")
        except Exception as exc:  # a sender bug is one failed attempt, not a dead worker
            logger.exception("sender %s raised event_id=%s", platform, event.event_id)
            return DeliveryResult.failed(f"{type(exc).__name__}: {exc}")

    async def _chart(self, event: AlertEvent) -> bytes | None:
        if self.charts is None or not event.chart:
            return None
        try:
            return await self.charts(event)
        except Exception:  # the text alone is still worth sending
            logger.exception("chart %r failed event_id=%s", event.chart, event.event_id)
            return None

    async def _dead(self, entry: OutboxEntry, reason: str) -> str:
        await self.outbox.dead_letter(entry.entry_id, entry.event, reason)
        return f"dead-lettered reason={reason!r}"

    def _backoff(self, failures: int) -> float:
        delay = self.settings.backoff_s * 2.0 ** (failures - 1)
        return min(self.settings.backoff_max_s, delay) * random.uniform(0.5, 1.0)
