"""Connect to Redis from one URL: a single node, a Cluster, a Sentinel group, or embedded.

    redis://[:password@]host:port/db                  one node (also rediss://, unix://)
    redis+cluster://[:password@]host:port,host:port   a Cluster, from any of its nodes
    redis+sentinel://[:password@]host:port,host:port/service[/db]   a Sentinel group
    (no URL)                                          embedded in-process store (fakeredis)

`rediss+cluster://` and `rediss+sentinel://` use TLS; `redis-cluster://` and
`redis-sentinel://` are accepted spellings. The client, not the caller, follows the data:
MOVED/ASK redirections and a cluster failover are redis-py's cluster client's, a Sentinel
failover (an old master back as a READONLY replica) its Sentinel pool's. Both retry a
command through a failover (a few seconds) instead of reporting an outage.

Every client is typed `Redis`: the cluster client has the same command API for what the
bot uses (keys in one slot per command, transaction or script), which is what the test
matrix (single node, Cluster, Sentinel) checks.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from typing import Any, cast
from urllib.parse import parse_qs, unquote

from redis.asyncio import BlockingConnectionPool, Redis
from redis.asyncio.cluster import ClusterNode, RedisCluster
from redis.asyncio.connection import SSLConnection
from redis.asyncio.retry import Retry
from redis.asyncio.sentinel import Sentinel, SentinelManagedConnection
from redis.backoff import ExponentialBackoff
from redis.exceptions import ClusterDownError, TryAgainError
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

logger = logging.getLogger(__name__)

# A burst of commands waits (up to POOL_WAIT_S) for one of POOL_SIZE connections instead of
# failing with MaxConnectionsError, which users would see as "temporarily unavailable".
POOL_SIZE = 64
POOL_WAIT_S = 5.0
SOCKET_TIMEOUT_S = 2.0
# A failover (cluster-node-timeout or Sentinel down-after-milliseconds, then the election)
# takes a few seconds: retry a command for about 10 s (backoff 0.05 s doubling up to 1 s).
FAILOVER_RETRIES = 14
CLUSTER_SCHEMES = ("redis+cluster", "rediss+cluster", "redis-cluster")
SENTINEL_SCHEMES = ("redis+sentinel", "rediss+sentinel", "redis-sentinel")


class RedisUrlError(ValueError):
    """REDIS_URL cannot be used; the message says why in one line."""


@dataclass(frozen=True)
class RedisUrl:
    """A parsed multi-host URL (cluster or Sentinel)."""

    scheme: str
    hosts: list[tuple[str, int]]
    path: list[str] = field(default_factory=list)
    username: str | None = None
    password: str | None = None
    options: dict[str, str] = field(default_factory=dict)

    @property
    def tls(self) -> bool:
        return self.scheme.startswith("rediss")


def parse_url(url: str) -> RedisUrl:
    scheme, sep, rest = url.partition("://")
    if not sep:
        raise RedisUrlError("REDIS_URL: expected scheme://host:port, e.g. redis://127.0.0.1:6379/0")
    rest, _, query = rest.partition("?")
    netloc, _, path = rest.partition("/")
    userinfo, at, hostlist = netloc.rpartition("@")
    if not at:
        hostlist = netloc
    username, _, password = userinfo.partition(":")
    hosts = [_host(h, scheme) for h in hostlist.split(",") if h]
    if not hosts:
        raise RedisUrlError(f"REDIS_URL: no host in {scheme}:// URL")
    options = {k: v[-1] for k, v in parse_qs(query).items()}
    return RedisUrl(scheme.lower(), hosts, [p for p in path.split("/") if p],
                    unquote(username) or None, unquote(password) or None, options)


def _host(text: str, scheme: str) -> tuple[str, int]:
    host, _, port = text.rpartition(":")
    if not host:
        host, port = text, ""
    if port and not port.isdigit():
        raise RedisUrlError(f"REDIS_URL: bad port {port[:10]!r} in {scheme[:20]}:// URL")
    default = 26379 if "sentinel" in scheme else 6379
    return host.strip("[]"), int(port) if port else default


def _retry(retries: int) -> Retry:
    return Retry(ExponentialBackoff(cap=1.0 if retries > 2 else 0.5, base=0.05), retries)


def _common(parsed: RedisUrl | None = None) -> dict[str, Any]:
    common: dict[str, Any] = {
        "decode_responses": True, "socket_connect_timeout": SOCKET_TIMEOUT_S,
        "socket_timeout": SOCKET_TIMEOUT_S}
    if parsed is not None:
        common |= {"username": parsed.username, "password": parsed.password}
        if parsed.tls:
            common["ssl"] = True
    return common


class FailoverCluster(RedisCluster):
    """redis-py's cluster client, waiting out a failover: its own retries re-read the slot
    map at once, before a replica has taken over (cluster-node-timeout and an election, a
    few seconds), so a command is retried here with backoff, as the Sentinel client's are.
    And a fresh client reads the slot map before its first commands run: 24 concurrent
    first commands lost connections mid-handshake (and re-applied some) as the map came in."""

    async def execute_command(self, *args: Any, **kwargs: Any) -> Any:
        delays = iter(_backoff(FAILOVER_RETRIES))
        while True:
            try:
                if self._initialize:  # first use: read the slot map once (locked) before
                    await self.initialize()  # commands run; concurrent first commands raced
                return await super().execute_command(*args, **kwargs)
            except (RedisConnectionError, RedisTimeoutError, ClusterDownError,
                    TryAgainError) as exc:
                delay = next(delays, None)
                if delay is None:
                    raise
                logger.debug("redis cluster: %s failed (%s), retrying in %.2fs", args[0], exc,
                             delay)
                await asyncio.sleep(delay)


def _backoff(retries: int) -> list[float]:
    return [min(1.0, 0.05 * 2 ** n) for n in range(retries)]


def connect_cluster(parsed: RedisUrl) -> Redis:
    cluster = FailoverCluster(
        startup_nodes=[ClusterNode(h, p) for h, p in parsed.hosts], max_connections=POOL_SIZE,
        retry=_retry(2), **_common(parsed))
    return cast(Redis, cluster)  # same command API; see the module docstring


class SentinelRedis(Redis):
    """The master of a Sentinel group; closing it also closes the sentinel connections."""

    sentinel_group: Sentinel | None = None

    async def aclose(self, close_connection_pool: bool | None = None) -> None:
        await super().aclose(close_connection_pool)
        if self.sentinel_group is not None:
            for client in self.sentinel_group.sentinels:
                await client.aclose()


class MasterConnection(SentinelManagedConnection):
    """A connection to whichever server the sentinels name master now. redis-py's Sentinel
    connection asks them only in `connect()`, but a command on a dropped connection
    reconnects through `connect_check_health()` to the old address: after a failover
    every retry went to the dead master (11 s, then an error) instead of the new one."""

    async def connect_check_health(self, check_health: bool = True,
                                   retry_socket_connect: bool = True) -> None:
        if not self.is_connected and self.connection_pool.is_master:
            self.host, self.port = await self.connection_pool.get_master_address()
        await super().connect_check_health(check_health, retry_socket_connect)


class MasterSSLConnection(MasterConnection, SSLConnection):
    pass


def connect_sentinel(parsed: RedisUrl) -> Redis:
    if not parsed.path:
        raise RedisUrlError("REDIS_URL: a redis+sentinel:// URL names its service: "
                            "redis+sentinel://host:26379,host:26380/mymaster")
    service = parsed.path[0]
    db = int(parsed.path[1]) if len(parsed.path) > 1 and parsed.path[1].isdigit() else 0
    sentinel_kwargs: dict[str, Any] = {"socket_connect_timeout": SOCKET_TIMEOUT_S,
                                       "socket_timeout": SOCKET_TIMEOUT_S,
                                       "decode_responses": True}
    if "sentinel_password" in parsed.options:
        sentinel_kwargs["password"] = parsed.options["sentinel_password"]
    sentinel = Sentinel(parsed.hosts, sentinel_kwargs=sentinel_kwargs)  # type: ignore[no-untyped-call]
    master: SentinelRedis = sentinel.master_for(
        service, redis_class=SentinelRedis, db=db,
        connection_class=MasterSSLConnection if parsed.tls else MasterConnection,
        max_connections=POOL_SIZE,
        retry=_retry(FAILOVER_RETRIES), retry_on_error=[RedisConnectionError, RedisTimeoutError],
        health_check_interval=30, **_common(parsed))
    master.sentinel_group = sentinel
    return master


def connect_single(url: str) -> Redis:
    # A restarted server closes every pooled connection: retry a command on a fresh one
    # (briefly) instead of failing the first command per connection. A hung server costs
    # a command at most three socket timeouts (~6 s); the timeout stays above the
    # outbox's blocking read (XREADGROUP BLOCK 1 s).
    try:
        pool = BlockingConnectionPool.from_url(
            url, max_connections=POOL_SIZE, timeout=POOL_WAIT_S, health_check_interval=30,
            retry=_retry(2), retry_on_error=[RedisConnectionError, RedisTimeoutError],
            **_common())
    except ValueError as exc:
        raise RedisUrlError(f"REDIS_URL: {exc}") from None
    return Redis.from_pool(pool)  # the client owns the pool: aclose() disconnects it


def connect_redis(url: str | None) -> Redis:
    """The one way every process gets its Redis client."""
    if not url:
        import fakeredis  # noqa: PLC0415 - only needed in embedded mode

        logger.warning("store: embedded in-process Redis, not persistent "
                       "(set REDIS_URL to persist)")
        return fakeredis.FakeAsyncRedis(decode_responses=True)
    scheme = url.partition("://")[0].lower()
    if scheme in CLUSTER_SCHEMES:
        return connect_cluster(parse_url(url))
    if scheme in SENTINEL_SCHEMES:
        return connect_sentinel(parse_url(url))
    if scheme in ("redis", "rediss", "unix") and "://" in url:
        return connect_single(url)
    if "://" not in url:
        parse_url(url)  # says what is missing
    raise RedisUrlError(f"REDIS_URL: unknown scheme {scheme[:20]!r}; use redis://, rediss://, "
                        "unix://, redis+cluster:// or redis+sentinel://")


def is_cluster(redis: Redis) -> bool:
    return isinstance(redis, RedisCluster)
