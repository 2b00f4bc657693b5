"""Every role starts while Redis is down and begins work once it is back.

The finding: `run` (role all) and `--role web` exited with rc=1 when Redis was down at
start. Real `python -m bot run --role ...` processes against a redis-server of the test's
own that is started only after the process is up.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path
from typing import Any

import pytest
from redis.asyncio import Redis
from redis.exceptions import RedisError

from services.alerts.events import AlertEvent
from services.alerts.outbox import RedisOutbox
from services.keys import Keys
from services.settings import Settings
from tests.reliability.redis_server import RedisServer
from tests.waiting import until_async

pytestmark = [pytest.mark.redis, pytest.mark.timeout(180)]
ROOT = Path(__file__).resolve().parents[2]


async def answers(check: Any) -> bool:
    try:
        return bool(await check())
    except RedisError:
        return False


@pytest.mark.parametrize("role", ["all", "web", "collector", "worker"])
async def test_each_role_starts_with_redis_down_and_works_once_it_is_back(
        tmp_path: Path, settings: Settings, role: str) -> None:
    server = RedisServer(tmp_path, "none")  # not started yet: the port refuses
    env = {k: v for k, v in os.environ.items()
           if not k.endswith(("_TOKEN", "_SECRET", "_KEY"))}
    env["REDIS_URL"] = server.url
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "run", "--role", role, cwd=ROOT, env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)
    # It must be up, not gone: wait for its first "store unavailable" line, then check rc.
    assert process.stdout is not None
    while b"unavailable" not in (line := await asyncio.wait_for(process.stdout.readline(), 60)):
        assert line, f"role {role} exited at start: rc={await process.wait()}"
    assert process.returncode is None
    drain = asyncio.create_task(process.stdout.read())
    await server.start()
    redis = Redis.from_url(server.url, decode_responses=True)
    keys = Keys(settings.store.prefix)
    try:
        if role == "worker":
            outbox = RedisOutbox(redis, keys)
            await outbox.append(AlertEvent("e1", "r", "firing", "console:console", "hello",
                                           "2026-05-29T00:00:00+00:00"))
            await until_async(lambda: answers(lambda: _delivered(redis, keys)), within=60)
        else:  # a collection (the collector's, or the web role's first one) is stored
            pattern = "*" + keys.snapshot("*").removeprefix(keys.prefix)  # replay keys too
            await until_async(lambda: answers(lambda: redis.keys(pattern)), within=60)
        assert process.returncode is None
    finally:
        if process.returncode is None:
            process.send_signal(signal.SIGTERM)
        await asyncio.wait_for(process.wait(), 60)
        drain.cancel()
        await redis.aclose()
        await server.stop(signal.SIGKILL)
    assert process.returncode == 0


async def _delivered(redis: Redis, keys: Keys) -> bool:
    stream = keys.alert_outbox()
    return bool(await redis.exists(stream)) and await redis.xlen(stream) == 0
