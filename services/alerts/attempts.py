"""One outbox entry's delivery: lease, pace, send, then sent/retry/migrate/gone/dead-letter.

See notifier.py for the loop that hands entries out, and for the delivery guarantees.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass

from services.alerts.delivery import DeliveryResult, Sender
from services.alerts.events import AlertEvent, destination_id, split_destination
from services.alerts.outbox import OutboxEntry, RedisOutbox
from services.alerts.outcomes import (
    AlreadySent,
    DeadLetter,
    Final,
    Gone,
    RetryIn,
    Sent,
    TryOutcome,
)
from services.alerts.pacing import Pacer
from services.clock import SYSTEM_CLOCK, Clock

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
    min_idle_ms: int = 60_000  # an entry untouched this long belongs to a stuck worker
    heartbeat_ttl_ms: int = 5_000  # a worker silent this long is dead: its entries move
    lease_ms: int = 60_000  # must exceed send_timeout_s (checked)
    # Above the platform client's own timeouts for one call (bot/telegram/transport.py,
    # 40 s in all), so a slow platform is waited for once, not timed out and sent again.
    send_timeout_s: float = 45.0
    backoff_s: float = 1.0
    backoff_max_s: float = 60.0
    concurrency: int = 4  # entries worked on at once per platform (sends, Redis connections)
    max_in_hand: int = 1000
    sent_ttl_s: int = 7 * 86_400  # how long a send lease left by a crash is kept at most
    grace_s: float = 5.0  # on stop, how long sends in flight may finish
    # After a sender died mid-send: send again (at-least-once) or dead-letter (at-most-once).
    resend_after_crash: bool = True
    # Platform-wide limits: one schedule in Redis for all workers, or 1/N in each (`workers`).
    shared_pacing: bool = True
    redis_retry_s: float = 1.0  # how often a notifier tries Redis again during an outage

    def __post_init__(self) -> None:
        if self.lease_ms <= self.send_timeout_s * 1000:
            raise ValueError(f"lease_ms ({self.lease_ms}) must exceed send_timeout_s "
                             f"({self.send_timeout_s} s): a send still running would lose "
                             "its lease and be sent twice")


@dataclass
class Attempt:
    owner: str  # the send lease's owner: this worker and entry
    chat_id: str  # changes when a group migrates
    failures: int = 0
    sends: int = 0
    migrations: int = 0
    took_over: bool = False  # from a sender that died and may have sent already


class EntryDelivery:
    """Delivers outbox entries, each to its destination; many run at once, at most
    `concurrency` per platform."""

    def __init__(self, outbox: RedisOutbox, senders: Mapping[str, Sender], pacer: Pacer, *,
                 owner: str, on_gone: OnGone, on_migrated: OnMigrated,
                 settings: NotifierSettings, charts: ChartLoader | None = None,
                 clock: Clock = SYSTEM_CLOCK) -> None:
        self.outbox, self.senders, self.pacer, self.owner = outbox, senders, pacer, owner
        self.clock = clock
        self.on_gone, self.on_migrated = on_gone, on_migrated
        self.settings, self.charts = settings, charts
        self._slots = {p: asyncio.Semaphore(settings.concurrency) for p in senders}
        self._other_slots = asyncio.Semaphore(settings.concurrency)
        self._handouts = 0

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

    async def deliver(self, entry: OutboxEntry) -> tuple[Final, int]:
        """The outcome and how many sends it took."""
        problem = self._problem(entry)
        if problem or entry.event is None:
            async with self._other_slots:
                return await self._dead(entry, problem or "unreadable entry"), 0
        platform, chat_id = split_destination(entry.event.destination)
        self._handouts += 1
        # The lease owner names this hand-out: a lease left by an earlier hand-out of the same
        # entry here (whose "sent" a failover lost) is a take-over, not a renewal.
        attempt = Attempt(f"{self.owner}:{entry.entry_id}:{self._handouts}", chat_id,
                          failures=entry.deliveries - 1)  # earlier hand-outs count as failed
        while True:
            async with self.pacer.turn(platform, attempt.chat_id), self._slots[platform]:
                # The slots also bound this worker's sends and Redis connections per platform.
                outcome = await self._attempt(entry, entry.event, platform, attempt)
            if not isinstance(outcome, RetryIn):
                return outcome, attempt.sends
            await self.clock.sleep(outcome.seconds)

    async def _attempt(self, entry: OutboxEntry, event: AlertEvent, platform: str,
                       attempt: Attempt) -> TryOutcome:
        """One try: the final outcome, or how long to wait before the next try."""
        if stop := await self._lease(entry, event, attempt):
            return stop
        leased_at = self.clock.monotonic()
        image = await self._chart(event)
        # The platform-wide slot comes last, so the send leaves on time (see pacing.py).
        await self.pacer.slot(platform, attempt.chat_id)
        if (self.clock.monotonic() - leased_at) * 1000 > self.settings.lease_ms / 2 and (
                stop := await self._lease(entry, event, attempt)):  # renew a lease grown old
            return stop
        result = await self._send(platform, attempt.chat_id, event, image)
        attempt.sends += 1
        if result.outcome == "ok":
            await self.outbox.mark_sent_and_ack(entry.entry_id, event)
            return Sent(possible_repeat=attempt.took_over)
        if result.outcome == "retry_after":  # not a failure: the platform asked us to wait
            await self.pacer.pause(platform, None if result.global_limit else attempt.chat_id,
                                   result.retry_after)
            return RetryIn(0.0)
        if result.outcome == "migrated" and attempt.migrations < MAX_MIGRATIONS:
            attempt.migrations += 1
            new = destination_id(platform, result.new_chat_id)
            await self.on_migrated(destination_id(platform, attempt.chat_id), new)
            attempt.chat_id = result.new_chat_id
            return RetryIn(0.0)
        await self.outbox.release(event, attempt.owner)
        if result.outcome == "gone":
            await self.on_gone(event.destination)
            await self.outbox.ack(entry.entry_id, event)
            return Gone()
        attempt.failures += 1
        if not result.retryable or attempt.failures >= self.settings.max_attempts:
            reason = f"{attempt.failures} failed attempts; last: {result.error or result.outcome}"
            return await self._dead(entry, reason)
        return RetryIn(self._backoff(attempt.failures))

    async def _lease(self, entry: OutboxEntry, event: AlertEvent,
                     attempt: Attempt) -> TryOutcome | None:
        """Take (or renew) the send lease; None to go on and send, else the try's result."""
        # Void: the leases of a dead worker, or of our own earlier hand-outs of this entry
        # (the notifier never hands out an entry it is still working on).
        void = (f"{entry.dead_owner}:" if entry.dead_owner
                else f"{self.owner}:{entry.entry_id}:")
        lease = await self.outbox.lease(event, attempt.owner, self.settings.lease_ms,
                                        self.settings.sent_ttl_s, void, entry.entry_id)
        if lease.status == "sent":
            await self.outbox.ack(entry.entry_id)
            return AlreadySent()
        if lease.status == "busy":  # another worker is sending, or died mid-send
            return RetryIn(max(lease.wait_ms, 20) / 1000)
        if lease.status == "taken-over" and not self.settings.resend_after_crash:
            return await self._dead(entry, "its sender died mid-send; not sent again",
                                    sender_died=True)
        attempt.took_over |= lease.status == "taken-over"
        return None

    async def _send(self, platform: str, chat_id: str, event: AlertEvent,
                    image: bytes | None) -> DeliveryResult:
        key = f"{event.event_id}:{event.destination}"
        try:
            async with asyncio.timeout(self.settings.send_timeout_s):
                return await self.senders[platform].send(chat_id, event.text, image,
                                                         idempotency_key=key, event=event)
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

    async def _dead(self, entry: OutboxEntry, reason: str, *,
                    sender_died: bool = False) -> DeadLetter:
        await self.outbox.dead_letter(entry.entry_id, entry.event, reason)
        return DeadLetter(reason, sender_died)

    def _backoff(self, failures: int) -> float:
        delay = self.settings.backoff_s * 2.0 ** (failures - 1)
        return min(self.settings.backoff_max_s, delay) * random.uniform(0.5, 1.0)
