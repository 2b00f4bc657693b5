"""The bot's one send budget in Redis (budget.py), on one node, a Cluster and Sentinel.

Two `SharedSchedule`s on two clients stand for two processes (web replicas, workers). The
asserts are on the slots Redis handed out, on Redis' clock, not on sleeps.
"""

from __future__ import annotations

import asyncio
import bisect
from collections.abc import AsyncIterator

import pytest
from redis.asyncio import Redis
from redis.asyncio.cluster import RedisCluster

from bot.telegram.pacing import Pacer as ReplyPacer
from bot.telegram.pacing import PacingLimits
from services.alerts.budget import SharedSchedule
from services.alerts.pacing import HEADROOM, Pacer, PlatformLimits, Rate
from services.keys import Keys
from tests.conftest import connect_kind

pytestmark = [pytest.mark.redis, pytest.mark.timeout(30)]
OVERALL, CHAT, GROUP = Rate(20, 1.0), Rate(4, 1.0), Rate(6, 3.0)
LIMITS = PlatformLimits(overall=OVERALL, per_chat=CHAT, per_group=GROUP)


@pytest.fixture
async def two_processes(matrix_redis: Redis, request: pytest.FixtureRequest,
                        test_prefix: str) -> AsyncIterator[tuple[SharedSchedule, SharedSchedule]]:
    second = await connect_kind(request, request.node.callspec.params["matrix_redis"])
    keys = Keys(test_prefix)
    yield SharedSchedule(matrix_redis, keys), SharedSchedule(second, keys)
    await second.aclose()


def most_in_any_window(times: list[float], window_s: float) -> int:
    times = sorted(times)
    return max(bisect.bisect_left(times, t + window_s - 1e-6) - i for i, t in enumerate(times))


async def slot(schedule: SharedSchedule, interval_s: float,
               scope: list[tuple[str, str, float, int]]) -> float:
    """A slot as Redis handed it out: `take` converts it to this process's clock with its
    own offset estimate (off by up to half a round trip, tens of ms under load); adding that
    offset back puts every process's slots on the one clock they were kept on."""
    at = await schedule.take("telegram", interval_s, scope)
    return at + schedule._offset


def scopes(chat_id: str) -> list[tuple[str, str, float, int]]:
    found = [("chat", chat_id, CHAT.interval(HEADROOM), 1)]
    if chat_id.startswith("-"):
        found.append(("group", chat_id, GROUP.interval(HEADROOM), 1))
    return found


async def test_a_send_is_charged_to_platform_chat_and_group_at_once(
        two_processes: tuple[SharedSchedule, SharedSchedule], matrix_redis: Redis,
        test_prefix: str) -> None:
    a, b = two_processes
    interval = OVERALL.interval(HEADROOM)
    # Both processes send to one group and to other chats, all at once.
    chats = ["-77", "1", "2", "3"] * 6
    taken = await asyncio.gather(*(
        slot((a, b)[n % 2], interval, scopes(chat)) for n, chat in enumerate(chats)))
    by_chat: dict[str, list[float]] = {}
    for chat, at in zip(chats, taken, strict=True):
        by_chat.setdefault(chat, []).append(at)
    assert most_in_any_window(taken, OVERALL.period_s) <= OVERALL.count
    for chat, times in by_chat.items():
        assert most_in_any_window(times, CHAT.period_s) <= CHAT.count, chat
    assert most_in_any_window(by_chat["-77"], GROUP.period_s) <= GROUP.count
    # The group's sends waited for the group, not the others for it: their slots came first.
    assert max(by_chat["1"]) < max(by_chat["-77"])
    keys = Keys(test_prefix)
    stored = [k async for k in matrix_redis.scan_iter(match=f"{test_prefix}*")]
    expected = {keys.alert_pacing("telegram"), *(
        keys.pacing_scope("telegram", scope, c) for scope in ("chat", "chat-sent")
        for c in ("-77", "1", "2", "3")), *(keys.pacing_scope("telegram", scope, "-77")
                                            for scope in ("group", "group-sent"))}
    # Nothing else; the chats' keys may have expired already (a second past their slots).
    assert keys.pacing_scope("telegram", "group", "-77") in stored
    assert set(stored) <= expected
    if isinstance(matrix_redis, RedisCluster):  # one script, so one slot for all of them
        assert len({matrix_redis.keyslot(k) for k in stored}) == 1


async def test_a_429_pauses_the_platform_or_the_chat_for_every_process(
        two_processes: tuple[SharedSchedule, SharedSchedule]) -> None:
    a, b = two_processes
    interval = OVERALL.interval(HEADROOM)
    start = await b.take("telegram", interval)
    await a.pause("telegram", 5.0, chat_id="9")  # chat 9 flooded: only chat 9 waits
    assert await b.take("telegram", interval, scopes("8")) - start < 1.0
    assert await b.take("telegram", interval, scopes("9")) - start >= 4.9
    await a.pause("telegram", 2.0)  # the bot flooded: everyone waits
    await a.pause("telegram", 0.5)  # a shorter pause never brings slots forward
    assert await b.take("telegram", interval, scopes("7")) - start >= 1.9


async def test_replies_and_alerts_draw_on_one_budget(matrix_redis: Redis,
                                                     test_prefix: str) -> None:
    """A web process's reply pacer and a worker's alert pacer, together, keep the rate."""
    keys = Keys(test_prefix)
    limits = PacingLimits(overall=(OVERALL.count, OVERALL.period_s), per_chat=(1000, 1.0),
                          per_group=(1000, 1.0))
    replies = ReplyPacer(limits, schedule=SharedSchedule(matrix_redis, keys))
    alerts = Pacer({"telegram": PlatformLimits(overall=OVERALL)})
    recorded: list[float] = []

    class Recording(SharedSchedule):
        async def take(self, platform: str, interval_s: float,
                       scope: object = ()) -> float:
            due = await super().take(platform, interval_s, scope)  # type: ignore[arg-type]
            # Back on Redis' clock, where the slots are kept: each schedule converts with its
            # own offset estimate, off by up to half a round trip (tens of ms under load).
            recorded.append(due + self._offset)
            return due

    alerts.share(Recording(matrix_redis, keys))
    replies.schedule.share(Recording(matrix_redis, keys))

    async def alert(n: int) -> None:
        async with alerts.turn("telegram", f"a{n}"):
            await alerts.slot("telegram", f"a{n}")

    await asyncio.gather(*(replies.acquire(f"r{n}") for n in range(15)),
                         *(alert(n) for n in range(15)))
    assert len(recorded) >= 30
    # 30 sends at 20/s: 1.5 s of slots, never more than 20 in any second, for both kinds.
    assert most_in_any_window(recorded, OVERALL.period_s) <= OVERALL.count
    assert max(recorded) - min(recorded) >= 29 * OVERALL.interval(HEADROOM) * 0.9
