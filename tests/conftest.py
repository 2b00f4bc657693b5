"""Shared fixtures: real Redis (required in CI), the embedded store, a replay app."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import fakeredis
import pytest
from redis.asyncio import Redis
from redis.exceptions import ConnectionError as RedisConnectionError

from bot.app import App, build_app
from services.keys import Keys
from services.settings import Secrets, Settings, load_settings
from services.store import MetricStore

ROOT = Path(__file__).resolve().parent.parent
REDIS_URL = os.environ.get("FLOWWATCH_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


@pytest.fixture
def settings() -> Settings:
    return load_settings(ROOT / "config.yaml")


async def connect_real_redis() -> Redis:
    """A real Redis server; in CI its absence fails the test instead of skipping it."""
    client = Redis.from_url(REDIS_URL, decode_responses=True)
    try:
        await client.ping()
    except (RedisConnectionError, OSError) as exc:
        await client.aclose()
        message = f"real Redis not reachable at {REDIS_URL}: {exc}"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return client


async def drop_prefix(client: Redis, prefix: str) -> None:
    keys = [k async for k in client.scan_iter(match=f"{prefix}*", count=500)]
    if keys:
        await client.delete(*keys)


@pytest.fixture
async def real_redis() -> AsyncIterator[Redis]:
    client = await connect_real_redis()
    yield client
    await client.aclose()


@pytest.fixture
def test_prefix() -> str:
    return f"fwtest:{uuid.uuid4().hex[:12]}:"


@pytest.fixture
async def clean_real_redis(real_redis: Redis, test_prefix: str) -> AsyncIterator[Redis]:
    yield real_redis
    await drop_prefix(real_redis, test_prefix)


@pytest.fixture(params=["real", "embedded"])
async def store(request: pytest.FixtureRequest, test_prefix: str) -> AsyncIterator[MetricStore]:
    """The metric store on a real Redis server and on the embedded one alike."""
    if request.param == "real":
        redis = await connect_real_redis()
        yield MetricStore(redis, Keys(test_prefix))
        await drop_prefix(redis, test_prefix)
        await redis.aclose()
    else:
        fake = fakeredis.FakeAsyncRedis(decode_responses=True)
        yield MetricStore(fake, Keys(test_prefix))
        await fake.aclose()


@pytest.fixture
async def replay_app(settings: Settings) -> AsyncIterator[App]:
    """A replay app at the default as-of date on the embedded store, already collected."""
    app = await build_app(settings, Secrets(), redis=fakeredis.FakeAsyncRedis(
        decode_responses=True))
    await app.refresh()
    yield app
    await app.aclose()
