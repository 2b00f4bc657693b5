"""Anonymous group admins, end to end: the real PTB front-end against the Bot API stand-in,
real Redis. Telegram sends an anonymous admin's message from GroupAnonymousBot with
`sender_chat` the group itself: it may run admin-only commands. A message sent as a channel
(`sender_chat` a channel, from Channel_Bot) is not an admin's."""

from __future__ import annotations

import itertools
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest

from bot.app import App
from bot.telegram import TelegramFrontend
from services.settings import Settings
from tests.conftest import collected_app

from .telegram_standin import BotApiStandIn, chat_object, running_standin, telegram_secrets
from .telegram_standin import wait_for as waited

pytestmark = [pytest.mark.redis, pytest.mark.timeout(90)]
GROUP = -1003003003
CHANNEL = -1004004004
GROUP_ANONYMOUS_BOT = {"id": 1087968824, "is_bot": True, "first_name": "Group",
                       "username": "GroupAnonymousBot"}
CHANNEL_BOT = {"id": 136817688, "is_bot": True, "first_name": "Channel",
               "username": "Channel_Bot"}
_ids = itertools.count(5000)


@pytest.fixture
async def app(settings: Settings, test_prefix: str) -> AsyncIterator[App]:
    async with collected_app(settings, test_prefix) as built:
        yield built


@pytest.fixture
async def standin(app: App) -> AsyncIterator[BotApiStandIn]:
    async with running_standin() as api, TelegramFrontend(app, telegram_secrets(api)):
        yield api


def sent_as(text: str, sender_chat: dict[str, Any], sender: dict[str, Any]) -> dict[str, Any]:
    """A group message as Telegram sends it on behalf of a chat."""
    command = text.split(maxsplit=1)[0]
    return {"message": {
        "message_id": next(_ids), "date": int(time.time()), "chat": chat_object(GROUP),
        "from": sender, "sender_chat": sender_chat, "text": text,
        "entities": [{"type": "bot_command", "offset": 0, "length": len(command)}]}}


async def answer(standin: BotApiStandIn, update: dict[str, Any]) -> str:
    count = len(standin.sent_to(GROUP))
    await standin.push_update(update)
    sent = await waited(lambda: standin.sent_to(GROUP)[count:], 15, "the bot's answer")
    return str(sent[-1].get("text") or "")


async def own_rules(app: App) -> list[str]:
    rules = await app.hub.alerts.subscriptions.visible_rules(f"telegram:{GROUP}")
    return [r.rule.describe() for r in rules if r.owner]


async def test_an_anonymous_admin_may_add_a_rule(app: App, standin: BotApiStandIn) -> None:
    text = await answer(standin, sent_as("/alert add btc above 150k",
                                         chat_object(GROUP), GROUP_ANONYMOUS_BOT))
    assert "Added rule c1: btc.price above 150000" in text
    assert await own_rules(app) == ["btc.price above 150000"]
    # Telegram has no member for GroupAnonymousBot to ask about: the bot did not ask.
    assert not standin.calls_of("getChatMember")


async def test_a_message_sent_as_a_channel_is_refused(app: App,
                                                      standin: BotApiStandIn) -> None:
    channel = {"id": CHANNEL, "type": "channel", "title": "Some channel"}
    text = await answer(standin, sent_as("/alert add btc above 150k", channel, CHANNEL_BOT))
    assert "only chat admins can change settings" in text
    assert await own_rules(app) == []
