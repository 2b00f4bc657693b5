"""A mute that runs out on its own (no /unmute) summarises what fired while muted, end to
end: commands through the real PTB front-end against the Bot API stand-in, the evaluation
pass, the real notifier and PTB sender, real Redis. Time is a ManualClock (tests/clock.py)
injected into the alert service: the mute's end is its clock's, no sleeps."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest

from bot.alerting import build_evaluator, build_notifier, evaluate_once
from bot.app import App
from bot.telegram import TelegramFrontend
from bot.telegram.sender import standalone_sender
from services.alerts.muted import ended
from services.settings import Settings
from tests.clock import ManualClock
from tests.conftest import collected_app

from .telegram_standin import BotApiStandIn, running_standin, telegram_secrets, wait_for

pytestmark = [pytest.mark.redis, pytest.mark.timeout(90)]
CHAT = 6262
START = datetime(2026, 5, 29, 9, tzinfo=UTC)


@pytest.fixture
async def app(settings: Settings, test_prefix: str) -> AsyncIterator[App]:
    async with collected_app(settings, test_prefix) as built:
        yield built


async def say(standin: BotApiStandIn, text: str) -> str:
    count = len(standin.sent_to(CHAT))
    await standin.push_command(text, chat_id=CHAT)
    sent = await wait_for(lambda: standin.sent_to(CHAT)[count:], 15, f"the answer to {text}")
    return str(sent[-1].get("text") or sent[-1].get("caption") or "")


async def deliver(app: App, standin: BotApiStandIn) -> list[str]:
    """Deliver what the outbox holds; the texts the chat got."""
    count = len(standin.sent_to(CHAT))
    async with standalone_sender(telegram_secrets(standin)) as sender:
        await build_notifier(app, {"telegram": sender}, "mute-expiry").drain_once()
    return [str(m.get("text") or m.get("caption")) for m in standin.sent_to(CHAT)[count:]]


async def test_a_mute_that_runs_out_sends_the_summary_once(app: App) -> None:
    clock = ManualClock(START.timestamp())
    app.hub.alerts.clock = lambda: datetime.fromtimestamp(clock.now, UTC)
    async with running_standin() as standin:
        async with TelegramFrontend(app, telegram_secrets(standin)):
            assert "Added rule c1" in await say(standin, "/alert add btc > 1k")
            assert "Alerts muted here for 1h" in await say(standin, "/mute 1h")
        evaluator = build_evaluator(app)
        assert await evaluate_once(app, evaluator)  # it fires while muted...
        assert await deliver(app, standin) == []  # ...and is kept, not sent
        clock.advance(59 * 60)
        await evaluate_once(app, evaluator)
        assert await deliver(app, standin) == []  # still muted: nothing yet
        clock.advance(2 * 60)  # the hour is over; nobody said /unmute
        await evaluate_once(app, evaluator)
        [summary] = await deliver(app, standin)
        await evaluate_once(app, evaluator)
        assert await deliver(app, standin) == []  # told once
        assert await app.hub.alerts.subscriptions.muted_for(f"telegram:{CHAT}") is None
    assert summary.startswith("<b>While muted, 1 alert fired here</b>\n")
    assert "btc.price above $1,000: now $73,367 (2026-05-29)" in summary
    assert "Rule [" not in summary  # a summary, not the alert itself


async def test_unmute_takes_the_summary_so_the_pass_sends_nothing(app: App) -> None:
    clock = ManualClock(START.timestamp())
    app.hub.alerts.clock = lambda: datetime.fromtimestamp(clock.now, UTC)
    async with running_standin() as standin:
        async with TelegramFrontend(app, telegram_secrets(standin)):
            await say(standin, "/alert add btc > 1k")
            await say(standin, "/mute 1h")
            await evaluate_once(app, build_evaluator(app))
            assert await deliver(app, standin) == []  # fanned out: kept for the summary
            assert "While muted, 1 alert fired here:" in await say(standin, "/unmute")
        clock.advance(2 * 3600)
        await evaluate_once(app, build_evaluator(app))
        assert await deliver(app, standin) == []


def test_a_mute_without_an_end_time_ends_with_its_key() -> None:
    assert ended(START.isoformat(), START)
    assert not ended(START.isoformat(), START.replace(hour=8))
    assert not ended("1", START)  # set before mutes kept their end: Redis's TTL ends it
