""""Send it now", end to end: /subscribe in Telegram (real PTB against the stand-in, real
Redis) finds btc-drawdown already past -30% and offers the button; pressing it delivers that
rule's alert (first line, buttons, chart) through the outbox and the real notifier, once."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date
from typing import Any

import pytest

from bot.alerting import build_notifier
from bot.app import App
from bot.telegram import TelegramFrontend
from bot.telegram.pacing import Pacer, PacingLimits
from bot.telegram.sender import standalone_sender
from services.settings import Settings
from tests.conftest import collected_app

from .telegram_standin import BotApiStandIn, running_standin, telegram_secrets, wait_for

pytestmark = [pytest.mark.redis, pytest.mark.timeout(90)]
CHAT = 4344
CROSSING_DAY = date(2025, 11, 20)  # BTC falls through -30% from its high (the backtest)
QUICK = PacingLimits(per_chat=(100, 1.0), per_group=(100, 1.0))


@pytest.fixture
async def app(settings: Settings, test_prefix: str) -> AsyncIterator[App]:
    async with collected_app(settings, test_prefix, CROSSING_DAY) as built:
        yield built


async def next_message(standin: BotApiStandIn, count: int, what: str) -> dict[str, Any]:
    return dict((await wait_for(lambda: standin.sent_to(CHAT)[count:], what=what))[0])


async def test_send_it_now_delivers_the_rules_alert_once(app: App) -> None:
    async with running_standin() as standin:
        async with TelegramFrontend(app, telegram_secrets(standin), Pacer(QUICK)):
            await standin.push_command("/subscribe btc-drawdown", chat_id=CHAT)
            answer = await next_message(standin, 0, "the /subscribe answer")
            assert "already past -30.0%" in answer["text"]
            [[offer]] = answer["reply_markup"]["inline_keyboard"]
            assert offer == {"text": "Send it now", "callback_data": "a:s:btc-drawdown"}
            await standin.push_callback(answer, offer["callback_data"], user_id=CHAT)
            sending = await next_message(standin, 1, "the press's answer")
        assert sending["text"] == "<b>Sending the btc-drawdown alert for 2025-11-20 here</b>"
        async with standalone_sender(telegram_secrets(standin)) as sender:
            assert await build_notifier(app, {"telegram": sender}, "now").drain_once() == 1
        alert = standin.sent_to(CHAT)[2]
        first = alert["caption"].split("\n")[0]
        assert first == "<b>▼ Bitcoin more than 30% below its all-time high: -30.6%</b>"
        buttons = [b["text"] for b in alert["reply_markup"]["inline_keyboard"][0]]
        assert buttons == ["Mute 1d", "Unsubscribe", "Chart"]

        async with TelegramFrontend(app, telegram_secrets(standin), Pacer(QUICK)):
            await standin.push_callback(answer, offer["callback_data"], user_id=CHAT)
            again = await next_message(standin, 3, "the second press's answer")
        assert again["text"] == "<b>Already sent here for the data of 2025-11-20</b>"
        async with standalone_sender(telegram_secrets(standin)) as sender:
            assert await build_notifier(app, {"telegram": sender}, "now").drain_once() == 0
