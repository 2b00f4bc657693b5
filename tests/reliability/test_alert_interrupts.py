"""Evaluation and fan-out stopped at the worst moment lose nothing and repeat nothing.

The finding: the evaluator committed every destination's new state ("firing") in one step,
then appended the outbox entries one by one, so stopping it in between lost the rest for
good (694 of 1,020 on SIGTERM, 715 on SIGKILL, 719 when Redis was SIGKILLed with AOF
`always`). Now the evaluator records one event per rule transition with the rule's state
in one script, and workers fan it out in batches, each batch written with its cursor.

Each test runs its own redis-server (AOF, appendfsync always), 3 rules that all fire and
1,000 subscribed chats, and a collector or worker in a process of its own
(alert_child.py) that stops at a chosen step and is then SIGKILLed or SIGTERMed. Then a
fresh collector pass and a fresh worker finish the job, and every (rule, chat) must be in
the outbox exactly once.
"""

from __future__ import annotations

import asyncio
import signal
import sys
import time
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from redis.asyncio import Redis

from services.alerts.delivery import DeliveryResult
from services.alerts.events import AlertEvent
from services.alerts.notifier import Notifier
from services.alerts.outbox import RedisOutbox
from services.alerts.pacing import Pacer
from services.alerts.service import AlertService
from services.keys import Keys
from services.store import MetricStore
from tests.integration.alert_fixtures import alerts_service, save_btc
from tests.reliability.alert_child import NOW, RULES
from tests.reliability.redis_server import RedisServer, running_server
from tests.waiting import until, until_async

pytestmark = pytest.mark.redis
ROOT = Path(__file__).resolve().parents[2]
PREFIX = "fwkill:"
DESTS = [f"telegram:{n}" for n in range(1000)]
BATCH = 100


@pytest.fixture
async def server(tmp_path: Path) -> AsyncIterator[RedisServer]:
    async with running_server(tmp_path, "aof") as started:
        redis = Redis.from_url(started.url, decode_responses=True)
        service = alerts_service(redis, PREFIX, *RULES)
        for start in range(0, len(DESTS), 100):
            await asyncio.gather(*(service.subscribe(d, "all") for d in DESTS[start:start + 100]))
        await save_btc(redis, PREFIX, {"2024-01-02": 80, "2024-01-03": 104})  # all 3 fire
        await redis.aclose()
        yield started


async def child(server: RedisServer, role: str, pause_at: int
                ) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable, "-m", "tests.reliability.alert_child", server.url, PREFIX, role,
        str(pause_at), str(BATCH), cwd=ROOT)


async def paused(redis: Redis, process: asyncio.subprocess.Process) -> tuple[int, int]:
    """Wait until the child says it is at its pause point (or fail if it died first); the
    outbox entries written before that step and after it."""
    waiting = asyncio.ensure_future(redis.blpop([f"{PREFIX}paused"], timeout=60))
    exited = asyncio.ensure_future(process.wait())
    done, _ = await asyncio.wait([waiting, exited], return_when=asyncio.FIRST_COMPLETED)
    exited.cancel()
    assert waiting in done and waiting.result(), f"child exited early rc={process.returncode}"
    before, after = waiting.result()[1].split(":")
    return int(before), int(after)


async def finish(redis: Redis) -> list[AlertEvent]:
    """After the restart: a fresh collector pass, a fresh worker's fan-out; the outbox."""
    service: AlertService = alerts_service(redis, PREFIX, *RULES)
    await service.evaluator(MetricStore(redis, Keys(PREFIX + "m:"))).evaluate(NOW)
    await service.fanout(RedisOutbox(redis, Keys(PREFIX)), "fresh", BATCH).drain_once()
    return await outbox(redis)


async def outbox(redis: Redis) -> list[AlertEvent]:
    rows: Any = await redis.xrange(Keys(PREFIX).alert_outbox())
    return [AlertEvent.from_fields(fields) for _, fields in rows]


def assert_each_once(events: list[AlertEvent]) -> None:
    counts = Counter((e.rule_id, e.destination) for e in events)
    expected = {(rule_id, dest) for rule_id, _ in RULES for dest in DESTS}
    assert set(counts) == expected, f"missing {len(expected - set(counts))}"
    assert max(counts.values()) == 1, f"repeated {[k for k, n in counts.items() if n > 1][:5]}"


@pytest.mark.parametrize("how", [signal.SIGKILL, signal.SIGTERM])
async def test_evaluator_stopped_mid_pass_loses_nothing(server: RedisServer,
                                                        how: signal.Signals) -> None:
    redis = Redis.from_url(server.url, decode_responses=True)
    process = await child(server, "evaluate", pause_at=2)  # at the second rule's commit
    await paused(redis, process)
    process.send_signal(how)
    rc = await asyncio.wait_for(process.wait(), 60)
    recorded = await redis.xlen(Keys(PREFIX).alert_rule_events())
    if how == signal.SIGKILL:
        assert rc == -signal.SIGKILL and recorded == 1  # only the first rule got through
    else:  # a deploy: the pass in hand is finished, then the process exits cleanly
        assert rc == 0 and recorded == len(RULES)
        assert await redis.llen(f"{PREFIX}passes") == 1
        assert await redis.get(Keys(PREFIX).leader_lock("collector")) is None  # released
    assert_each_once(await finish(redis))
    await redis.aclose()


@pytest.mark.parametrize("how", [signal.SIGKILL, signal.SIGTERM])
async def test_worker_stopped_mid_fan_out_loses_nothing(server: RedisServer,
                                                        how: signal.Signals) -> None:
    redis = Redis.from_url(server.url, decode_responses=True)
    service = alerts_service(redis, PREFIX, *RULES)
    await service.evaluator(MetricStore(redis, Keys(PREFIX + "m:"))).evaluate(NOW)
    process = await child(server, "fanout", pause_at=5)  # the 5th batch of the first event
    before, after = await paused(redis, process)
    assert 0 < before < after < len(DESTS)
    process.send_signal(how)
    rc = await asyncio.wait_for(process.wait(), 60)
    written = len(await outbox(redis))
    if how == signal.SIGKILL:  # four batches written; the fifth computed, never written
        assert rc == -signal.SIGKILL and written == before
    else:  # it writes the batch in hand, then stops
        assert rc == 0 and written == after
    assert_each_once(await finish(redis))
    await redis.aclose()


async def test_redis_killed_mid_fan_out_loses_nothing(server: RedisServer) -> None:
    redis = Redis.from_url(server.url, decode_responses=True)
    service = alerts_service(redis, PREFIX, *RULES)
    await service.evaluator(MetricStore(redis, Keys(PREFIX + "m:"))).evaluate(NOW)
    process = await child(server, "fanout", pause_at=5)
    before, _ = await paused(redis, process)
    await server.stop(signal.SIGKILL)  # AOF always: what was acknowledged is on disk
    process.kill()
    await process.wait()
    await server.start()
    await redis.aclose()
    redis = Redis.from_url(server.url, decode_responses=True)
    assert len(await outbox(redis)) == before
    assert_each_once(await finish(redis))
    await redis.aclose()


async def test_a_killed_workers_entries_go_out_within_10_s(server: RedisServer) -> None:
    """The finding: a SIGKILLed worker's entries sat idle 59-96 s while the survivor waited
    (a fixed 60 s idle time, then each send lease waited out). Now its heartbeat (5 s TTL)
    is gone: the survivor takes its entries and its leases over at once. Production
    settings here, and the survivor's wall-clock time is the measurement."""
    redis = Redis.from_url(server.url, decode_responses=True)
    outbox = RedisOutbox(redis, Keys(PREFIX))
    await outbox.ensure_group()
    events = [AlertEvent(f"ev{n}", "r", "firing", f"telegram:{n}", f"alert {n}",
                         NOW.isoformat()) for n in range(40)]
    for event in events:
        await outbox.append(event)
    process = await child(server, "worker", pause_at=4)  # 4 sends in flight, all in hand
    await paused(redis, process)
    await until_async(lambda: held_by(redis, "child-worker", len(events)))
    process.kill()
    await process.wait()
    killed_at = time.monotonic()
    recorder, stop = Recorder(), asyncio.Event()
    survivor = Notifier(outbox, {"telegram": recorder}, Pacer({}), consumer="survivor",
                        on_gone=ignore, on_migrated=ignore)
    running = asyncio.create_task(survivor.run(stop))
    await until(lambda: len(recorder.sent) >= len(events), within=30)
    took = time.monotonic() - killed_at
    stop.set()
    await running
    assert sorted(recorder.sent) == sorted(e.destination.split(":")[1] for e in events)
    assert took < 10, f"the dead worker's entries went out after {took:.1f} s"
    await redis.aclose()


async def held_by(redis: Redis, consumer: str, count: int) -> bool:
    rows: Any = await redis.xpending_range(Keys(PREFIX).alert_outbox(), "notifiers", "-", "+",
                                           count + 1, consumername=consumer)
    return len(rows) == count


async def ignore(*_args: str) -> None:
    return None


@dataclass
class Recorder:
    sent: list[str] = field(default_factory=list)

    async def send(self, chat_id: str, text: str, image: bytes | None, *,
                   idempotency_key: str = "", event: object = None) -> DeliveryResult:
        self.sent.append(chat_id)
        return DeliveryResult.ok()
