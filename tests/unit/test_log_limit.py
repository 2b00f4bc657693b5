"""Repeated identical warnings are one line per minute; different ones are all kept."""

from __future__ import annotations

import logging

from bot.log_limit import RepeatLimit


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def record(msg: str, *args: object, level: int = logging.WARNING) -> logging.LogRecord:
    return logging.LogRecord("bot.telegram.webhook", level, __file__, 1, msg, args, None)


def test_2000_wrong_secret_posts_log_one_line_then_a_count() -> None:
    clock = Clock()
    limit = RepeatLimit(60.0, clock)
    text = "telegram webhook: rejected a request with a %s secret from %s"
    passed = [r for _ in range(2000) if limit.filter(r := record(text, "wrong", "10.0.0.1"))]
    assert len(passed) == 1
    clock.now = 61.0
    [summary] = [r for r in [record(text, "wrong", "10.0.0.1")] if limit.filter(r)]
    assert summary.getMessage().endswith("(1999 identical lines suppressed)")


def test_different_messages_and_info_lines_are_never_dropped() -> None:
    limit = RepeatLimit(60.0, Clock())
    assert all(limit.filter(record("rejected from %s", f"10.0.0.{n}")) for n in range(50))
    assert all(limit.filter(record("collected", level=logging.INFO)) for _ in range(50))
