"""Connect to Redis, or to an embedded in-process store with the same API."""

from __future__ import annotations

import logging

from redis.asyncio import Redis

logger = logging.getLogger(__name__)


def connect_redis(url: str | None) -> Redis:
    if url:
        return Redis.from_url(url, decode_responses=True, health_check_interval=30)
    import fakeredis  # noqa: PLC0415 - only needed in embedded mode

    logger.warning("store: embedded in-process Redis, not persistent (set REDIS_URL to persist)")
    return fakeredis.FakeAsyncRedis(decode_responses=True)
