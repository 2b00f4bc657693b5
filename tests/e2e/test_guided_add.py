"""A guided /alert add in a Telegram group, end to end: the real PTB front-end against the
Bot API stand-in, real Redis. Buttons edit the walk's message in place; the rule it builds
is added as a typed one (evaluated at once) and /alerts lists it; another user's press, a
member's /alert add and a bad typed value each get one line."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from typing import Any

import pytest

from bot.app import App
from bot.telegram import TelegramFrontend
from bot.telegram.pacing import Pacer, PacingLimits
from services.alerts.guided import FOREIGN
from services.settings import Settings
from tests.conftest import collected_app

from .telegram_standin import (
    BotApiStandIn,
    chat_object,
    command_update,
    running_standin,
    telegram_secrets,
    user_object,
    wait_for,
)

pytestmark = [pytest.mark.redis, pytest.mark.timeout(90)]
GROUP, ADMIN, OTHER_ADMIN, MEMBER = -1002000777, 501, 502, 503
# Pacing is tested elsewhere; a group's 20 a minute would make each step wait 3 s here.
QUICK = PacingLimits(per_chat=(100, 1.0), per_group=(100, 1.0))


@pytest.fixture
async def app(settings: Settings, test_prefix: str) -> AsyncIterator[App]:
    async with collected_app(settings, test_prefix) as built:
        yield built


@pytest.fixture
async def standin() -> AsyncIterator[BotApiStandIn]:
    async with running_standin() as api:
        api.members[(GROUP, ADMIN)] = "administrator"
        api.members[(GROUP, OTHER_ADMIN)] = "administrator"
        yield api


def button(message: dict[str, Any], label: str) -> str:
    rows = message.get("reply_markup", {}).get("inline_keyboard", [])
    found = [b["callback_data"] for row in rows for b in row if b["text"] == label]
    assert found, f"no button {label!r} under {message.get('text')!r}"
    return str(found[0])


async def command(standin: BotApiStandIn, text: str, user: int = ADMIN) -> dict[str, Any]:
    """Send a command to the group; the bot's next message there."""
    count = len(standin.sent_to(GROUP))
    await standin.push_command(text, chat_id=GROUP, user_id=user)
    return dict((await wait_for(lambda: standin.sent_to(GROUP)[count:], what=text))[0])


async def press(standin: BotApiStandIn, message: dict[str, Any], label: str,
                expect: str) -> dict[str, Any]:
    """Press a button of the walk's message; the message once edited to show `expect`."""
    live = standin.messages[(GROUP, message["message_id"])]
    await standin.push_callback(live, button(live, label), ADMIN)
    await wait_for(lambda: expect in live["text"], what=f"'{expect}' after {label}")
    return live


async def test_guided_add_walks_to_a_stored_rule_that_alerts_lists(
        app: App, standin: BotApiStandIn) -> None:
    async with TelegramFrontend(app, telegram_secrets(standin), Pacer(QUICK)):
        walk = await command(standin, "/alert add")
        assert "New alert 1/3: what should it watch?" in walk["text"]
        await press(standin, walk, "btc", "which btc metric?")
        await press(standin, walk, "drawdown", "New alert 2/3: btc.drawdown is ")
        await press(standin, walk, "is below", "New alert 3/3: btc.drawdown is below what?")
        live = standin.messages[(GROUP, walk["message_id"])]
        await standin.push_callback(live, button(live, "-45.0%"), OTHER_ADMIN)
        [refused] = await wait_for(lambda: [c for c in standin.calls_of("answerCallbackQuery")
                                            if c.params.get("text")], what="the refusal")
        assert refused.params["text"].startswith(FOREIGN) and refused.params["show_alert"]
        assert "3/3" in live["text"], "another user's press leaves the walk as it is"
        done = await press(standin, walk, "-45.0%", "Added rule c1: btc.drawdown below -45")
        assert "btc.drawdown is " in done["text"]  # its standing, as a typed add says
        assert "reply_markup" not in done
        listing = await command(standin, "/alerts")
    assert "c1" in listing["text"] and "btc.drawdown below -45" in listing["text"]
    assert app.hub.alerts is not None
    rules = await app.hub.alerts.subscriptions.visible_rules(f"telegram:{GROUP}")
    assert [r.rule.describe() for r in rules if r.owner] == ["btc.drawdown below -45"]


async def reply_text(standin: BotApiStandIn, to: dict[str, Any], text: str) -> None:
    """The admin replies to the bot's message with plain text (what privacy mode lets in)."""
    await standin.push_update({"message": {
        "message_id": int(time.time() * 1000) % 10**9, "date": int(time.time()),
        "chat": chat_object(GROUP), "from": user_object(ADMIN), "text": text,
        "reply_to_message": to}})


async def test_guided_add_takes_a_typed_value_and_rejects_members(
        app: App, standin: BotApiStandIn) -> None:
    async with TelegramFrontend(app, telegram_secrets(standin), Pacer(QUICK)):
        refused = await command(standin, "/alert add", MEMBER)
        assert refused["text"].startswith("only chat admins can change settings here")
        walk = await command(standin, "/alert add")
        await press(standin, walk, "btc", "which btc metric?")
        await press(standin, walk, "price", "New alert 2/3: btc.price is $")
        live = await press(standin, walk, "crosses above", "3/3: btc.price crosses above")
        live = await press(standin, walk, "Type a value", "Reply to this message")
        count = len(standin.sent_to(GROUP))
        await reply_text(standin, dict(live), "soon")
        [bad] = await wait_for(lambda: standin.sent_to(GROUP)[count:], what="bad value")
        assert bad["text"].startswith("'soon' is not a number; send one like ")
        assert "\n" not in bad["text"]
        await reply_text(standin, dict(live), "250k")
        [added] = await wait_for(lambda: standin.sent_to(GROUP)[count + 1:], what="added")
    assert "Added rule c1: btc.price crosses_above 250000" in added["text"]


async def test_in_a_private_chat_the_next_message_is_the_value(
        app: App, standin: BotApiStandIn) -> None:
    chat = ADMIN  # a private chat's id is the user's
    async with TelegramFrontend(app, telegram_secrets(standin), Pacer(QUICK)):
        await standin.push_command("/alert add", chat_id=chat, user_id=ADMIN)
        [walk] = await wait_for(lambda: standin.sent_to(chat), what="the walk")
        for label, expect in (("yields", "which yields metric?"), ("spread", "2/3"),
                              ("is above", "3/3")):
            await standin.push_callback(walk, button(walk, label), ADMIN)
            await wait_for(lambda e=expect: e in walk["text"], what=expect)  # type: ignore[misc]
        await standin.push_update({"message": {
            "message_id": 77, "date": int(time.time()), "chat": chat_object(chat),
            "from": user_object(ADMIN), "text": "250"}})
        [added] = await wait_for(lambda: standin.sent_to(chat)[1:], what="the added rule")
        await standin.push_update({"message": {
            "message_id": 78, "date": int(time.time()), "chat": chat_object(chat),
            "from": user_object(ADMIN), "text": "hello"}})
        [hint] = await wait_for(lambda: standin.sent_to(chat)[2:], what="the hint")
    assert "Added rule c1: yields.spread above 250" in added["text"]
    assert "I answer commands" in hint["text"]  # no walk waiting: plain text gets the hint


async def test_an_anonymous_admins_walk_is_carried_on_by_any_admin(
        app: App, standin: BotApiStandIn) -> None:
    update = command_update("/alert add", 90, GROUP, user_id=1087968824)
    update["message"]["from"] = {"id": 1087968824, "is_bot": True, "first_name": "Group",
                                 "username": "GroupAnonymousBot"}
    update["message"]["sender_chat"] = chat_object(GROUP)  # sent as the group itself
    async with TelegramFrontend(app, telegram_secrets(standin), Pacer(QUICK)):
        await standin.push_update(update)
        [walk] = await wait_for(lambda: standin.sent_to(GROUP), what="the walk")
        await standin.push_callback(walk, button(walk, "btc"), MEMBER)
        [refused] = await wait_for(lambda: [c for c in standin.calls_of("answerCallbackQuery")
                                            if c.params.get("text")], what="the refusal")
        assert refused.params["text"].startswith("only chat admins")
        await press(standin, walk, "btc", "which btc metric?")
    assert "1/3" in walk["text"]
