"""The alert senders against the platform stand-ins: every platform answer mapped to what
the notifier does next (ok, retry after, gone, migrated, retryable or final failure)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from bot.alerting import SenderSlot
from bot.discord_app.sender import DiscordAlertSender
from bot.discord_app.sender import standalone_sender as discord_sender
from bot.telegram.sender import TelegramAlertSender, standalone_sender
from services.alerts.delivery import DeliveryResult
from services.settings import Secrets

from .discord_standin import DiscordStandin
from .telegram_standin import MIGRATED_TO, BotApiStandIn, running_standin, telegram_secrets

DISCORD_TOKEN = "TEST.TOKEN.SENDER"
CHANNEL = "700"
ROUTE = "/channels/{channel_id}/messages"
PNG = b"\x89PNG\r\n\x1a\n" + b"0" * 64


@pytest.fixture
async def telegram() -> AsyncIterator[tuple[BotApiStandIn, TelegramAlertSender]]:
    async with running_standin() as standin, standalone_sender(
            telegram_secrets(standin)) as sender:
        yield standin, sender


@pytest.fixture
async def discord() -> AsyncIterator[tuple[DiscordStandin, DiscordAlertSender]]:
    standin = DiscordStandin(DISCORD_TOKEN)
    await standin.start()
    secrets = Secrets(discord_bot_token=DISCORD_TOKEN, discord_api_base_url=standin.api_url)
    try:
        async with discord_sender(secrets) as sender:
            yield standin, sender
    finally:
        await standin.close()


async def test_telegram_sends_plain_text_and_the_chart_as_a_photo(
        telegram: tuple[BotApiStandIn, TelegramAlertSender]) -> None:
    standin, sender = telegram
    text = "Alert [c1]: btc.price above $1 & <rising>. Mute with /mute 1d"
    assert await sender.send("4242", text, None, idempotency_key="e:telegram:4242") \
        == DeliveryResult.ok()
    assert await sender.send("4242", "with chart", PNG) == DeliveryResult.ok()
    sent = standin.sent_to(4242)
    assert sent[0]["text"] == text
    assert sent[1]["caption"] == "with chart" and sent[1]["photo"]


@pytest.mark.parametrize(("failure", "expected"), [
    ("403", DeliveryResult.gone("Forbidden: bot was blocked by the user")),
    ("400-not-found", DeliveryResult.gone("Chat not found")),
    ("429", DeliveryResult.rate_limited(1.0)),
    ("migrated", DeliveryResult.migrated(str(MIGRATED_TO))),
])
async def test_telegram_errors_map_to_notifier_outcomes(
        telegram: tuple[BotApiStandIn, TelegramAlertSender], failure: str,
        expected: DeliveryResult) -> None:
    standin, sender = telegram
    standin.fail_next("sendMessage", failure)
    result = await sender.send("-100555", "alert", None)
    assert result.outcome == expected.outcome
    assert result.retry_after == expected.retry_after
    assert result.new_chat_id == expected.new_chat_id
    assert not standin.sent_to(-100555)


async def test_telegram_bad_request_is_final_and_server_error_retryable(
        telegram: tuple[BotApiStandIn, TelegramAlertSender]) -> None:
    standin, sender = telegram
    standin.fail_next("sendMessage", "400-long")
    standin.fail_next("sendMessage", "502")
    too_long = await sender.send("4242", "alert", None)
    bad_gateway = await sender.send("4242", "alert", None)
    assert (too_long.outcome, too_long.retryable) == ("failed", False)
    assert (bad_gateway.outcome, bad_gateway.retryable) == ("failed", True)


async def test_discord_posts_to_the_channel_with_the_chart_attached(
        discord: tuple[DiscordStandin, DiscordAlertSender]) -> None:
    standin, sender = discord
    assert await sender.send(CHANNEL, "Alert [c1]: /mute 1d", PNG) == DeliveryResult.ok()
    posted = standin.rest_calls("POST", ROUTE)
    assert posted[-1].status == 200 and "chart.png" in posted[-1].files.values()
    assert standin.channel_messages[CHANNEL][0]["content"] == "Alert [c1]: /mute 1d"


@pytest.mark.parametrize(("status", "outcome", "retryable"), [
    (403, "gone", False), (404, "gone", False), (503, "failed", True), (400, "failed", False),
])
async def test_discord_errors_map_to_notifier_outcomes(
        discord: tuple[DiscordStandin, DiscordAlertSender], status: int, outcome: str,
        retryable: bool) -> None:
    standin, sender = discord
    standin.fail("POST", ROUTE, status)  # 503: discord.py does not retry it itself
    result = await sender.send(CHANNEL, "alert", None)
    assert (result.outcome, result.retryable) == (outcome, retryable)


async def test_discord_persistent_429_comes_back_as_retry_after(
        discord: tuple[DiscordStandin, DiscordAlertSender]) -> None:
    standin, sender = discord
    standin.rate_limit("POST", ROUTE, times=5, retry_after=0.05)  # discord.py tries 5 times
    result = await sender.send(CHANNEL, "alert", None)
    assert result.outcome == "retry_after" and result.retry_after > 0


async def test_a_platform_not_connected_yet_keeps_its_alerts_waiting() -> None:
    slot = SenderSlot("telegram")
    result = await slot.send("4242", "alert", None)
    assert (result.outcome, result.global_limit) == ("retry_after", True)
