"""No silent rules, end to end: commands through the real PTB front-end against the Bot API
stand-in, alerts through the real notifier and PTB sender, real Redis. /subscribe says a
rule is already past its threshold and what will make it fire; alerts firing while muted
are summarised at /unmute; a repeat= rule repeats; the default for= rule (defi-vs-tbill)
fires in replay, where the evaluation time stands at the as-of date."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from datetime import UTC, date, datetime, timedelta

import pytest

from bot.alerting import build_evaluator, build_notifier, evaluate_once
from bot.app import App
from bot.telegram import TelegramFrontend
from bot.telegram.sender import standalone_sender
from services.settings import Settings
from tests.conftest import collected_app

from .telegram_standin import BotApiStandIn, running_standin, telegram_secrets, wait_for

pytestmark = [pytest.mark.redis, pytest.mark.timeout(90)]
CHAT = 6161
AppFactory = Callable[..., AbstractAsyncContextManager[App]]  # (asof=None) -> app


@pytest.fixture
def make_app(settings: Settings, test_prefix: str) -> AppFactory:
    @asynccontextmanager
    async def build(asof: date | None = None) -> AsyncIterator[App]:
        async with collected_app(settings, test_prefix, asof) as built:
            yield built

    return build


async def say(standin: BotApiStandIn, text: str) -> str:
    """Send a command as the chat and return the bot's answer."""
    count = len(standin.sent_to(CHAT))
    await standin.push_command(text, chat_id=CHAT)
    sent = await wait_for(lambda: standin.sent_to(CHAT)[count:], 15, f"the answer to {text}")
    return str(sent[-1].get("text") or sent[-1].get("caption") or "")


async def deliver(app: App, standin: BotApiStandIn) -> int:
    async with standalone_sender(telegram_secrets(standin)) as sender:
        return await build_notifier(app, {"telegram": sender}, "silence").drain_once()


async def test_subscribe_says_a_rule_is_already_past(make_app: AppFactory) -> None:
    async with make_app() as app, running_standin() as standin, TelegramFrontend(
            app, telegram_secrets(standin)):
        answer = await say(standin, "/subscribe btc-drawdown")
    assert ("btc.drawdown is -41.2%, already past -30.0%: you will be alerted when it "
            "recovers above -25.0% and falls through -30.0% again") in answer


async def test_mute_then_unmute_summarises_what_fired(make_app: AppFactory) -> None:
    async with make_app() as app, running_standin() as standin, TelegramFrontend(
            app, telegram_secrets(standin)):
        added = await say(standin, "/alert add btc > 1k")
        assert "Added rule c1: btc.price above 1000" in added
        assert "already past $1,000: the alert goes out at the next check" in added
        assert "Alerts muted here for 1d" in await say(standin, "/mute 1d")
        assert await evaluate_once(app, build_evaluator(app))  # it fires...
        await deliver(app, standin)
        assert not [m for m in standin.sent_to(CHAT) if "Rule [c1]" in str(
            m.get("caption") or m.get("text"))]  # ...but is kept, not sent
        answer = await say(standin, "/unmute")
    assert "Alerts resumed here" in answer
    assert "While muted, 1 alert fired here:" in answer
    assert "▲ btc.price above $1,000: now $73,367 (2026-05-29)" in answer


async def test_a_repeat_rule_repeats(make_app: AppFactory) -> None:
    async with make_app() as app, running_standin() as standin:
        async with TelegramFrontend(app, telegram_secrets(standin)):
            assert "Added rule" in await say(standin, "/alert add btc above 1000 repeat=6h")
        evaluator = build_evaluator(app)
        start = datetime(2026, 5, 29, 9, tzinfo=UTC)
        for hours in (0, 3, 6, 7, 12):
            await evaluator.evaluate(start + timedelta(hours=hours))
        assert await deliver(app, standin) == 3
        heads = [str(m.get("caption") or m.get("text")).split("\n")[0]
                 for m in standin.sent_to(CHAT)[-3:]]
    assert heads == ["<b>▲ btc.price above $1,000: now $73,367</b>",
                     "<b>▲ Still: btc.price above $1,000: now $73,367</b>",
                     "<b>▲ Still: btc.price above $1,000: now $73,367</b>"]


async def test_the_default_for_rule_fires_in_replay(make_app: AppFactory) -> None:
    """yields.spread crossed below 0 on 2025-11-26 and stayed there: with for=7d the replay
    at 2025-12-03 fires (it used to stay pending: the clock never moves in a replay)."""
    async with make_app(date(2025, 12, 3)) as app, running_standin() as standin:
        async with TelegramFrontend(app, telegram_secrets(standin)):
            await say(standin, "/subscribe defi-vs-tbill")
        events = await evaluate_once(app, build_evaluator(app))
        assert [(e.rule_id, e.kind) for e in events] == [("defi-vs-tbill", "firing")]
        assert await deliver(app, standin) == 1
        alert = str(standin.sent_to(CHAT)[-1].get("caption"))
    assert alert.startswith("<b>▼ DeFi USDC lending pays less than 3-month T-bills: ")
