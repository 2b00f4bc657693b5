"""Fair replies: each chat's sends wait in that chat's own queue, not in the bot's update slots.

PTB handles at most `concurrent_updates` updates at once. A handler that awaited its chat's
pacing (1 message/s per chat, 20/min per group) held one of those slots meanwhile, so one
chat sending 60 commands took all 32 and every other chat waited behind it (67.5 s for a
`/btc`). Now a handler computes its reply and hands the send to its chat's queue, which
frees the slot at once; a queue sends its chat's replies in order, one at a time, and ends
when empty. A busy chat waits only on itself; other chats' replies go out within their own
and the bot's overall budget.
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter, deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

logger = logging.getLogger(__name__)

Send = Callable[[], Awaitable[object]]
OnError = Callable[[str, BaseException], Awaitable[None]]
MAX_QUEUED_PER_CHAT = 200  # beyond this a chat's further replies are dropped (logged)
DRAIN_GRACE_S = 10.0


@dataclass
class _ChatQueue:
    sends: deque[Send] = field(default_factory=deque)
    task: asyncio.Task[None] | None = None


class ChatQueues:
    """Per-chat FIFO send queues, each drained by its own task while it has work."""

    def __init__(self, on_error: OnError, max_per_chat: int = MAX_QUEUED_PER_CHAT) -> None:
        self.on_error = on_error
        self.max_per_chat = max_per_chat
        self._queues: dict[str, _ChatQueue] = {}
        self.dropped: Counter[str] = Counter()  # replies dropped per chat (its queue was full)
        self._idle = asyncio.Event()
        self._idle.set()

    def submit(self, chat_id: int | str, send: Send) -> bool:
        """Queue one send for `chat_id`; False (and a warning) when its queue is full."""
        key = str(chat_id)
        queue = self._queues.setdefault(key, _ChatQueue())
        if len(queue.sends) >= self.max_per_chat:
            logger.warning("telegram: reply dropped, chat=%s has %d replies queued", key,
                           len(queue.sends))
            self.dropped[key] += 1
            return False
        queue.sends.append(send)
        if queue.task is None:
            self._idle.clear()
            queue.task = asyncio.create_task(self._drain(key, queue),
                                             name=f"telegram-replies-{key}")
        return True

    def discard(self, chat_id: int | str) -> int:
        """Forget a chat's queued sends (it blocked the bot); returns how many."""
        queue = self._queues.get(str(chat_id))
        if queue is None:
            return 0
        dropped = len(queue.sends)
        queue.sends.clear()
        return dropped

    def queued(self, chat_id: int | str) -> int:
        queue = self._queues.get(str(chat_id))
        return len(queue.sends) if queue else 0

    async def _drain(self, key: str, queue: _ChatQueue) -> None:
        try:
            while queue.sends:
                send = queue.sends.popleft()
                try:
                    await send()
                except Exception as exc:  # one reply's failure never stops the chat's queue
                    await self._report(key, exc)
        finally:
            queue.task = None
            if not queue.sends:
                self._queues.pop(key, None)
            if not self._queues:
                self._idle.set()

    async def _report(self, key: str, exc: Exception) -> None:
        try:
            await self.on_error(key, exc)
        except Exception:
            logger.exception("telegram: reply error handler failed in chat=%s", key)

    async def drain(self, grace_s: float = DRAIN_GRACE_S) -> None:
        """On stop: let queued replies go out for up to `grace_s`, then cancel the rest."""
        try:
            await asyncio.wait_for(self._idle.wait(), grace_s)
        except TimeoutError:
            left = sum(len(q.sends) for q in self._queues.values())
            logger.warning("telegram: stopping with %d replies unsent", left)
        tasks = [q.task for q in self._queues.values() if q.task is not None]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
