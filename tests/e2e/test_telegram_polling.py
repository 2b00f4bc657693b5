"""The real PTB Application, polling the local Bot API stand-in, answering registry commands."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from html import escape

import pytest

from bot.app import App
from bot.telegram import TelegramFrontend
from bot.telegram.pacing import Pacer, PacingLimits
from bot.telegram.render import render_html
from handlers.catalog import build_registry
from handlers.format import pct, pp, price, rate, usd
from handlers.registry import Chat, CommandContext, CommandSpec, Registry
from handlers.reply import Reply
from services.metrics.aitokens import AiTokensReading
from services.metrics.btc import BtcReading
from services.metrics.capex import CapexReading
from services.metrics.divergence import DivergenceReading
from services.metrics.stablecoins import StablecoinReading
from services.metrics.yields import YieldsReading
from services.windows import SINCE_2024, YTD
from tests.e2e.telegram_standin import (
    BotApiStandIn,
    telegram_secrets,
    wait_for,
)

pytestmark = pytest.mark.timeout(90)  # a hang guard: 11 s seen on a loaded machine


async def ask(standin: BotApiStandIn, text: str, chat_id: int, **kw: object) -> str:
    """Push a command update; return the text of the first message answering it."""
    before = len(standin.sent_to(chat_id))
    await standin.push_command(text, chat_id=chat_id, **kw)  # type: ignore[arg-type]
    sent = await wait_for(lambda: standin.sent_to(chat_id)[before:], what=f"reply to {text}")
    return str(sent[0]["text"])


async def expect_start(app: App) -> list[str]:
    return ["<b>Welcome to flowwatch</b>", "/help"]


async def expect_help(app: App) -> list[str]:
    return ["<b>flowwatch commands</b>",
            *(f"/{s.name} — {escape(s.help.rstrip('.'), quote=False)}" for s in app.registry)]


async def expect_brief(app: App) -> list[str]:
    div = (await app.hub.readings.get("divergence", DivergenceReading, SINCE_2024)).reading
    return ["<b>flowwatch brief</b>", pp(div.spread_pp)]


async def expect_status(app: App) -> list[str]:
    return ["<b>flowwatch status</b>", "divergence", "fresh", str(app.hub.asof)]


async def expect_divergence(app: App) -> list[str]:
    r = (await app.hub.readings.get("divergence", DivergenceReading, SINCE_2024)).reading
    nvda = next(a for a in r.ai if a.key == "NVDA")
    return ["<b>Divergence since 2024-01-01</b>", pp(r.spread_pp), pct(r.ai_basket_pct),
            pct(nvda.pct), "<i>Source: "]


async def expect_btc(app: App) -> list[str]:
    r = (await app.hub.readings.get("btc", BtcReading)).reading
    assert r.btc.price is not None
    return ["<b>Bitcoin</b>", price(r.btc.price.value), pct(r.btc.drawdown_pct)]


async def expect_stablecoins(app: App) -> list[str]:
    r = (await app.hub.readings.get("stablecoins", StablecoinReading)).reading
    assert r.total.latest is not None
    return ["<b>Stablecoin supply</b>", usd(r.total.latest.value)]


async def expect_yields(app: App) -> list[str]:
    r = (await app.hub.readings.get("yields", YieldsReading)).reading
    assert r.tbill_pct is not None
    return ["<b>Yields</b>", rate(r.tbill_pct.value)]


async def expect_aitokens(app: App) -> list[str]:
    r = (await app.hub.readings.get("aitokens", AiTokensReading, YTD)).reading
    return ["<b>AI tokens", pct(r.index_return_pct), pct(r.index_drawdown_pct)]


async def expect_capex(app: App) -> list[str]:
    r = (await app.hub.readings.get("capex", CapexReading)).reading
    first = r.companies[0]
    return ["<b>Hyperscaler capex</b>", first.ticker, usd(first.quarter_usd), usd(first.ttm_usd)]


EXPECTED: dict[str, Callable[[App], Awaitable[list[str]]]] = {
    "start": expect_start, "help": expect_help, "brief": expect_brief, "status": expect_status,
    "divergence": expect_divergence, "btc": expect_btc, "stablecoins": expect_stablecoins,
    "yields": expect_yields, "aitokens": expect_aitokens, "capex": expect_capex,
}


async def test_set_my_commands_lists_every_registry_command(
        frontend: TelegramFrontend, app: App, standin: BotApiStandIn) -> None:
    assert [c.method for c in standin.calls[:2]] == ["getMe", "setMyCommands"]
    assert standin.commands == [{"command": s.name, "description": s.help} for s in app.registry]


async def test_the_metric_commands_checked_here_are_registered(app: App) -> None:
    assert set(EXPECTED) <= {spec.name for spec in app.registry}


@pytest.mark.parametrize("name", [spec.name for spec in build_registry()])
async def test_every_registry_command_answers_as_the_registry_does(
        frontend: TelegramFrontend, app: App, standin: BotApiStandIn, name: str) -> None:
    """Through Telegram, each command's messages are the registry's own reply, rendered.

    The direct call runs for a second, fresh private chat so per-chat state (subscriptions,
    mutes) starts out the same for both.
    """
    direct = await app.registry.call(app.context(Chat("telegram", "2100", "501")), name, ())
    await standin.push_command(f"/{name}", chat_id=2101)
    texts = render_html(direct)

    def answered() -> list[str]:
        return [m["text"] for m in standin.sent_to(2101) if "text" in m]

    await wait_for(lambda: len(answered()) >= len(texts), what=f"the answer to /{name}")
    assert answered() == texts
    photos = [m for m in standin.sent_to(2101) if "photo" in m]
    assert len(photos) == (direct.chart_png is not None)


@pytest.mark.parametrize("name", list(EXPECTED))
async def test_command_answered_with_computed_values(
        frontend: TelegramFrontend, app: App, standin: BotApiStandIn, name: str) -> None:
    text = await ask(standin, f"/{name}", chat_id=2000)
    for expected in await EXPECTED[name](app):
        assert expected in text, f"{expected!r} missing from /{name}:\n{text}"
    assert standin.calls_of("getUpdates"), "updates must arrive by long polling"


async def test_divergence_rows_carry_the_service_numbers(
        frontend: TelegramFrontend, app: App, standin: BotApiStandIn) -> None:
    r = (await app.hub.readings.get("divergence", DivergenceReading, SINCE_2024)).reading
    lines = (await ask(standin, "/divergence", chat_id=2001)).splitlines()
    nvda = next(a for a in r.ai if a.key == "NVDA")
    assert any(line.startswith("NVDA") and pct(nvda.pct) in line for line in lines)
    assert any(line.startswith("Spread") and pp(r.spread_pp) in line for line in lines)


async def test_bad_input_gets_one_line_with_usage(
        frontend: TelegramFrontend, standin: BotApiStandIn) -> None:
    text = await ask(standin, "/divergence banana", chat_id=2002)
    assert "\n" not in text
    assert "banana" in text
    assert text.endswith("(usage: /divergence [window])")
    assert "reply_markup" not in standin.sent_to(2002)[0]


async def test_429_is_waited_out_and_the_message_arrives_once(
        frontend: TelegramFrontend, standin: BotApiStandIn) -> None:
    standin.fail_next("sendMessage", "429")
    text = await ask(standin, "/btc", chat_id=2003)
    assert "<b>Bitcoin</b>" in text
    attempts = standin.calls_of("sendMessage", ok_only=False)
    assert [bool(c.error) for c in attempts] == [True, False]
    assert attempts[1].at - attempts[0].at >= 0.95  # retry_after = 1
    assert len(standin.sent_to(2003)) == 1


async def test_blocked_chat_is_logged_and_the_bot_goes_on(
        frontend: TelegramFrontend, standin: BotApiStandIn) -> None:
    standin.fail_next("sendMessage", "403")
    await standin.push_command("/btc", chat_id=2004)
    await wait_for(lambda: standin.calls_of("sendMessage", ok_only=False), what="the attempt")
    assert await ask(standin, "/start", chat_id=2005)
    await wait_for(lambda: frontend.adapter.blocked["2004"], what="the 403 handled")
    assert standin.sent_to(2004) == []  # no apology into a chat that blocked the bot


async def test_exhausted_retries_reach_the_error_handler_which_apologises(
        app: App, standin: BotApiStandIn) -> None:
    standin.fail_next("sendMessage", "429", times=2)
    async with TelegramFrontend(app, telegram_secrets(standin),
                                Pacer(PacingLimits(max_attempts=2))) as frontend:
        text = await ask(standin, "/btc", chat_id=2006)
    assert text.startswith("Sorry, something went wrong")
    assert frontend.adapter.failed_updates == {"RetryAfter": 1}


async def test_token_never_logged(app: App, standin: BotApiStandIn,
                                  caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    standin.fail_next("sendMessage", "429")
    async with TelegramFrontend(app, telegram_secrets(standin)):
        await ask(standin, "/yields", chat_id=2007)
    assert logging.getLogger("httpx").getEffectiveLevel() >= logging.WARNING
    assert "telegram 429" in caplog.text
    secret = standin.token.split(":", 1)[1]
    for record in caplog.records:
        shown = record.getMessage() + (record.exc_text or "")
        assert secret not in shown, f"{record.name} logged the token"


async def test_refresh_button_edits_the_message_in_place(
        frontend: TelegramFrontend, standin: BotApiStandIn) -> None:
    chat = 2008
    fresh = await ask(standin, "/divergence 30d", chat_id=chat)
    message = standin.sent_to(chat)[-1]
    button = message["reply_markup"]["inline_keyboard"][0][0]
    assert button == {"text": "Refresh", "callback_data": "r:/divergence 30d"}
    message["text"] = "<b>an older reading</b>"  # as if the numbers had moved since
    await standin.push_callback(dict(message), button["callback_data"])
    await wait_for(lambda: standin.calls_of("answerCallbackQuery"), what="the callback answer")
    # The edit waits in the chat's reply queue (paced), after the button was answered.
    await wait_for(lambda: standin.calls_of("editMessageText"), what="the edit")
    edits = standin.calls_of("editMessageText")
    assert len(edits) == 1
    assert edits[0].params["message_id"] == message["message_id"]
    assert standin.messages[(chat, message["message_id"])]["text"] == fresh
    # Pressed again with nothing new: Telegram says "not modified", which is no error.
    await standin.push_callback(dict(message), button["callback_data"])
    await wait_for(lambda: len(standin.calls_of("answerCallbackQuery")) == 2, what="answer 2")
    await wait_for(lambda: len(standin.calls_of("editMessageText", False)) == 2, what="edit 2")
    assert "message is not modified" in standin.calls_of("editMessageText", False)[-1].error
    assert len(standin.sent_to(chat)) == 1  # no apology


async def test_group_settings_need_admin_via_get_chat_member(
        app: App, standin: BotApiStandIn) -> None:
    async def setalert(ctx: CommandContext, args: tuple[str, ...]) -> Reply:
        return Reply(title=f"settings changed by {ctx.chat.user_id}")

    app.registry = Registry([*app.registry, CommandSpec("setalert", "Change alerts (test)",
                                                        setalert, changes_settings=True)])
    group = -100777
    standin.members.update({(group, 601): "administrator", (group, 602): "creator"})
    async with TelegramFrontend(app, telegram_secrets(standin)):
        assert "settings changed by 601" in await ask(standin, "/setalert", group, user_id=601)
        assert "settings changed by 602" in await ask(standin, "/setalert", group, user_id=602)
        denied = await ask(standin, "/setalert", group, user_id=603)
        assert "only chat admins can change settings here" in denied
        assert await ask(standin, "/start", group, user_id=603)  # reading needs no admin
    asked = [(c.params["chat_id"], c.params["user_id"]) for c in standin.calls_of("getChatMember")]
    assert asked == [(group, 601), (group, 602), (group, 603)]


async def test_unknown_command_gets_help_in_private_and_silence_in_groups(
        frontend: TelegramFrontend, standin: BotApiStandIn) -> None:
    assert await ask(standin, "/nosuch", chat_id=2009) == "unknown command /nosuch; try /help"
    await standin.push_command("/otherbots_command", chat_id=-100555)
    await ask(standin, "/start", chat_id=-100555)
    assert len(standin.sent_to(-100555)) == 1  # only the /start answer


async def test_chart_command_answers_with_one_captioned_photo(
        frontend: TelegramFrontend, standin: BotApiStandIn) -> None:
    await standin.push_command("/chart btc", chat_id=2010)
    [photo] = await wait_for(lambda: standin.sent_to(2010), within=20, what="the chart")
    assert photo["photo"] and photo["caption"].startswith("<b>BTC")
    assert "<i>Source: " in photo["caption"]
    assert standin.calls_of("sendPhoto")[0].params["photo"].startswith("<file ")
