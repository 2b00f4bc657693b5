"""Transition semantics on real Redis: repeat= re-sends a rule that keeps firing, a YTD rule
does not resolve because the year turned, for= is met by the data (so it works where the
evaluation time stands still), and alerts firing while muted are kept and summarised."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pandas as pd
import pytest
from redis.asyncio import Redis

from services.alerts.conditions import observation, observe_all
from services.alerts.rules import parse_rule
from services.alerts.state import step
from tests.integration.alert_fixtures import ListOutbox, alerts_service, evaluator, save_btc

pytestmark = pytest.mark.redis
TG = "telegram:-1001"
NOW = datetime(2024, 1, 3, 12, tzinfo=UTC)


def daily(first: date, values: list[float]) -> dict[str, float]:
    return {(first + timedelta(days=n)).isoformat(): v for n, v in enumerate(values)}


async def test_repeat_resends_while_it_keeps_firing(clean_real_redis: Redis,
                                                    test_prefix: str) -> None:
    redis = clean_real_redis
    service = alerts_service(redis, test_prefix, ("hi", "btc.price above 100 repeat=1d"))
    await service.subscribe(TG, "hi")
    ev = evaluator(service, redis, test_prefix, ListOutbox())
    await save_btc(redis, test_prefix, daily(date(2024, 1, 1), [90, 101, 104]))
    [first] = await ev.evaluate(NOW)
    assert await ev.evaluate(NOW + timedelta(hours=23)) == []
    [again] = await ev.evaluate(NOW + timedelta(days=1))
    assert again.kind == "firing" and again.event_id != first.event_id
    assert again.text.startswith("▲ Still: btc.price above $100: now $104")
    assert await ev.evaluate(NOW + timedelta(days=1, hours=1)) == []


async def test_a_ytd_rule_does_not_resolve_because_the_year_turned(
        clean_real_redis: Redis, test_prefix: str) -> None:
    redis = clean_real_redis
    service = alerts_service(redis, test_prefix, ("ytd", "btc.ytd above 20 resolved=on"))
    await service.subscribe(TG, "ytd")
    ev = evaluator(service, redis, test_prefix, ListOutbox())
    up = [100 + n * 0.2 for n in range(368)]  # +73% by the end of 2024, flat into 2025
    await save_btc(redis, test_prefix, daily(date(2023, 12, 31), up[:367]))
    fired = await ev.evaluate(datetime(2024, 12, 31, 12, tzinfo=UTC))
    assert [e.kind for e in fired] == ["firing"]
    await save_btc(redis, test_prefix, daily(date(2023, 12, 31), up))
    # 2 January: YTD is +0.2% (2025 started from its own base): no "Resolved"
    assert await ev.evaluate(datetime(2025, 1, 1, 12, tzinfo=UTC)) == []
    [state] = (await service.states.load(["ytd"])).values()
    assert state.status == "inactive" and state.armed


def test_for_is_met_by_the_data_when_the_clock_stands_still() -> None:
    """Replay evaluates at the as-of date each time: the hold counts the data's days."""
    rule = parse_rule("btc.price crosses_below 100 for=3d")
    values = [110, 110, 95, 94, 93, 92]
    series = pd.Series(values, index=pd.date_range("2024-01-01", periods=6), dtype="float64")
    pinned = datetime(2024, 1, 6, tzinfo=UTC)
    frame = observe_all(rule, series)
    obs = observation(frame)
    assert obs is not None and obs.held_since == date(2024, 1, 3)
    state, event = step(rule, None, obs, pinned)  # first look, crossing 3 days back
    assert event is not None and state.status == "firing"
    early = observation(frame, row=3)  # one day into the hold: pending, not silent
    assert early is not None
    state, event = step(rule, None, early, pinned)
    assert event is None and state.status == "pending"


async def test_alerts_firing_while_muted_are_kept_and_summarised(
        clean_real_redis: Redis, test_prefix: str) -> None:
    redis = clean_real_redis
    service = alerts_service(redis, test_prefix, ("hi", "btc.price above 100"),
                             ("lo", "btc.drawdown below -1"))
    await service.subscribe(TG, "all")
    await service.mute(TG, "6h")
    outbox = ListOutbox()
    ev = evaluator(service, redis, test_prefix, outbox)
    await save_btc(redis, test_prefix, daily(date(2024, 1, 1), [110, 104]))
    assert await ev.evaluate(NOW) == []  # muted: nothing sent, but kept
    assert await service.unmute(TG)
    lines = await service.take_muted(TG)
    assert len(lines) == 2
    assert any(line.startswith("▲ btc.price above $100: now $104") for line in lines)
    assert await service.take_muted(TG) == []  # told once
