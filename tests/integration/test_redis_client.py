"""connect_redis: one URL for a single node, a Cluster or a Sentinel group, and failover.

Against the session's Cluster (3 masters, 3 replicas) and, for failover, Sentinel groups and
clusters of the test's own (a killed master is not given back).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from redis.asyncio import Redis
from redis.asyncio.cluster import RedisCluster
from redis.exceptions import ConnectionError as RedisConnectionError

from services.redis_client import RedisUrlError, connect_redis, parse_url
from tests.redis_topology import Cluster, running_cluster, running_sentinel_group

pytestmark = pytest.mark.redis


def test_urls_name_every_host_and_the_service() -> None:
    cluster = parse_url("redis+cluster://:s%40cret@10.0.0.1:7000,10.0.0.2")
    assert cluster.hosts == [("10.0.0.1", 7000), ("10.0.0.2", 6379)]
    assert cluster.password == "s@cret" and not cluster.tls
    sentinel = parse_url("rediss+sentinel://a:26380,b/mymaster/2?sentinel_password=x")
    assert sentinel.hosts == [("a", 26380), ("b", 26379)]
    assert sentinel.path == ["mymaster", "2"] and sentinel.tls
    assert sentinel.options == {"sentinel_password": "x"}


@pytest.mark.parametrize(("url", "says"), [
    ("memcached://h:1", "unknown scheme 'memcached'"),
    ("redis+cluster://", "no host"),
    ("redis+cluster://h:port", "bad port 'port'"),
    ("redis+sentinel://h:26379", "names its service"),
    ("localhost:6379", "expected scheme://host:port"),
])
def test_a_bad_url_is_one_line_naming_the_problem(url: str, says: str) -> None:
    with pytest.raises(RedisUrlError, match=says) as caught:
        connect_redis(url)
    assert "\n" not in str(caught.value) and str(caught.value).startswith("REDIS_URL:")


async def test_every_node_of_a_cluster_serves_every_key(redis_cluster: Cluster,
                                                        test_prefix: str) -> None:
    """Each node alone as the URL: keys owned by other nodes are followed (MOVED)."""
    keys = [f"{test_prefix}{{s{n}}}:k" for n in range(30)]  # spread over every master
    for node in redis_cluster.nodes:
        client = connect_redis(f"redis+cluster://{node.address}")
        try:
            assert isinstance(client, RedisCluster)
            for key in keys:
                await client.set(key, node.address, ex=60)
            assert {await client.get(k) for k in keys} == {node.address}
            owners = {client.get_node_from_key(k).name for k in keys}
            assert len(owners) == 3  # the keys really live on three masters
        finally:
            await client.delete(*keys)
            await client.aclose()


async def _writes_survive(client: Redis, prefix: str, kill: object) -> list[str]:
    """Write, let it reach the replica, kill the master, write again: both are there."""
    await client.set(f"{prefix}{{f}}:before", "1")
    await replicated(client)
    assert callable(kill)
    kill()
    await _write_through_failover(client, f"{prefix}{{f}}:after")
    return [str(v) for v in await client.mget(f"{prefix}{{f}}:before", f"{prefix}{{f}}:after")]


async def replicated(client: Redis, tries: int = 10) -> None:
    """The writes so far reached a replica (WAIT; each try shorter than a socket timeout),
    so a failover cannot lose them."""
    for _ in range(tries):
        if await client.wait(1, 1000) >= 1:
            return
    raise AssertionError("no replica acknowledged the writes")


async def _write_through_failover(client: Redis, key: str) -> None:
    # One command retries for ~10 s (the client's failover budget); a loaded machine may need
    # the election a little longer, so give it three budgets before calling it an outage.
    for attempt in range(3):
        try:
            await client.set(key, "1")
            return
        except RedisConnectionError:
            if attempt == 2:
                raise


async def test_sentinel_failover_moves_writes_to_the_new_master(tmp_path: Path,
                                                                test_prefix: str) -> None:
    with running_sentinel_group(tmp_path) as group:
        client = connect_redis(group.url)
        try:
            assert await _writes_survive(client, test_prefix, group.master.kill) == ["1", "1"]
            address = await client.connection_pool.get_master_address()  # type: ignore[attr-defined]
            assert int(address[1]) == group.replica.port  # promoted; no READONLY on the old one
        finally:
            await client.aclose()


async def test_cluster_failover_keeps_the_slot_writable(tmp_path: Path,
                                                        test_prefix: str) -> None:
    with running_cluster(tmp_path) as cluster:
        client = connect_redis(cluster.url)
        try:
            assert isinstance(client, RedisCluster)
            await client.ping()
            owner = client.get_node_from_key(f"{test_prefix}{{f}}:before")
            master = next(n for n in cluster.nodes if n.port == owner.port)
            assert await _writes_survive(client, test_prefix, master.kill) == ["1", "1"]
            assert client.get_node_from_key(f"{test_prefix}{{f}}:after").port != master.port
        finally:
            await client.aclose()
