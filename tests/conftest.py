"""Shared fixtures: real Redis (required in CI), the Redis test matrix (one node, a Cluster,
a Sentinel group), the embedded store, a replay app."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from datetime import date
from pathlib import Path

import fakeredis
import pytest
from redis.asyncio import Redis
from redis.exceptions import ConnectionError as RedisConnectionError

from bot.app import App, build_app
from services.keys import Keys
from services.redis_client import connect_redis
from services.settings import Secrets, Settings, StoreSettings, load_settings
from services.store import MetricStore
from tests.redis_topology import Cluster, SentinelGroup, running_cluster, running_sentinel_group

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


# The Redis test matrix: "real" (the one node at REDIS_URL), "cluster" (3 masters with a
# replica each) and "sentinel" (1 master, 1 replica, 3 sentinels), the latter two started by
# the session from the installed redis-server. In CI a topology that cannot start fails.
REDIS_KINDS = ("real", "cluster", "sentinel")


@pytest.fixture(scope="session")
def redis_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    with running_cluster(tmp_path_factory.mktemp("redis-cluster")) as cluster:
        yield cluster


@pytest.fixture(scope="session")
def redis_sentinel(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SentinelGroup]:
    with running_sentinel_group(tmp_path_factory.mktemp("redis-sentinel")) as group:
        yield group


async def connect_kind(request: pytest.FixtureRequest, kind: str) -> Redis:
    """A client of the matrix's `kind`, through connect_redis as every process gets one."""
    if kind == "real":
        return await connect_real_redis()
    topology: Cluster | SentinelGroup = request.getfixturevalue(f"redis_{kind}")
    client = connect_redis(topology.url)
    await client.ping()
    return client


@pytest.fixture(params=REDIS_KINDS)
async def matrix_redis(request: pytest.FixtureRequest, test_prefix: str
                       ) -> AsyncIterator[Redis]:
    """Real Redis as one node, a Cluster and a Sentinel group: the core tests run on each."""
    client = await connect_kind(request, request.param)
    yield client
    await drop_prefix(client, test_prefix)
    await client.aclose()


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


@pytest.fixture(params=[*REDIS_KINDS, "embedded"])
async def store(request: pytest.FixtureRequest, test_prefix: str) -> AsyncIterator[MetricStore]:
    """The metric store on every kind of real Redis and on the embedded one alike."""
    if request.param != "embedded":
        redis = await connect_kind(request, request.param)
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


@asynccontextmanager
async def collected_app(settings: Settings, prefix: str, asof: date | None = None
                        ) -> AsyncIterator[App]:
    """A replay app on the real Redis server, collected once, whose keys (alerts and the
    outbox included) live under `prefix` and are dropped afterwards."""
    redis = await connect_real_redis()
    isolated = settings.model_copy(update={"store": StoreSettings(prefix=prefix)})
    built = await build_app(isolated, Secrets(), asof, redis=redis)
    try:
        await built.refresh()
        yield built
    finally:
        await drop_prefix(redis, prefix)
        await built.aclose()
