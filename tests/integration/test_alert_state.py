"""Alert state in Redis: fires once, survives restarts, concurrent evaluators, mutes, caps."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import fakeredis
import pytest
from redis.asyncio import Redis

from services.keys import Keys
from tests.conftest import REDIS_KINDS, connect_kind, drop_prefix
from tests.integration.alert_fixtures import ListOutbox, alerts_service, evaluator, save_btc

pytestmark = pytest.mark.redis
CROSS = ("btc-100", "btc.price crosses_above 100 resolved=on")
NOW = datetime(2024, 1, 3, 12, tzinfo=UTC)
TG, DC = "telegram:-1001", "discord:42"


@pytest.fixture(params=[*REDIS_KINDS, "embedded"])
async def two_clients(request: pytest.FixtureRequest,
                      test_prefix: str) -> AsyncIterator[tuple[Redis, Redis]]:
    """Two connections to one server: two processes sharing Redis."""
    if request.param != "embedded":
        first = await connect_kind(request, request.param)
        second = await connect_kind(request, request.param)
        yield first, second
        await drop_prefix(first, test_prefix)
    else:
        server = fakeredis.FakeServer()
        first = fakeredis.FakeAsyncRedis(server=server, decode_responses=True)
        second = fakeredis.FakeAsyncRedis(server=server, decode_responses=True)
        yield first, second
    await first.aclose()
    await second.aclose()


async def test_crossing_fires_once_per_subscriber_with_a_complete_message(
        two_clients: tuple[Redis, Redis], test_prefix: str) -> None:
    redis, _ = two_clients
    service = alerts_service(redis, test_prefix, CROSS)
    await service.subscribe(TG, "btc-100")
    await service.subscribe(DC, "all")
    outbox = ListOutbox()
    ev = evaluator(service, redis, test_prefix, outbox)
    await save_btc(redis, test_prefix, {"2024-01-01": 90, "2024-01-02": 95})
    assert await ev.evaluate(NOW) == []
    await save_btc(redis, test_prefix, {"2024-01-01": 90, "2024-01-02": 95, "2024-01-03": 104})
    fired = await ev.evaluate(NOW + timedelta(hours=1))
    assert sorted(e.destination for e in fired) == [DC, TG]
    assert {e.kind for e in fired} == {"firing"} and outbox.events == fired
    text = fired[0].text
    for part in ("btc.price crosses above $100", "now $104", "2024-01-03", "Coinbase",
                 "as of 2024-01-03", "/mute 1d", "Previous: $95"):
        assert part in text
    assert text.startswith("▲ btc.price crosses above $100: now $104\n")
    assert await ev.evaluate(NOW + timedelta(hours=2)) == []  # edge-triggered: not again


async def test_restart_keeps_state_and_does_not_refire(
        two_clients: tuple[Redis, Redis], test_prefix: str) -> None:
    redis, other = two_clients
    await save_btc(redis, test_prefix, {"2024-01-02": 95, "2024-01-03": 104})
    service = alerts_service(redis, test_prefix, CROSS)
    await service.subscribe(TG, "all")
    first = evaluator(service, redis, test_prefix, ListOutbox())
    assert [e.kind for e in await first.evaluate(NOW)] == ["firing"]
    # a new process: new service and evaluator objects on another connection
    restarted = alerts_service(other, test_prefix, CROSS)
    outbox = ListOutbox()
    second = evaluator(restarted, other, test_prefix, outbox)
    assert await second.evaluate(NOW + timedelta(minutes=5)) == []
    state = (await restarted.overview(TG)).rules[0].state
    assert state is not None and state.status == "firing"
    await save_btc(redis, test_prefix, {"2024-01-02": 95, "2024-01-03": 104, "2024-01-04": 99})
    assert [e.kind for e in await second.evaluate(NOW + timedelta(days=1))] == ["resolved"]


async def test_two_concurrent_evaluators_emit_each_event_once(
        two_clients: tuple[Redis, Redis], test_prefix: str) -> None:
    first, second = two_clients
    rules = [(f"r{i}", f"btc.price crosses_above {90 + i}") for i in range(6)]
    await save_btc(first, test_prefix, {"2024-01-02": 80, "2024-01-03": 104})
    service = alerts_service(first, test_prefix, *rules)
    dests = [f"telegram:{n}" for n in range(5)]
    for dest in dests:
        await service.subscribe(dest, "all")
    out_a, out_b = ListOutbox(), ListOutbox()
    eval_a = evaluator(service, first, test_prefix, out_a)
    eval_b = evaluator(alerts_service(second, test_prefix, *rules), second, test_prefix, out_b)
    for _ in range(3):  # repeated races change nothing once everything fired
        await asyncio.gather(eval_a.evaluate(NOW), eval_b.evaluate(NOW))
    pairs = [(e.rule_id, e.destination) for e in out_a.events + out_b.events]
    assert len(pairs) == len(set(pairs)) == len(rules) * len(dests)


async def test_mute_drops_alerts_for_that_destination_only(
        two_clients: tuple[Redis, Redis], test_prefix: str) -> None:
    redis, _ = two_clients
    await save_btc(redis, test_prefix, {"2024-01-02": 95, "2024-01-03": 104})
    service = alerts_service(redis, test_prefix, CROSS)
    await service.subscribe(TG, "all")
    await service.subscribe(DC, "all")
    assert await service.mute(TG, "1d") == timedelta(days=1)
    assert 0 < (await redis.ttl(Keys(test_prefix).alert_mute(TG))) <= 86400
    ev = evaluator(service, redis, test_prefix, ListOutbox())
    assert [e.destination for e in await ev.evaluate(NOW)] == [DC]
    assert await service.unmute(TG)
    assert await ev.evaluate(NOW + timedelta(hours=1)) == []  # muted, not postponed...
    assert len(await service.take_muted(TG)) == 1  # ...but kept for the /unmute summary


async def test_daily_cap_sends_one_limit_notice_then_drops(
        two_clients: tuple[Redis, Redis], test_prefix: str) -> None:
    redis, _ = two_clients
    rules = [(f"r{i}", f"btc.price above {90 + i}") for i in range(5)]
    await save_btc(redis, test_prefix, {"2024-01-03": 104})
    service = alerts_service(redis, test_prefix, *rules, max_per_day=2)
    await service.subscribe(TG, "all")
    events = await evaluator(service, redis, test_prefix, ListOutbox()).evaluate(NOW)
    assert [e.kind for e in events] == ["firing", "firing", "limit"]
    assert "Daily alert limit reached (2 alerts on 2024-01-03 UTC)" in events[-1].text
    counts = Keys(test_prefix).alert_daily_count(TG)  # one key per chat, with a TTL
    assert 0 < await redis.ttl(counts) <= 2 * 86400
    assert await redis.hget(counts, "_day") == "2024-01-03"
    assert await redis.hlen(counts) == 1 + 3  # the day, two alerts and the notice; no more


async def test_custom_rules_are_capped_per_chat_and_removable(
        two_clients: tuple[Redis, Redis], test_prefix: str) -> None:
    redis, _ = two_clients
    service = alerts_service(redis, test_prefix, CROSS, max_custom=2)
    first = await service.add_rule(TG, "btc.price below 50")
    await service.add_rule(TG, "eth.price above 5000")
    with pytest.raises(ValueError, match="limit is 2"):
        await service.add_rule(TG, "btc.drawdown below -40")
    with pytest.raises(ValueError, match=f"already has that rule as {first.id}"):
        await service.add_rule(TG, "BTC.price  below 50")
    other = await service.add_rule(DC, "btc.drawdown below -40")  # another chat's own cap
    view = await service.overview(TG)
    assert [r.rule.id for r in view.rules] == ["btc-100", first.id, "c2"]
    assert [r.subscribed for r in view.rules] == [False, True, True]
    with pytest.raises(ValueError, match="no rule"):
        await service.remove_rule(TG, other.id)  # not visible from another chat
    with pytest.raises(ValueError, match="built-in rule"):
        await service.remove_rule(TG, "btc-100")
    await service.remove_rule(TG, first.id)
    assert first.id not in await service.subscriptions.subscribed(TG)
    assert await service.subscriptions.subscribers(first.id) == set()


async def test_moved_destination_keeps_subscriptions_state_rules_and_mute(
        two_clients: tuple[Redis, Redis], test_prefix: str) -> None:
    redis, _ = two_clients
    await save_btc(redis, test_prefix, {"2024-01-02": 95, "2024-01-03": 104})
    service = alerts_service(redis, test_prefix, CROSS)
    await service.subscribe(TG, "all")
    custom = await service.add_rule(TG, "btc.price above 1")
    await evaluator(service, redis, test_prefix, ListOutbox()).evaluate(NOW)
    await service.mute(TG, "6h")
    new = "telegram:-1009"
    await service.move_destination(TG, new)
    view = await service.overview(new)
    assert [(r.rule.id, r.subscribed) for r in view.rules] == [("btc-100", True),
                                                               (custom.id, True)]
    assert all(r.state is not None and r.state.status == "firing" for r in view.rules)
    assert view.muted_for is not None
    assert (await service.overview(TG)).rules[0].state is None
    assert await service.subscriptions.subscribers("btc-100") == {new}
    # no re-fire after the move: the state moved with it
    assert await evaluator(service, redis, test_prefix, ListOutbox()).evaluate(NOW) == []
    await service.drop_destination(new)
    assert await service.subscriptions.subscribers("btc-100") == set()
    assert await service.subscriptions.custom_rules() == []
