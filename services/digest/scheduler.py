"""Enqueue each due daily digest into the alert outbox exactly once per local day.

Per destination whose due day (services/digest/schedule.py) is later than its last day, one
transaction WATCHes the last-day key and the subscriptions hash, re-checks both, then
appends the digest event to the outbox stream and records the day (MULTI/EXEC). Two
schedulers at once, or a crash between building and appending, can therefore neither send a
day twice nor skip it: whichever EXEC lands first wins, the other sees the day taken. A
`/digest off` or a changed schedule between the read and the EXEC aborts the append too.
The notifier then delivers it like an alert: at least once, with its idempotency marker.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from redis.exceptions import WatchError

from services.alerts.events import AlertEvent
from services.alerts.outbox import RedisOutbox
from services.clock import SYSTEM_CLOCK, wait_event
from services.clock import Clock as Timer
from services.digest.store import LAST_DAY_TTL_S, Clock, Digest, DigestStore, wall_clock
from services.errors import Unavailable

logger = logging.getLogger(__name__)

CHART = "divergence"
MAX_RETRIES = 20


@dataclass(frozen=True)
class DigestMessage:
    """A day's digest: plain text (terminal, logs) and the structured reply (JSON) that
    Telegram and Discord render as they render /brief."""

    text: str
    layout: str = ""


Compose = Callable[[date], Awaitable[DigestMessage | str]]  # local day -> the digest


def digest_event(dest: str, day: date, body: DigestMessage | str, now: datetime) -> AlertEvent:
    message = body if isinstance(body, DigestMessage) else DigestMessage(body)
    return AlertEvent(event_id=f"digest|{dest}|{day.isoformat()}", rule_id="digest",
                      kind="digest", destination=dest, text=message.text,
                      created_at=now.isoformat(timespec="seconds"), chart=CHART,
                      layout=message.layout)


class DigestScheduler:
    def __init__(self, store: DigestStore, outbox: RedisOutbox, compose: Compose,
                 clock: Clock = wall_clock, timer: Timer = SYSTEM_CLOCK) -> None:
        """`clock` says the wall-clock time a tick schedules by; `timer` waits between ticks."""
        self.store, self.outbox, self.compose, self.clock = store, outbox, compose, clock
        self.timer = timer

    async def run(self, stop: asyncio.Event, interval_s: float) -> None:
        """Tick every `interval_s` until `stop`; a failed tick is retried on the next one."""
        while not stop.is_set():
            try:
                await self.tick()
            except Unavailable as exc:  # e.g. nothing collected yet: the day stays due
                logger.warning("digest tick: brief unavailable, retrying: %s", exc)
            except Exception:
                logger.exception("digest tick failed")
            await wait_event(self.timer, stop, interval_s)

    async def tick(self, now: datetime | None = None) -> list[AlertEvent]:
        """Enqueue every digest due at `now` (default: the clock) not enqueued yet."""
        now = now or self.clock()
        due = await self._due(now)
        texts: dict[date, DigestMessage | str] = {}  # one brief per local day per tick
        enqueued = []
        for dest, (raw, day) in due.items():
            if day not in texts:
                texts[day] = await self.compose(day)
            event = digest_event(dest, day, texts[day], now)
            if await self._claim(dest, raw, day, event, append=True):
                logger.info("digest enqueued dest=%s day=%s", dest, day)
                enqueued.append(event)
        return enqueued

    async def take_due(self, dest: str, now: datetime | None = None) -> AlertEvent | None:
        """Claim `dest`'s due digest without the outbox, for a caller that shows it itself
        (the terminal chat is its own destination)."""
        now = now or self.clock()
        due = (await self._due(now, only=dest)).get(dest)
        if due is None:
            return None
        event = digest_event(dest, due[1], await self.compose(due[1]), now)
        return event if await self._claim(dest, due[0], due[1], event, append=False) else None

    async def _due(self, now: datetime, only: str = "") -> dict[str, tuple[str, date]]:
        """destination -> (subscription JSON, due day) for days later than the last sent."""
        subs: dict[str, tuple[str, Digest]] = await self.store.all()
        if only:
            subs = {d: s for d, s in subs.items() if d == only}
        days = {dest: (raw, day) for dest, (raw, digest) in subs.items()
                if (day := digest.due_day(now)) is not None}
        last = await self.store.last_days(list(days))
        return {dest: (raw, day) for dest, (raw, day) in days.items()
                if last.get(dest, "") < day.isoformat()}

    async def _claim(self, dest: str, raw: str, day: date, event: AlertEvent,
                     append: bool) -> bool:
        """Record `day` for `dest` (and append `event`) in one transaction, if still due."""
        redis, last_key = self.store.redis, self.store.keys.digest_last_day(dest)
        for _ in range(MAX_RETRIES):
            async with redis.pipeline(transaction=True) as pipe:
                await pipe.watch(last_key, self.store.hash)
                last = await pipe.get(last_key)
                if await pipe.hget(self.store.hash, dest) != raw or (
                        last is not None and str(last) >= day.isoformat()):
                    return False  # switched off, rescheduled, or taken by another scheduler
                pipe.multi()  # type: ignore[no-untyped-call]
                if append:
                    fields: dict[Any, Any] = event.to_fields()
                    pipe.xadd(self.outbox.stream, fields, maxlen=self.outbox.max_length)
                pipe.set(last_key, day.isoformat(), ex=LAST_DAY_TTL_S)
                try:
                    await pipe.execute()
                except WatchError:  # another subscription changed: look again
                    continue
                return True
        logger.warning("digest: subscriptions kept changing; retrying next tick dest=%s", dest)
        return False
