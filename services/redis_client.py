"""Connect to Redis, or to an embedded in-process store with the same API."""

from __future__ import annotations

import logging

from redis.asyncio import BlockingConnectionPool, Redis
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

logger = logging.getLogger(__name__)

# A burst of commands waits (up to POOL_WAIT_S) for one of POOL_SIZE connections instead of
# failing with MaxConnectionsError, which users would see as "temporarily unavailable".
POOL_SIZE = 64
POOL_WAIT_S = 5.0


def connect_redis(url: str | None) -> Redis:
    if url:
        # A restarted server closes every pooled connection: retry a command on a fresh one
        # (briefly) instead of failing the first command per connection. A hung server costs
        # a command at most three socket timeouts (~6 s); the timeout stays above the
        # outbox's blocking read (XREADGROUP BLOCK 1 s).
        pool = BlockingConnectionPool.from_url(
            url, max_connections=POOL_SIZE, timeout=POOL_WAIT_S,
            decode_responses=True, health_check_interval=30,
            retry=Retry(ExponentialBackoff(cap=0.5, base=0.05), 2),
            retry_on_error=[RedisConnectionError, RedisTimeoutError],
            socket_connect_timeout=2.0, socket_timeout=2.0)
        return Redis.from_pool(pool)  # the client owns the pool: aclose() disconnects it
    import fakeredis  # noqa: PLC0415 - only needed in embedded mode

    logger.warning("store: embedded in-process Redis, not persistent (set REDIS_URL to persist)")
    return fakeredis.FakeAsyncRedis(decode_responses=True)
