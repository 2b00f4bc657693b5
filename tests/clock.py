"""A manual clock for tests: time moves only when the test says so.

`sleep()` parks the caller until `advance()` moves the clock past its deadline; `sleepers`
says how many are parked, so a test can wait until the code under test is idle on the clock
before it advances (instead of guessing with a real sleep).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import TypeVar

from tests.waiting import until

T = TypeVar("T")


class ManualClock:
    def __init__(self, start: float = 1_000.0) -> None:
        self.now = start
        self._sleeping: list[tuple[float, asyncio.Future[None]]] = []

    def monotonic(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        future = asyncio.get_running_loop().create_future()
        if seconds <= 0:  # a bare yield, as asyncio.sleep(0) is
            asyncio.get_running_loop().call_soon(_resolve, future)
        else:
            self._sleeping.append((self.now + seconds, future))
        await future

    @property
    def sleepers(self) -> int:
        self._sleeping = [(t, f) for t, f in self._sleeping if not f.done()]
        return len(self._sleeping)

    def waits(self) -> list[float]:
        """How long each parked sleeper has still to wait."""
        return sorted(t - self.now for t, f in self._sleeping if not f.done())

    def next_deadline(self) -> float | None:
        return min((t for t, f in self._sleeping if not f.done()), default=None)

    def advance(self, seconds: float) -> None:
        """Move time on and wake every sleeper whose deadline has come."""
        self.now += seconds
        for deadline, future in self._sleeping:
            if deadline <= self.now:
                _resolve(future)
        self._sleeping = [(t, f) for t, f in self._sleeping if not f.done()]

    def advance_to_next(self) -> float:
        """Jump to the earliest deadline (waking its sleepers); how far it moved."""
        deadline = self.next_deadline()
        step = 0.0 if deadline is None else max(0.0, deadline - self.now)
        self.advance(step)
        return step


def _resolve(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)


async def drive(clock: ManualClock, work: Awaitable[T]) -> tuple[T, list[float]]:
    """Run `work` to its end, moving `clock` on to the next deadline whenever the code under
    test is parked on it; return its result and each step the clock took."""
    task = asyncio.ensure_future(work)
    steps: list[float] = []
    while not task.done():
        await until(lambda: clock.sleepers or task.done())
        if not task.done():
            steps.append(clock.advance_to_next())
    return task.result(), steps
