""""Send it now" on Discord, end to end: /subscribe and /alert add through the real discord.py
client against the Discord stand-in (real Redis) draw a button under the answer for each rule
already past its threshold; clicking it queues that rule's alert for the channel once per
data point (delivered by the real notifier and Discord sender), and only for admins."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date
from typing import Any

import pytest

from bot.alerting import build_notifier
from bot.app import App
from bot.discord_app.sender import standalone_sender as discord_sender
from services.settings import Secrets, Settings
from tests.conftest import collected_app

from .discord_standin import EPHEMERAL, DiscordStandin
from .test_discord import answered, connected, text_of

pytestmark = [pytest.mark.redis, pytest.mark.timeout(90)]
CHANNEL = "760"
CROSSING_DAY = date(2025, 11, 20)  # BTC falls through -30% from its high (the backtest)
SENDING = "Sending the btc-drawdown alert for 2025-11-20 here"


@pytest.fixture
async def app(settings: Settings, test_prefix: str) -> AsyncIterator[App]:
    async with collected_app(settings, test_prefix, CROSSING_DAY) as built:
        yield built


@pytest.fixture
async def bot(app: App) -> AsyncIterator[DiscordStandin]:
    async with connected(app) as server:
        yield server


def buttons(message: dict[str, Any]) -> list[dict[str, Any]]:
    return [b for row in message["components"] for b in row["components"]]


async def click(bot: DiscordStandin, message: dict[str, Any], custom_id: str,
                **how: Any) -> dict[str, Any]:
    """Click a button of `message`; the one message the clicker then sees."""
    log = await answered(bot, await bot.invoke(custom_id, channel_id=CHANNEL, message=message,
                                               **how))
    [seen] = log.visible
    return seen


async def deliver(app: App, bot: DiscordStandin) -> int:
    secrets = Secrets(discord_bot_token=bot.token, discord_api_base_url=bot.api_url)
    async with discord_sender(secrets) as sender:
        return await build_notifier(app, {"discord": sender}, "now").drain_once()


async def test_send_it_now_on_discord_delivers_the_rules_alert_once(
        app: App, bot: DiscordStandin) -> None:
    log = await answered(bot, await bot.invoke("subscribe", {"rule": "btc-drawdown"},
                                               channel_id=CHANNEL))
    [answer] = log.visible
    assert "already past -30.0%" in text_of([answer])
    [offer] = buttons(answer)
    assert (offer["label"], offer["custom_id"]) == ("Send it now", "a:s:btc-drawdown")

    refused = await click(bot, answer, offer["custom_id"], user_id="801", permissions=0)
    assert text_of([refused]).startswith("only chat admins can change settings here")
    assert refused["flags"] & EPHEMERAL, "told to the clicker only"
    assert await deliver(app, bot) == 0, "a member's click queues nothing"

    assert SENDING in text_of([await click(bot, answer, offer["custom_id"])])
    assert await deliver(app, bot) == 1
    [alert] = bot.channel_messages[CHANNEL]
    [embed] = alert["embeds"]
    assert embed["title"] == "▼ Bitcoin more than 30% below its all-time high: -30.6%"
    assert [b["label"] for b in buttons(alert)] == ["Mute 1d", "Unsubscribe", "Chart"]

    again = await click(bot, answer, offer["custom_id"])
    assert "Already sent here for the data of 2025-11-20" in text_of([again])
    assert await deliver(app, bot) == 0


async def test_alert_add_on_discord_offers_send_it_now_only_when_it_holds(
        bot: DiscordStandin) -> None:
    async def add(value: str) -> dict[str, Any]:
        options = {"metric": "btc.drawdown", "condition": "below", "value": value}
        log = await answered(bot, await bot.invoke("alert", options, subcommand="add",
                                                   channel_id=CHANNEL))
        [seen] = log.visible
        return seen

    holds = await add("-20")
    [offer] = buttons(holds)
    assert offer["label"] == "Send it now" and offer["custom_id"].startswith("a:s:c")
    assert buttons(await add("-60")) == []
