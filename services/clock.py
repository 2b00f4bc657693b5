"""Time, injected: anything that waits, expires or schedules takes a `Clock`.

Production uses `SYSTEM_CLOCK` (the monotonic clock and asyncio's timers); tests pass a
manual clock they advance, so nothing in a test waits on the wall clock.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable
from typing import Any, Protocol


class Clock(Protocol):
    def monotonic(self) -> float: ...

    async def sleep(self, seconds: float) -> None: ...


class SystemClock:
    def monotonic(self) -> float:
        return time.monotonic()

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)


SYSTEM_CLOCK: Clock = SystemClock()


async def wait_any(clock: Clock, timeout_s: float, *waits: Awaitable[Any]) -> None:
    """Return when one of `waits` is done or `timeout_s` has passed on `clock`.

    The awaitables are not cancelled (a task goes on running); the timer is.
    """
    timer = asyncio.ensure_future(clock.sleep(timeout_s))
    futures = [asyncio.ensure_future(w) for w in waits]
    try:
        await asyncio.wait([timer, *futures], return_when=asyncio.FIRST_COMPLETED)
    finally:
        timer.cancel()


async def wait_event(clock: Clock, event: asyncio.Event, timeout_s: float) -> bool:
    """Wait for `event` at most `timeout_s` on `clock`; whether it is set."""
    waiter = asyncio.ensure_future(event.wait())
    try:
        await wait_any(clock, timeout_s, waiter)
    finally:
        waiter.cancel()
    return event.is_set()
