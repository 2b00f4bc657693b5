"""Subscriptions keyed per chat and per shard of chats, on one node, a Cluster and Sentinel.

A rule's subscribers are spread over SUBSCRIBER_SHARDS sets with their own hash tags; a
chat's own keys share its tag. Removing or moving a chat touches only those.
"""

from __future__ import annotations

import pytest
from redis.asyncio import Redis
from redis.asyncio.cluster import RedisCluster

from services.keys import SUBSCRIBER_SHARDS, Keys, subscriber_shard
from tests.integration.alert_fixtures import alerts_service

pytestmark = pytest.mark.redis
RULES = (("btc-100", "btc.price crosses_above 100"), ("eth-5", "eth.price above 5"))
CHATS = [f"telegram:{n}" for n in range(2000)]


async def test_a_rules_subscribers_spread_evenly_over_shards(matrix_redis: Redis,
                                                             test_prefix: str) -> None:
    service = alerts_service(matrix_redis, test_prefix, *RULES)
    subs, keys = service.subscriptions, Keys(test_prefix)
    async with matrix_redis.pipeline(transaction=False) as pipe:  # 2,000 /subscribe all
        for chat in CHATS:
            pipe.sadd(keys.alert_chat_rules(chat), "btc-100")
            pipe.sadd(keys.alert_subscriber_set("btc-100", chat), chat)
        await pipe.execute()
    sizes = [await matrix_redis.scard(k) for k in keys.alert_subscriber_shards("btc-100")]
    assert sum(sizes) == len(CHATS)
    assert max(sizes) <= 2 * len(CHATS) / SUBSCRIBER_SHARDS  # no shard over 2x its share
    batches = [b async for b in subs.subscriber_batches("btc-100", "", 100)]
    assert sorted(d for b, _ in batches for d in b) == sorted(CHATS)  # each once
    assert max(len(b) for b, _ in batches) <= 2 * 100 and batches[-1][1] == ""
    # A fan-out resumed from any batch's cursor gives exactly the rest.
    _, cursor = batches[len(batches) // 2]
    rest = [d async for b, _ in subs.subscriber_batches("btc-100", cursor, 100) for d in b]
    assert sorted(rest) == sorted(d for b, _ in batches[len(batches) // 2 + 1:] for d in b)
    assert await subs.subscriber_count("btc-100") == len(CHATS)
    if isinstance(matrix_redis, RedisCluster):  # the shards live on every master
        owners = {matrix_redis.get_node_from_key(k).name
                  for k in keys.alert_subscriber_shards("btc-100")}
        assert len(owners) == 3


async def test_removing_a_chat_touches_only_its_keys(
        matrix_redis: Redis, test_prefix: str) -> None:
    service = alerts_service(matrix_redis, test_prefix, *RULES)
    subs, keys = service.subscriptions, Keys(test_prefix)
    gone, kept = "telegram:-100", "telegram:7"
    for chat in (gone, kept):
        await service.subscribe(chat, "all")
        await service.mute(chat, "1d")
    before = {k async for k in matrix_redis.scan_iter(match=f"{test_prefix}*")}

    await subs.drop_destination(gone)
    after = {k async for k in matrix_redis.scan_iter(match=f"{test_prefix}*")}
    own = {keys.alert_chat_rules(gone), keys.alert_mute(gone)}
    shards = {keys.alert_subscriber_set(r, gone) for r, _ in RULES}  # gone when emptied
    assert own <= before - after <= own | shards
    assert [await subs.subscribers(r) for r, _ in RULES] == [{kept}, {kept}]
    assert await subs.subscribed(kept) == {"btc-100", "eth-5"}
    await service.unsubscribe(kept, "eth-5")
    assert await subs.subscribers("eth-5") == set()  # its shard emptied, and gone
    assert not await matrix_redis.exists(keys.alert_subscriber_set("eth-5", kept))


async def test_a_moved_chat_keeps_everything_under_its_new_keys(matrix_redis: Redis,
                                                                test_prefix: str) -> None:
    service = alerts_service(matrix_redis, test_prefix, *RULES)
    subs, keys = service.subscriptions, Keys(test_prefix)
    old, new = "telegram:-5", "telegram:-1005"
    await service.subscribe(old, "btc-100")
    await service.mute(old, "1d")
    await subs.move_destination(old, new)
    assert await subs.subscribers("btc-100") == {new}
    assert await subs.subscribed(new) == {"btc-100"} and not await subs.subscribed(old)
    assert await subs.muted_for(new) and not await subs.muted_for(old)
    assert subscriber_shard(new) != subscriber_shard(old)  # (so the shards really moved)
    assert not await matrix_redis.exists(keys.alert_mute(old))


async def test_subscriptions_of_the_old_layout_are_moved_once(matrix_redis: Redis,
                                                              test_prefix: str) -> None:
    service = alerts_service(matrix_redis, test_prefix, *RULES)
    subs, keys = service.subscriptions, Keys(test_prefix)
    await matrix_redis.sadd(keys.legacy_alert_subscribers("btc-100"), "telegram:1", "discord:2")
    await matrix_redis.sadd(keys.legacy_alert_chat_rules("telegram:1"), "btc-100")
    assert await subs.migrate_layout() == 2
    assert await subs.subscribers("btc-100") == {"telegram:1", "discord:2"}
    assert await subs.subscribed("discord:2") == {"btc-100"}
    assert not await matrix_redis.exists(keys.legacy_alert_subscribers("btc-100"))
    assert await subs.migrate_layout() == 0  # once
