"""Repeated identical warnings, rate-limited: one line per message per window.

2,000 webhook posts with a wrong secret logged 2,000 identical warnings in 3 s. This filter,
on every root handler, lets the first of a run of identical WARNING-or-above messages (same
logger, level and text) through, drops the repeats for `window_s`, and adds to the next one
let through how many were dropped. Different messages are never merged.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

WINDOW_S = 60.0
MAX_KEYS = 10_000  # distinct messages remembered; the oldest are forgotten first


class RepeatLimit(logging.Filter):
    def __init__(self, window_s: float = WINDOW_S,
                 clock: Callable[[], float] = time.monotonic) -> None:
        super().__init__()
        self.window_s, self.clock = window_s, clock
        self._seen: dict[tuple[str, int, str], tuple[float, int]] = {}  # -> (since, dropped)

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno < logging.WARNING:
            return True
        key = (record.name, record.levelno, record.getMessage())
        now = self.clock()
        since, dropped = self._seen.get(key, (-self.window_s - 1, 0))
        if now - since < self.window_s:
            self._seen[key] = (since, dropped + 1)
            return False
        if len(self._seen) >= MAX_KEYS:
            self._seen.pop(next(iter(self._seen)))
        self._seen.pop(key, None)
        self._seen[key] = (now, 0)
        if dropped:
            record.msg = f"{record.getMessage()} ({dropped} identical lines suppressed)"
            record.args = None
        return True


def limit_repeats(window_s: float = WINDOW_S) -> None:
    """Install the filter on the root logger's console handlers (the one basicConfig made;
    a test harness's capturing handlers, subclasses, are left alone)."""
    for handler in logging.getLogger().handlers:
        if type(handler) is logging.StreamHandler and not any(
                isinstance(f, RepeatLimit) for f in handler.filters):
            handler.addFilter(RepeatLimit(window_s))
