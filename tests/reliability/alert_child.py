"""A collector (evaluator) or a worker (fan-out) in a process of its own, for kill tests.

    python -m tests.reliability.alert_child URL PREFIX evaluate|fanout|worker PAUSE_AT [BATCH]

The production classes, with one hook: at the PAUSE_AT-th rule commit (evaluate) or fan-out
batch (fanout) or send (worker, whose platform then never answers), after the work of
that step is computed but before it is written, the child
pushes to `<PREFIX>paused` how many outbox entries were written before that step and would
be after it, and waits. The parent then kills it there (SIGKILL: the step is never
written) or stops it (SIGTERM: it must finish the step, and the evaluator its whole pass,
then exit 0). The parent waits on that list, never on the clock.
"""

from __future__ import annotations

import asyncio
import signal
import sys
from datetime import UTC, datetime
from typing import Any

from redis.asyncio import Redis

from services.alerts.leader import LeaderLock
from services.alerts.notifier import Notifier
from services.alerts.outbox import RedisOutbox
from services.alerts.pacing import Pacer
from services.keys import Keys
from services.store import MetricStore
from tests.integration.alert_fixtures import alerts_service

NOW = datetime(2024, 1, 3, 12, tzinfo=UTC)
RULES = [(f"r{i}", f"btc.price above {90 + i}") for i in range(3)]


async def nothing(*_args: str) -> None:
    return None


async def main(url: str, prefix: str, role: str, pause_at: int, batch: int) -> int:
    redis = Redis.from_url(url, decode_responses=True)
    service = alerts_service(redis, prefix, *RULES)
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    steps = entries = 0

    async def maybe_pause(adding: int = 0) -> None:
        """At the chosen step, tell the parent how many entries were written before it
        and how many after it, then wait."""
        nonlocal steps, entries
        steps += 1
        if steps == pause_at:
            await redis.rpush(f"{prefix}paused", f"{entries}:{entries + adding}")
            await stop.wait()  # SIGKILL ends the process here; SIGTERM lets it go on
        entries += adding

    if role == "evaluate":
        evaluator = service.evaluator(MetricStore(redis, Keys(prefix + "m:")))
        commit = evaluator.states.commit

        async def paused_commit(*args: Any) -> Any:
            await maybe_pause()
            return await commit(*args)

        evaluator.states.commit = paused_commit  # type: ignore[method-assign]
        lock = LeaderLock(redis, Keys(prefix), "collector", "child")
        lock.drain_s = 5.0  # as run_collector sets it

        async def one_pass() -> None:
            await evaluator.evaluate(NOW, lock.fence())
            await redis.rpush(f"{prefix}passes", "1")
            await stop.wait()

        await lock.run_as_leader(one_pass, stop)
    elif role == "worker":  # delivers, but its platform never answers: killed mid-send
        hung = asyncio.Event()

        class Hung:
            async def send(self, *args: Any, **kwargs: Any) -> Any:
                await maybe_pause()
                await hung.wait()

        notifier = Notifier(RedisOutbox(redis, Keys(prefix)), {"telegram": Hung()},
                            Pacer({}), consumer="child-worker", on_gone=nothing,
                            on_migrated=nothing)
        await notifier.run(stop)
    else:
        fanout = service.fanout(RedisOutbox(redis, Keys(prefix)), "child", batch)
        admit = fanout.admission.admit

        async def paused_admit(*args: Any) -> Any:
            out = await admit(*args)
            await maybe_pause(len(out))
            return out

        fanout.admission.admit = paused_admit  # type: ignore[method-assign]
        asyncio.get_running_loop().add_signal_handler(
            signal.SIGTERM, lambda: (stop.set(), setattr(fanout, "stopping", True)))
        await fanout.ensure_group()
        while not fanout.stopping:
            await fanout.step(200)
    await redis.aclose()
    return 0


if __name__ == "__main__":
    url, prefix, role, pause_at = sys.argv[1:5]
    batch = int(sys.argv[5]) if len(sys.argv) > 5 else 100
    sys.exit(asyncio.run(main(url, prefix, role, int(pause_at), batch)))
