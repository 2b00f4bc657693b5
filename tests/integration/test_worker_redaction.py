"""A notifier worker process (`python -m tests.worker_process`) keeps every secret out of its logs.

The worker registers the environment's secrets the way `python -m bot` does, and the
password of the --redis-url it was given. Its start line names the consumer, so a consumer
name made of the secrets shows whether each was registered.
"""

from __future__ import annotations

import asyncio
import os
import sys
from urllib.parse import urlsplit

from redis.asyncio import Redis

from services.keys import Keys
from tests.conftest import REDIS_URL, ROOT
from tests.waiting import until_async

DISCORD_TOKEN = "MTA5OTk5OTk5OTk5OTk5OTk5.GsEcRt.FwWorkerDiscordTokenX7pQ"
TELEGRAM_TOKEN = "7391846205:AAFw-WorkerTelegram_q9ZxP81KmT"
FRED_KEY = "fredFwWorker0123456789abcdef"
ENV_REDIS_PASSWORD = "FwEnvRedisPassw0rd"
ARG_REDIS_PASSWORD = "FwArgRedisPassw0rd"


def with_password(url: str, password: str) -> str:
    parts = urlsplit(url)
    return parts._replace(netloc=f":{password}@{parts.hostname}:{parts.port or 6379}").geturl()


async def test_worker_logs_redact_every_secret(clean_real_redis: Redis,
                                               test_prefix: str) -> None:
    secrets = (DISCORD_TOKEN, TELEGRAM_TOKEN, FRED_KEY, ENV_REDIS_PASSWORD, ARG_REDIS_PASSWORD)
    env = os.environ | {"DISCORD_BOT_TOKEN": DISCORD_TOKEN, "TELEGRAM_BOT_TOKEN": TELEGRAM_TOKEN,
                        "FRED_API_KEY": FRED_KEY,
                        "REDIS_URL": with_password("redis://127.0.0.1:1/0", ENV_REDIS_PASSWORD)}
    consumer = "-".join(("w", *secrets))
    worker = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "tests.worker_process", "--prefix", test_prefix, "--verbose",
        "--redis-url", with_password(REDIS_URL, ARG_REDIS_PASSWORD),
        "--consumer", consumer, cwd=ROOT, env=env,
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE)
    heartbeat = Keys(test_prefix).alert_heartbeat(consumer)
    try:  # its notifier is running (it logged its start line before): its heartbeat is there
        await until_async(lambda: running(clean_real_redis, heartbeat, worker), within=30)
        assert worker.returncode is None, "the worker exited early"
    finally:
        if worker.returncode is None:
            worker.terminate()
        _, rest = await worker.communicate()
    text = rest.decode()
    assert "consumer=w-<redacted>-<redacted>-<redacted>-<redacted>-<redacted>" in text
    assert not any(secret in text for secret in secrets)


async def running(redis: Redis, heartbeat: str, worker: asyncio.subprocess.Process) -> bool:
    return worker.returncode is not None or bool(await redis.exists(heartbeat))
