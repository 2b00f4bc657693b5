"""A delivered alert as a user sees it, end to end (real Redis, the real notifier, PTB and
discord.py against the stand-ins): the first line says what happened and the value, bold;
then threshold, data date, the rule last; Mute 1d / Unsubscribe / Chart buttons that work;
the rule's own chart with its threshold line."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import date
from typing import Any

import pytest

from bot.alerting import build_evaluator, build_notifier, evaluate_once
from bot.app import App, build_app
from bot.discord_app import run_discord
from bot.discord_app.sender import standalone_sender as discord_sender
from bot.telegram import TelegramFrontend
from bot.telegram.sender import standalone_sender
from handlers.registry import Chat
from services.settings import Secrets, Settings
from tests.conftest import collected_app
from tests.e2e.chart_png import assert_chart_png, threshold_rows

from .discord_standin import DiscordStandin
from .telegram_standin import running_standin, telegram_secrets, wait_for

pytestmark = [pytest.mark.redis, pytest.mark.timeout(60)]
CHAT, CHANNEL = 4343, "7700"
CROSSING_DAY = date(2025, 11, 20)  # BTC falls through -30% from its high (the backtest)


@pytest.fixture
async def app(settings: Settings, test_prefix: str) -> AsyncIterator[App]:
    async with collected_app(settings, test_prefix, CROSSING_DAY) as built:
        yield built


async def subscribe_default(app: App, platform: str, chat_id: str) -> None:
    """btc-drawdown (config.yaml) fires at the replay date: BTC falls through -30%."""
    reply = await app.registry.run_text(app.context(Chat(platform, chat_id, "7")),
                                        "/subscribe btc-drawdown")
    assert not reply.error, reply.title


async def test_a_telegram_alert_reads_at_a_glance_and_its_buttons_work(app: App) -> None:
    await subscribe_default(app, "telegram", str(CHAT))
    [event] = await evaluate_once(app, build_evaluator(app))
    async with running_standin() as standin:
        async with standalone_sender(telegram_secrets(standin)) as sender:
            assert await build_notifier(app, {"telegram": sender}, "msg").drain_once() == 1
        [photo] = standin.sent_to(CHAT)
        lines = photo["caption"].split("\n")
        assert lines[0] == "<b>▼ Bitcoin more than 30% below its all-time high: -30.6%</b>"
        assert lines[1] == "Threshold: crosses below -30.0%"
        assert lines[2].startswith("Data: 2025-11-20 · Source: Coinbase")
        assert lines[3].startswith("Rule [btc-drawdown]: btc.drawdown crosses_below -30")
        buttons = photo["reply_markup"]["inline_keyboard"][0]
        assert [b["text"] for b in buttons] == ["Mute 1d", "Unsubscribe", "Chart"]
        [shot] = standin.calls_of("sendPhoto")
        assert_chart_png(shot.files["photo"])
        assert threshold_rows(shot.files["photo"]) >= 1  # the -30% line

        async with TelegramFrontend(app, telegram_secrets(standin)):
            for button in buttons:
                count = len(standin.sent_to(CHAT))
                await standin.push_callback(photo, button["callback_data"])
                await wait_for(lambda n=count: len(standin.sent_to(CHAT)) > n, 15,  # type: ignore[misc]
                               f"the answer to {button['text']}")
        answers = standin.sent_to(CHAT)[1:]
    assert "Alerts muted here for 1d" in answers[0]["text"]
    assert "Unsubscribed from btc-drawdown" in answers[1]["text"]
    assert answers[2].get("photo"), "Chart answers with the rule's chart"
    assert app.hub.alerts is not None
    assert await app.hub.alerts.subscriptions.muted_for(f"telegram:{CHAT}") is not None
    assert "btc-drawdown" not in await app.hub.alerts.subscriptions.subscribed(
        f"telegram:{CHAT}")
    assert event.rule_id == "btc-drawdown"


async def test_a_discord_alert_is_an_embed_with_buttons_and_the_chart(app: App) -> None:
    await subscribe_default(app, "discord", CHANNEL)
    await evaluate_once(app, build_evaluator(app))
    standin = DiscordStandin("TEST.TOKEN.MSG")
    await standin.start()
    try:
        secrets = Secrets(discord_bot_token=standin.token, discord_api_base_url=standin.api_url)
        async with discord_sender(secrets) as sender:
            assert await build_notifier(app, {"discord": sender}, "msg").drain_once() == 1
        [message] = standin.channel_messages[CHANNEL]
        [call] = standin.rest_calls("POST", "/channels/{channel_id}/messages")
        answers = await click_all(app, standin, secrets, message)
    finally:
        await standin.close()
    assert "Alerts muted here for 1d" in answers[0]
    assert "Unsubscribed from btc-drawdown" in answers[1]
    [embed] = message["embeds"]
    assert embed["title"] == "▼ Bitcoin more than 30% below its all-time high: -30.6%"
    assert embed["description"].startswith("Threshold: crosses below -30.0%")
    assert embed["image"]["url"] == "attachment://chart.png"
    [row] = call.body["components"]
    assert [b["label"] for b in row["components"]] == ["Mute 1d", "Unsubscribe", "Chart"]
    [png] = call.file_bytes.values()
    assert threshold_rows(png) >= 1


async def click_all(app: App, standin: DiscordStandin, secrets: Secrets,
                    message: dict[str, Any]) -> list[str]:
    """Click each button of `message` through the running discord.py front-end."""
    stop = asyncio.Event()
    task = asyncio.create_task(run_discord(app, secrets, stop))
    texts = []
    try:
        await standin.wait_for(lambda: standin.identifies or task.done())
        for custom_id in ("a:m", "a:u:btc-drawdown"):
            token = await standin.invoke(custom_id, channel_id=CHANNEL, message=message)
            log = standin.interactions[token]
            await standin.wait_for(lambda log=log: log.visible)  # type: ignore[misc]
            texts.append(" ".join(e.get("title", "") + m["content"] for m in log.visible
                                  for e in [*m["embeds"], {}]))
    finally:
        stop.set()
        await asyncio.wait([task], timeout=10)
    return texts


async def test_admin_only_discord_commands_set_default_member_permissions() -> None:
    standin = DiscordStandin("TEST.TOKEN.PERMS")
    await standin.start()
    try:
        import fakeredis  # noqa: PLC0415

        from services.settings import load_settings  # noqa: PLC0415
        from tests.e2e.telegram_standin import ROOT  # noqa: PLC0415

        app = await build_app(load_settings(ROOT / "config.yaml"), Secrets(),
                              redis=fakeredis.FakeAsyncRedis(decode_responses=True))
        try:
            stop = asyncio.Event()
            secrets = Secrets(discord_bot_token=standin.token,
                              discord_api_base_url=standin.api_url)
            task = asyncio.create_task(run_discord(app, secrets, stop))
            await standin.wait_for(lambda: standin.identifies or task.done())
            stop.set()
            await asyncio.wait([task], timeout=10)
        finally:
            await app.aclose()
    finally:
        await standin.close()
    synced = {c["name"]: c for cs in standin.commands.values() for c in cs}
    admin_only = {s.name for s in app.registry if s.changes_settings}
    assert admin_only >= {"subscribe", "unsubscribe", "mute", "unmute"}
    for name, command in synced.items():
        expected = str(1 << 5) if name in admin_only else None  # MANAGE_GUILD
        sent = command.get("default_member_permissions")
        assert (None if sent is None else str(sent)) == expected, name
