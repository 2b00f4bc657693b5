"""Feedback through the real PTB Application against the Bot API stand-in: Refresh says when
nothing changed, chat actions while working, a hint for plain text in a private chat, the
bot's descriptions and a command menu per kind of chat."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from bot.app import App
from bot.telegram import TelegramFrontend
from handlers.general import DESCRIPTION, PLAIN_TEXT_HINT, SHORT_DESCRIPTION
from tests.e2e.telegram_standin import BotApiStandIn, chat_object, user_object, wait_for

pytestmark = pytest.mark.timeout(60)
RENDER_WITHIN = 40.0  # seconds: matplotlib on a busy, shared machine


async def answer(standin: BotApiStandIn, text: str, chat_id: int,
                 chat_type: str = "") -> list[dict[str, Any]]:
    before = len(standin.sent_to(chat_id))
    await standin.push_command(text, chat_id=chat_id, chat_type=chat_type)
    return await wait_for(lambda: standin.sent_to(chat_id)[before:], within=RENDER_WITHIN,
                          what=f"the answer to {text}")


async def test_refresh_with_nothing_new_says_since_when(
        frontend: TelegramFrontend, standin: BotApiStandIn) -> None:
    chat = 4101
    [message] = await answer(standin, "/btc", chat)
    data = message["reply_markup"]["inline_keyboard"][0][0]["callback_data"]
    await standin.push_callback(dict(message), data)
    [call] = await wait_for(lambda: standin.calls_of("answerCallbackQuery"), what="answer")
    written = datetime.fromtimestamp(message["date"], UTC)
    assert call.params["text"] == f"No change since {written:%H:%M} UTC"
    assert len(standin.sent_to(chat)) == 1  # answered in the toast, the chat is left alone

    message["text"] = "<b>an older reading</b>"  # as if the numbers had moved since
    await standin.push_callback(dict(message), data)
    await wait_for(lambda: len(standin.calls_of("answerCallbackQuery")) == 2, what="answer 2")
    assert standin.calls_of("answerCallbackQuery")[1].params["text"] == "Updated"


async def test_a_chart_shows_sending_photo_and_a_slow_command_typing(
        frontend: TelegramFrontend, standin: BotApiStandIn) -> None:
    chat = 4102
    [photo] = await answer(standin, "/chart yields 90d", chat)
    assert photo.get("photo")
    actions = [a for c, a in standin.chat_actions if c == chat]
    assert actions and set(actions) == {"upload_photo"}
    action_at = next(c.at for c in standin.calls if c.method == "sendChatAction")
    photo_at = next(c.at for c in standin.calls if c.method == "sendPhoto")
    assert action_at < photo_at  # shown while the chart was drawn, not after

    frontend.adapter.typing_after_s = 0.0  # any command counts as slow now
    await answer(standin, "/brief", chat)
    assert (chat, "typing") in standin.chat_actions


async def test_plain_text_in_a_private_chat_gets_a_hint_and_groups_stay_quiet(
        frontend: TelegramFrontend, standin: BotApiStandIn) -> None:
    for chat_id, chat_type in ((4103, "private"), (-1004103, "supergroup")):
        await standin.push_update({"message": {
            "message_id": 77, "date": 1_780_000_000, "chat": chat_object(chat_id, chat_type),
            "from": user_object(501), "text": "hello, what's BTC doing?"}})
    [hint] = await wait_for(lambda: standin.sent_to(4103), what="the hint")
    assert hint["text"] == PLAIN_TEXT_HINT
    assert "/help" in hint["text"] and "\n" not in hint["text"]
    await answer(standin, "/start", -1004103, "supergroup")  # handled in order after the text
    assert [m.get("text", "")[:10] for m in standin.sent_to(-1004103)] == ["<b>Welcome"]


async def test_descriptions_and_a_command_menu_per_kind_of_chat(
        app: App, frontend: TelegramFrontend, standin: BotApiStandIn) -> None:
    assert standin.descriptions == {"description": DESCRIPTION,
                                    "short_description": SHORT_DESCRIPTION}
    menus = {scope: [c["command"] for c in commands]
             for scope, commands in standin.scoped_commands.items()}
    everything = [s.name for s in app.registry]
    admin_only = {s.name for s in app.registry if s.changes_settings}
    assert {"subscribe", "unsubscribe", "mute", "unmute"} <= admin_only
    assert menus["default"] == everything
    assert menus["all_private_chats"] == everything
    assert menus["all_chat_administrators"] == everything
    assert menus["all_group_chats"] == [n for n in everything if n not in admin_only]
    assert "brief" in menus["all_group_chats"] and "alerts" in menus["all_group_chats"]
