"""Connect to Redis, or to an embedded in-process store with the same API."""

from __future__ import annotations

import logging

from redis.asyncio import Redis
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

logger = logging.getLogger(__name__)


def connect_redis(url: str | None) -> Redis:
    if url:
        # A restarted server closes every pooled connection: retry a command on a fresh one
        # (briefly) instead of failing the first command per connection. A hung server costs
        # a command at most three socket timeouts (~6 s); the timeout stays above the
        # outbox's blocking read (XREADGROUP BLOCK 1 s).
        return Redis.from_url(
            url, decode_responses=True, health_check_interval=30,
            retry=Retry(ExponentialBackoff(cap=0.5, base=0.05), 2),
            retry_on_error=[RedisConnectionError, RedisTimeoutError],
            socket_connect_timeout=2.0, socket_timeout=2.0)
    import fakeredis  # noqa: PLC0415 - only needed in embedded mode

    logger.warning("store: embedded in-process Redis, not persistent (set REDIS_URL to persist)")
    return fakeredis.FakeAsyncRedis(decode_responses=True)
