"""The Chart button under Telegram metric replies: the real PTB Application polling the local
Bot API stand-in; pressing it sends the command's chart, for its window, as a photo."""

from __future__ import annotations

from typing import Any

import pytest

from bot.app import App
from bot.telegram import TelegramFrontend
from bot.telegram.send import CALLBACK_DATA_LIMIT, refresh_markup
from handlers.reply import Reply
from services.charts.catalog import CHARTS
from services.windows import parse_window
from tests.e2e.chart_png import assert_chart_png
from tests.e2e.telegram_standin import (
    BotApiStandIn,
    wait_for,
)

pytestmark = pytest.mark.timeout(60)
RENDER_WITHIN = 40.0  # seconds: matplotlib on a busy, shared machine


async def answer_to(standin: BotApiStandIn, text: str, chat_id: int) -> dict[str, Any]:
    """Push a command; return the last message of its answer (the one with the buttons)."""
    await standin.push_command(text, chat_id=chat_id)
    sent = await wait_for(lambda: standin.sent_to(chat_id), what=f"the answer to {text}")
    return sent[-1]


def buttons(message: dict[str, Any]) -> list[dict[str, str]]:
    rows = message.get("reply_markup", {}).get("inline_keyboard", [])
    return [button for row in rows for button in row]


async def press(standin: BotApiStandIn, message: dict[str, Any], data: str) -> None:
    answered = len(standin.calls_of("answerCallbackQuery"))
    await standin.push_callback(dict(message), data)
    await wait_for(lambda: len(standin.calls_of("answerCallbackQuery")) > answered,
                   what="the callback answer")


@pytest.mark.parametrize("name", sorted(CHARTS))
async def test_each_charted_metric_reply_has_refresh_and_chart_buttons(
        frontend: TelegramFrontend, app: App, standin: BotApiStandIn, name: str) -> None:
    assert app.registry.get(name) is not None, f"/{name} has a chart but no command"
    message = await answer_to(standin, f"/{name}", chat_id=3100)
    assert buttons(message) == [{"text": "Refresh", "callback_data": f"r:/{name}"},
                                {"text": "Chart", "callback_data": f"c:/{name}"}]


@pytest.mark.parametrize(("command", "title", "chart", "window"), [
    ("/divergence 90d", "Divergence last 90d", "divergence", "90d"),
    ("/btc", "BTC since 2024-01-01", "btc", "since:2024-01-01"),  # the chart's default window
])
async def test_pressing_chart_sends_the_commands_chart_as_a_captioned_photo(
        frontend: TelegramFrontend, app: App, standin: BotApiStandIn, command: str,
        title: str, chart: str, window: str) -> None:
    chat = 3200
    message = await answer_to(standin, command, chat_id=chat)
    [_, button] = buttons(message)
    assert button == {"text": "Chart", "callback_data": f"c:{command}"}
    await press(standin, message, button["callback_data"])
    [call] = await wait_for(lambda: standin.calls_of("sendPhoto"), within=RENDER_WITHIN,
                            what="the chart photo")
    photo = call.files["photo"]
    assert_chart_png(photo)
    assert call.params["caption"].startswith(f"<b>{title}</b>")
    assert "<i>Source: " in call.params["caption"]
    assert call.params["reply_parameters"]["message_id"] == message["message_id"]
    # The very chart /chart draws for that window and as-of date (cached under both).
    assert app.hub.charts is not None and app.hub.asof is not None
    assert photo == await app.hub.charts.chart(chart, parse_window(window), app.hub.asof)
    [shown] = [m for m in standin.sent_to(chat) if "photo" in m]
    assert "reply_markup" not in shown  # a chart has no buttons of its own
    assert len(standin.sent_to(chat)) == 2  # the metric reply and the chart, nothing else


async def test_error_replies_and_chartless_commands_get_no_chart_button(
        frontend: TelegramFrontend, standin: BotApiStandIn) -> None:
    assert buttons(await answer_to(standin, "/divergence banana", chat_id=3300)) == []
    assert buttons(await answer_to(standin, "/btc extra", chat_id=3301)) == []
    assert buttons(await answer_to(standin, "/brief", chat_id=3302)) == [
        {"text": "Refresh", "callback_data": "r:/brief"}]
    assert buttons(await answer_to(standin, "/help", chat_id=3303)) == []  # no sources


async def test_a_chart_that_cannot_be_drawn_is_a_one_line_reply(
        frontend: TelegramFrontend, standin: BotApiStandIn) -> None:
    chat = 3400
    message = await answer_to(standin, "/divergence", chat_id=chat)
    await press(standin, message, "c:/divergence since:2030-01-01")
    [_, problem] = await wait_for(lambda: standin.sent_to(chat)[1:] and standin.sent_to(chat),
                                  what="the one-line reply")
    assert problem["text"] == ("window start 2030-01-01 is after the as-of date 2026-05-29 "
                               "(usage: /chart &lt;chart&gt; [window])")
    assert not standin.calls_of("sendPhoto")
    # Data naming a command without a chart is answered and otherwise ignored.
    await press(standin, message, "c:/brief")
    # The handler ends right after answering; a later command's reply arrives after
    # anything it could still have sent.
    help_reply = await answer_to(standin, "/help", chat_id=chat + 1)
    await standin.push_command("/help", chat_id=chat)
    await wait_for(lambda: len(standin.sent_to(chat)) >= 2 + len(standin.sent_to(chat + 1)),
                   what="the /help reply")
    texts = [m.get("text") for m in standin.sent_to(chat)[2:]]
    assert texts == [m.get("text") for m in standin.sent_to(chat + 1)]  # only /help's
    assert texts[-1] == help_reply["text"]
    assert not standin.calls_of("sendPhoto")


def test_the_chart_button_is_dropped_when_its_data_would_not_fit() -> None:
    def command_of(size: int) -> str:  # "/divergence " padded to `size` bytes
        return "/divergence " + "x" * (size - len("/divergence "))

    fits = Reply(title="t", sources=("s",), command=command_of(CALLBACK_DATA_LIMIT - 2))
    too_long = Reply(title="t", sources=("s",), command=command_of(CALLBACK_DATA_LIMIT - 1))
    markup = refresh_markup(fits)
    assert markup is not None
    assert [b.text for b in markup.inline_keyboard[0]] == ["Refresh", "Chart"]
    assert len(markup.inline_keyboard[0][1].callback_data.encode()) == CALLBACK_DATA_LIMIT
    assert refresh_markup(too_long) is None
