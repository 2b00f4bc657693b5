"""A Bot API that answers every send in 6 s: one message per alert, no dead letter, and
command replies without the apology.

The finding: PTB's read timeout was 5 s and the notifier's send timeout 20 s, so each send
timed out in PTB although Telegram delivered it; the notifier retried: 20 alerts became
100 messages (5 per chat) and 20 false dead letters, and every command reply came with a
spurious apology. The timeouts are now set together (bot/telegram/transport.py: one call
may take 40 s; NotifierSettings.send_timeout_s 45 s; lease 60 s).

Real Redis, the real notifier, PTB against the Bot API stand-in, which sleeps 6 s before
each answer to sendMessage and sendPhoto (the stand-in models the slow platform).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date

import pytest

from bot.alerting import build_evaluator, build_notifier, evaluate_once
from bot.app import App
from bot.telegram import TelegramFrontend
from bot.telegram.sender import standalone_sender
from bot.telegram.transport import CALL_TIMEOUT_S, READ_TIMEOUT_S
from handlers.registry import Chat
from services.alerts.attempts import NotifierSettings
from services.settings import Settings
from tests.conftest import collected_app
from tests.e2e.telegram_standin import running_standin, telegram_secrets, wait_for

pytestmark = [pytest.mark.redis, pytest.mark.timeout(120)]
CHATS = [5101, 5102, 5103, 5104]
SLOW_S = 6.0
CROSSING_DAY = date(2025, 11, 20)  # btc-drawdown (config.yaml) fires on this replay date
APOLOGY = "Sorry, something went wrong"


@pytest.fixture
async def app(settings: Settings, test_prefix: str) -> AsyncIterator[App]:
    async with collected_app(settings, test_prefix, CROSSING_DAY) as built:
        yield built


def test_the_timeouts_agree() -> None:
    settings = NotifierSettings()
    assert READ_TIMEOUT_S > SLOW_S
    assert settings.send_timeout_s > CALL_TIMEOUT_S  # the platform client decides first
    assert settings.lease_ms > settings.send_timeout_s * 1000


async def test_a_6_s_bot_api_gets_each_alert_once_and_no_dead_letter(app: App) -> None:
    for chat in CHATS:
        reply = await app.registry.run_text(app.context(Chat("telegram", str(chat), "7")),
                                            "/subscribe btc-drawdown")
        assert not reply.error, reply.title
    await evaluate_once(app, build_evaluator(app))
    async with running_standin() as standin:
        standin.delays = {"sendMessage": SLOW_S, "sendPhoto": SLOW_S}
        async with standalone_sender(telegram_secrets(standin)) as sender:
            assert await build_notifier(app, {"telegram": sender}, "slow").drain_once() == 4
        sends = [c for c in standin.calls if c.method in ("sendMessage", "sendPhoto")]
        assert sorted(int(c.params["chat_id"]) for c in sends) == CHATS  # one call each
        for chat in CHATS:
            assert len(standin.sent_to(chat)) == 1
    assert app.outbox is not None
    assert await app.outbox.dead_letters() == []
    assert await app.outbox.pending_count() == 0


async def test_a_command_reply_through_a_6_s_bot_api_has_no_apology(app: App) -> None:
    async with running_standin() as standin:
        standin.delays = {"sendMessage": SLOW_S}
        async with TelegramFrontend(app, telegram_secrets(standin)):
            await standin.push_command("/help", chat_id=CHATS[0])
            await wait_for(lambda: standin.calls_of("sendMessage"), 30, "the reply")
            sends = standin.calls_of("sendMessage", ok_only=False)
        assert len(sends) == 1  # no retry, no second message
        assert not any(APOLOGY in str(c.params.get("text", "")) for c in sends)
