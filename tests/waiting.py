"""Waiting on state, never on time: `until(check)` returns as soon as `check()` holds.

`check` reads what a stand-in, a store or a loop recorded. The loop gives the event loop a
turn between reads (the one poll in the suite); `within` only bounds how long a failing
test takes to say so, and is generous on purpose: a loaded machine is slow, not wrong.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar

POLL_S = 0.005
T = TypeVar("T")


async def until(check: Callable[[], T], within: float = 30.0,
                describe: Callable[[], str] = lambda: "condition not met") -> T:
    """Wait until `check()` is truthy; return what it returned."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while not (result := check()):
        if loop.time() > deadline:
            raise TimeoutError(describe())
        await asyncio.sleep(POLL_S)
    return result


async def until_async(check: Callable[[], Awaitable[object]], within: float = 30.0,
                      describe: Callable[[], str] = lambda: "condition not met") -> None:
    """`until` for a check that must await (a Redis read)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while not await check():
        if loop.time() > deadline:
            raise TimeoutError(describe())
        await asyncio.sleep(POLL_S)
