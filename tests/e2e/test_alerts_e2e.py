"""Alerts end to end in `python -m bot run --replay`: a rule added from a Telegram chat fires
after the next collection, reaches the chat exactly once, does not fire again after a
restart, and a chat that blocked the bot (403) is parked: nothing more is sent there, its
rules are kept. Real Redis, own prefix."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
import yaml
from redis.asyncio import Redis

from services.alerts.outbox import RedisOutbox
from services.families import FAMILIES
from services.keys import Keys
from services.store import MetricStore
from tests.conftest import REDIS_URL, connect_real_redis, drop_prefix
from tests.waiting import until_async

from .telegram_standin import TOKEN, BotApiStandIn, running_standin, wait_for

ROOT = Path(__file__).resolve().parents[2]
RULE = "btc.price above 1"  # holds at the replay as-of date: fires on the first evaluation
INTERVAL = 10  # the smallest collection interval config.yaml allows
# Two bot processes, each collecting at least twice: minutes on a loaded machine, not 60 s.
pytestmark = pytest.mark.timeout(300)


@pytest.fixture
async def redis_prefix() -> AsyncIterator[tuple[Redis, str]]:
    redis = await connect_real_redis()
    prefix = f"fwe2e:{uuid.uuid4().hex[:10]}:"
    yield redis, prefix
    await drop_prefix(redis, prefix)
    await redis.aclose()


def temp_config(tmp_path: Path, prefix: str) -> Path:
    raw: dict[str, Any] = yaml.safe_load((ROOT / "config.yaml").read_text())
    raw |= {"store": {"prefix": prefix}, "collector": {"interval_seconds": INTERVAL},
            "replay": {"data_dir": str(ROOT / "data")}}
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(raw))
    return path


@asynccontextmanager
async def running_bot(standin: BotApiStandIn, config: Path, log: Path) -> AsyncIterator[None]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DISCORD_", "TELEGRAM_"))}
    env |= {"REDIS_URL": REDIS_URL, "TELEGRAM_BOT_TOKEN": TOKEN,
            "TELEGRAM_API_BASE_URL": standin.base_url}
    ready = len(standin.calls_of("setMyCommands"))
    with log.open("w") as out:
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", "--config", str(config), "-v", "run", "--replay",
            cwd=ROOT, env=env, stdout=out, stderr=out)
        try:
            await wait_for(lambda: len(standin.calls_of("setMyCommands")) > ready, 20,
                           "the bot to start")
            yield
        finally:
            proc.send_signal(signal.SIGINT)
            try:
                await asyncio.wait_for(proc.wait(), 15)
            except TimeoutError:
                proc.kill()
                await proc.wait()
    assert_no_traceback(log)


def assert_no_traceback(log: Path) -> None:
    text = log.read_text()
    assert "Traceback" not in text, text[-3000:]


async def outbox_done(redis: Redis, prefix: str) -> bool:
    outbox = RedisOutbox(redis, Keys(prefix))
    return bool(await redis.exists(outbox.stream)) and await outbox.pending_count() == 0


async def collected_at(redis: Redis, prefix: str) -> str:
    """When the bot last stored the first metric family (each collection rewrites it)."""
    store = MetricStore(redis, Keys(f"{prefix}replay:2026-05-29:"))
    snapshot = await store.load_snapshot(FAMILIES[0].name)
    return snapshot.computed_at if snapshot else ""


async def collected_again(redis: Redis, prefix: str, seen: set[str], count: int) -> bool:
    seen.add(await collected_at(redis, prefix))
    return len(seen) >= count


def alerts_to(standin: BotApiStandIn, chat_id: int) -> list[str]:
    """Alert texts: a btc.price alert comes as the btc chart captioned with its text."""
    texts = [m.get("caption") or m.get("text") or "" for m in standin.sent_to(chat_id)]
    return [t for t in texts if "Rule [" in t]


async def add_rule(standin: BotApiStandIn, chat_id: int) -> None:
    before = len(standin.sent_to(chat_id))
    await standin.push_command(f"/alert add {RULE}", chat_id=chat_id)
    await wait_for(lambda: len(standin.sent_to(chat_id)) > before, 10, "the /alert add reply")
    assert "Added rule" in standin.sent_to(chat_id)[-1]["text"]


async def test_alert_fires_once_and_not_again_after_a_restart(
        redis_prefix: tuple[Redis, str], tmp_path: Path) -> None:
    redis, prefix = redis_prefix
    config = temp_config(tmp_path, prefix)
    async with running_standin() as standin:
        async with running_bot(standin, config, tmp_path / "first.log"):
            await add_rule(standin, 4242)
            await wait_for(lambda: alerts_to(standin, 4242), INTERVAL + 10, "the alert")
            # Acked: nothing is left in the outbox that could be sent again.
            await until_async(lambda: outbox_done(redis, prefix), describe=lambda: "ack")
        [alert] = alerts_to(standin, 4242)
        [photo] = [m for m in standin.sent_to(4242) if m.get("caption") == alert]
        assert photo["photo"], "the alert carries the btc chart"
        for part in ("btc.price above $1", "now $73,367", "2026-05-29", "/mute"):
            assert part in alert, alert
        before = await collected_at(redis, prefix)
        async with running_bot(standin, config, tmp_path / "second.log"):
            # Two collections after the restart: the evaluation between them has run.
            seen = {before}
            await until_async(lambda: collected_again(redis, prefix, seen, 3),
                              within=3 * INTERVAL + 30, describe=lambda: "two collections")
            await until_async(lambda: outbox_done(redis, prefix), describe=lambda: "ack")
        assert alerts_to(standin, 4242) == [alert]


async def test_a_chat_that_blocked_the_bot_is_parked(
        redis_prefix: tuple[Redis, str], tmp_path: Path) -> None:
    redis, prefix = redis_prefix
    keys = Keys(prefix)
    async with running_standin() as standin, running_bot(
            standin, temp_config(tmp_path, prefix), tmp_path / "run.log"):
        await add_rule(standin, 5151)
        assert await redis.smembers(keys.alert_chat_rules("telegram:5151"))
        standin.fail_next("sendPhoto", "403")  # the alert (with its chart) is the next photo

        async def unsubscribed() -> bool:
            return not await redis.exists(keys.alert_chat_rules("telegram:5151"))

        await until_async(unsubscribed, within=INTERVAL + 30,
                          describe=lambda: "not unsubscribed in time")
        assert [c.error for c in standin.calls if c.method == "sendPhoto"][-1].startswith(
            "Forbidden")
        assert not alerts_to(standin, 5151)
        assert await redis.hlen(keys.alert_rules()) == 1  # its custom rule is kept
        assert await redis.exists(keys.alert_dormant("telegram:5151"))
