"""SIGKILL a real worker process mid fan-out: another worker finishes, and nothing is lost.

Worker A (`python -m tests.worker_process`) delivers 1,000 events to a slow stand-in and is killed
after some hundreds; worker B reclaims A's pending entries. The stand-in never deduplicates,
so a send repeated by the crash shows up. Exactly-once to an external API is impossible
without the receiver's help: the sends A had in flight at the kill were accepted but never
recorded as sent. By default B sends them again under the same idempotency key (nothing
lost; every repeat is one of those in-flight sends, counted by B as a possible repeat, and
a receiver honouring the key sees each alert once); with --no-resend-after-crash B
dead-letters them instead (no repeats; nothing silently dropped). The test prints the
measured counts.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import signal
import sys
import time
from collections import Counter
from pathlib import Path

import pytest
from redis.asyncio import Redis

from services.alerts.events import AlertEvent
from services.alerts.outbox import RedisOutbox
from services.keys import Keys
from tests.conftest import REDIS_URL, ROOT
from tests.integration.delivery_standin import DeliveryStandin
from tests.waiting import until_async

pytestmark = pytest.mark.timeout(180)  # worker processes; 20 s seen on a loaded machine
EVENTS = 1000
KILL_AFTER = 300
CONCURRENCY = 4  # per platform, so at most 2 * 4 sends are in flight at the kill
SEND_DELAY_S = 0.02


async def start_worker(name: str, url: str, prefix: str, log: Path,
                       *extra: str) -> asyncio.subprocess.Process:
    with log.open("w") as stderr:
        return await asyncio.create_subprocess_exec(
            sys.executable, "-m", "tests.worker_process", "--redis-url", REDIS_URL,
            "--prefix", prefix,
            "--consumer", name, "--http-sender-url", url, "--concurrency", str(CONCURRENCY),
            "--min-idle-ms", "1000", "--lease-ms", "1500", "--send-timeout", "1",
            "--pacing-speedup", "100", "--verbose", *extra, cwd=ROOT,
            stdout=asyncio.subprocess.DEVNULL, stderr=stderr)


async def stop(process: asyncio.subprocess.Process) -> None:
    if process.returncode is None:
        process.terminate()
    await process.wait()


async def settled(outbox: RedisOutbox, standin: DeliveryStandin, expected: set[str]) -> bool:
    letters = await outbox.dead_letters(limit=EVENTS)
    done = {r.key for r in standin.delivered()} | {
        f"{d.event.event_id}:{d.event.destination}" for d in letters if d.event}
    return done >= expected and await outbox.pending_count() == 0


@pytest.mark.parametrize("mode", ["resend", "at-most-once"])
async def test_sigkilled_worker_loses_nothing(clean_real_redis: Redis, test_prefix: str,
                                              tmp_path: Path, mode: str) -> None:
    outbox = RedisOutbox(clean_real_redis, Keys(test_prefix))
    await outbox.ensure_group()
    events = [AlertEvent(f"ev{n}", "r1", "firing", f"{('telegram', 'discord')[n % 2]}:{n}",
                         f"alert {n}", "2026-05-29T10:00:00+00:00") for n in range(EVENTS)]
    for e in events:
        await outbox.append(e)
    expected = {f"{e.event_id}:{e.destination}" for e in events}
    extra = ["--no-resend-after-crash"] if mode == "at-most-once" else []

    async with DeliveryStandin(delay_s=SEND_DELAY_S) as standin:
        a = await start_worker("A", standin.url, test_prefix, tmp_path / "a.log", *extra)
        try:
            await standin.wait_for(KILL_AFTER, timeout_s=15)
            a.send_signal(signal.SIGKILL)
            killed_at = time.monotonic()
            await a.wait()
            by_a, left_by_a = len(standin.delivered()), await outbox.pending_count()
            b_started = time.monotonic()
            b = await start_worker("B", standin.url, test_prefix, tmp_path / "b.log",
                                   "--counts-file", str(tmp_path / "b.json"), *extra)
            try:
                with contextlib.suppress(TimeoutError):  # the checks below say what is off
                    await until_async(lambda: settled(outbox, standin, expected), within=60)
            finally:
                await stop(b)
        finally:
            await stop(a)
    assert b.returncode == 0  # SIGTERM stops a worker gracefully

    delivered = standin.delivered()
    repeated = [k for k, n in Counter(r.key for r in delivered).items() if n > 1]
    first_sent = {r.key: r.at for r in reversed(delivered)}
    b_counts = json.loads((tmp_path / "b.json").read_text())  # written on its graceful stop
    flagged = b_counts["possible_repeats"] + b_counts["not_resent"]
    letters = await outbox.dead_letters(limit=EVENTS)
    assert KILL_AFTER <= by_a < EVENTS and left_by_a >= EVENTS - by_a
    assert await outbox.pending_count() == 0
    assert all(r.key.split(":", 1)[1] == f"{r.platform}:{r.chat_id}" for r in delivered)
    # A sent each repeat just before it died (requests A had written may reach the stand-in
    # a moment after the kill), then B sent it again; B counted every such possible repeat.
    assert all(killed_at - 0.5 < first_sent[k] < b_started for k in repeated)
    assert len(repeated) == standin.repeats() <= flagged <= 2 * CONCURRENCY
    if mode == "resend":  # at-least-once: every alert reached the stand-in
        assert {r.key for r in delivered} == expected
        assert letters == []
    else:  # at-most-once: no repeats; entries whose sender died are dead-lettered, not lost
        assert repeated == []
        assert len(letters) == flagged
        assert {r.key for r in delivered} | {
            f"{d.event.event_id}:{d.event.destination}" for d in letters if d.event} == expected
    missing = len(expected - {r.key for r in delivered})
    print(f"\nfan-out crash ({mode}): A delivered {by_a} before SIGKILL, B reclaimed "
          f"{left_by_a} pending; {len(delivered)} accepted sends for {EVENTS} events, "
          f"{standin.repeats()} raw repeats, {flagged} flagged by B, {len(letters)} "
          f"dead-lettered, {missing} never reached the stand-in")
