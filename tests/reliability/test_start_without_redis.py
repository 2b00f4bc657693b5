"""Every role starts while Redis is down and begins work once it is back.

The finding: `run` (role all) and `--role web` exited with rc=1 when Redis was down at
start. Real `python -m bot run --role ...` processes: first a listener on the Redis port
that drops every connection (the test waits until the process has tried twice and is still
up), then a redis-server of the test's own on that port.
"""

from __future__ import annotations

import asyncio
import os
import signal
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from redis.asyncio import Redis
from redis.exceptions import RedisError

from services.alerts.events import AlertEvent
from services.alerts.outbox import RedisOutbox
from services.keys import Keys
from services.settings import Settings
from tests.processes import python_process
from tests.reliability.redis_server import RedisServer
from tests.waiting import until, until_async

pytestmark = [pytest.mark.redis, pytest.mark.timeout(180)]


async def answers(check: Any) -> bool:
    try:
        return bool(await check())
    except RedisError:
        return False


@asynccontextmanager
async def redis_down(port: int) -> AsyncIterator[list[int]]:
    """Redis down on `port`: a listener that closes every connection at once (what a client
    sees of a server that is not there), recording each attempt; closed on the way out so
    the real server can take the port."""
    attempts: list[int] = []

    async def refuse(_reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        attempts.append(len(attempts) + 1)
        writer.close()

    listener = await asyncio.start_server(refuse, "127.0.0.1", port)
    try:
        yield attempts
    finally:
        listener.close()
        await listener.wait_closed()


@pytest.mark.parametrize("role", ["all", "web", "collector", "worker"])
async def test_each_role_starts_with_redis_down_and_works_once_it_is_back(
        tmp_path: Path, settings: Settings, role: str) -> None:
    server = RedisServer(tmp_path, "none")  # not started yet: its port refuses
    env = {k: v for k, v in os.environ.items()
           if not k.endswith(("_TOKEN", "_SECRET", "_KEY"))}
    env["REDIS_URL"] = server.url
    async with python_process("-m", "bot", "run", "--role", role, env=env) as bot:
        async with redis_down(server.port) as attempts:  # it tries, fails, and stays up
            await until(lambda: len(attempts) >= 2 or bot.gone, within=60)
            assert not bot.gone, f"role {role} exited at start:\n{await bot.printed()}"
        await server.start()
        redis = Redis.from_url(server.url, decode_responses=True)
        keys = Keys(settings.store.prefix)
        try:
            if role == "worker":
                outbox = RedisOutbox(redis, keys)
                await outbox.append(AlertEvent("e1", "r", "firing", "console:console",
                                               "hello", "2026-05-29T00:00:00+00:00"))
                await until_async(lambda: answers(lambda: _delivered(redis, keys)), within=60)
            else:  # a collection (the collector's, or the web role's first one) is stored
                pattern = "*" + keys.snapshot("*").removeprefix(keys.prefix)  # replay keys too
                await until_async(lambda: answers(lambda: redis.keys(pattern)), within=60)
            assert not bot.gone
            text = await bot.stop()
        finally:
            await redis.aclose()
            await server.stop(signal.SIGKILL)
    assert bot.process.returncode == 0, text


async def _delivered(redis: Redis, keys: Keys) -> bool:
    stream = keys.alert_outbox()
    return bool(await redis.exists(stream)) and await redis.xlen(stream) == 0
