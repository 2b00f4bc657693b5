"""The alert senders against the platform stand-ins: every platform answer mapped to what
the notifier does next (ok, retry after, gone, migrated, retryable or final failure)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from bot.alerting import SenderSlot
from bot.discord_app.sender import DiscordAlertSender
from bot.discord_app.sender import standalone_sender as discord_sender
from bot.telegram.sender import TelegramAlertSender, standalone_sender
from services.alerts.delivery import ATTACH_FILES_NOTICE, PHOTO_RIGHTS_NOTICE, DeliveryResult
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


async def test_telegram_sends_the_first_line_bold_and_the_chart_as_a_photo(
        telegram: tuple[BotApiStandIn, TelegramAlertSender]) -> None:
    standin, sender = telegram
    text = "BTC above $1 & <rising>\nthreshold $1"
    assert await sender.send("4242", text, None, idempotency_key="e:telegram:4242") \
        == DeliveryResult.ok()
    assert await sender.send("4242", "with chart", PNG) == DeliveryResult.ok()
    sent = standin.sent_to(4242)
    assert sent[0]["text"] == "<b>BTC above $1 &amp; &lt;rising&gt;</b>\nthreshold $1"
    assert sent[0]["parse_mode"] == "HTML"
    assert sent[1]["caption"] == "<b>with chart</b>" and sent[1]["photo"]


# Every Bot API answer a send can get, and what it must lead to. Only proof that the chat is
# gone for the bot (blocked, kicked, deactivated, not found) is "gone"; missing rights and
# other 4xx are final failures (dead-lettered with the reason), never destructive.
TELEGRAM_ANSWERS = [
    ("403", "gone", False), ("403-kicked", "gone", False),
    ("403-deactivated", "gone", False), ("403-not-member", "gone", False),
    ("400-not-found", "gone", False), ("400-deactivated", "gone", False),
    ("403-no-text-rights", "failed", False), ("403-cant-initiate", "failed", False),
    ("400-no-rights", "failed", False), ("400-write-forbidden", "failed", False),
    ("400-topic-closed", "failed", False), ("400-entities", "failed", False),
    ("400-long", "failed", False),
    ("401", "failed", True), ("409", "failed", True), ("500", "failed", True),
    ("502", "failed", True), ("429", "retry_after", False), ("migrated", "migrated", False),
]


@pytest.mark.parametrize(("failure", "outcome", "retryable"), TELEGRAM_ANSWERS)
async def test_telegram_errors_map_to_notifier_outcomes(
        telegram: tuple[BotApiStandIn, TelegramAlertSender], failure: str, outcome: str,
        retryable: bool) -> None:
    standin, sender = telegram
    standin.fail_next("sendMessage", failure)
    result = await sender.send("-100555", "alert", None)
    assert (result.outcome, result.retryable) == (outcome, retryable), result
    if outcome == "failed":
        assert result.error, "a dead letter carries its reason"
    if failure == "429":
        assert result.retry_after == 1.0
    if failure == "migrated":
        assert result.new_chat_id == str(MIGRATED_TO)
    assert not standin.sent_to(-100555)


@pytest.mark.parametrize("failure", ["400-photo-rights", "403-kicked", "500"])
async def test_telegram_chart_refused_with_the_photo(
        telegram: tuple[BotApiStandIn, TelegramAlertSender], failure: str) -> None:
    """A chat that allows text but not photos gets the alert as text (with a notice to
    give once); any other answer to the photo is the answer to the alert."""
    standin, sender = telegram
    standin.fail_next("sendPhoto", failure)
    result = await sender.send("-100777", "Alert\nbody", PNG)
    if failure == "400-photo-rights":
        assert result == DeliveryResult.ok(notice=PHOTO_RIGHTS_NOTICE)
        [sent] = standin.sent_to(-100777)
        assert sent["text"] == "<b>Alert</b>\nbody" and "photo" not in sent
    else:
        assert result.outcome == ("gone" if failure == "403-kicked" else "failed")
        assert not standin.sent_to(-100777)


async def test_telegram_long_alert_whose_chart_is_refused_is_still_sent(
        telegram: tuple[BotApiStandIn, TelegramAlertSender]) -> None:
    standin, sender = telegram
    standin.fail_next("sendPhoto", "400-photo-rights")
    result = await sender.send("4242", "x" * 2000, PNG)  # too long for a caption
    assert result == DeliveryResult.ok(notice=PHOTO_RIGHTS_NOTICE)
    assert [m["text"] for m in standin.sent_to(4242)] == [f"<b>{'x' * 2000}</b>"]


async def test_discord_posts_to_the_channel_with_the_chart_attached(
        discord: tuple[DiscordStandin, DiscordAlertSender]) -> None:
    standin, sender = discord
    assert await sender.send(CHANNEL, "Alert [c1]\nnow 3", PNG) == DeliveryResult.ok()
    posted = standin.rest_calls("POST", ROUTE)
    assert posted[-1].status == 200 and "chart.png" in posted[-1].files.values()
    [embed] = standin.channel_messages[CHANNEL][0]["embeds"]
    assert (embed["title"], embed["description"]) == ("Alert [c1]", "now 3")
    assert embed["image"]["url"] == "attachment://chart.png"


# Every Discord answer a channel post can get (discord.com/developers/docs/topics/
# opcodes-and-status-codes): only Unknown Channel / Unknown Guild / Missing Access end it.
DISCORD_ANSWERS = [
    (404, 10003, "gone", False), (404, 10004, "gone", False), (403, 50001, "gone", False),
    (403, 50013, "failed", False), (403, 50007, "failed", False), (404, 10008, "failed", False),
    (400, 50035, "failed", False), (400, 50006, "failed", False), (413, 40005, "failed", False),
    (401, 0, "failed", True), (503, 0, "failed", True),
]


@pytest.mark.parametrize(("status", "code", "outcome", "retryable"), DISCORD_ANSWERS)
async def test_discord_errors_map_to_notifier_outcomes(
        discord: tuple[DiscordStandin, DiscordAlertSender], status: int, code: int,
        outcome: str, retryable: bool) -> None:
    standin, sender = discord
    standin.fail("POST", ROUTE, status, code=code)  # 503: discord.py does not retry it itself
    result = await sender.send(CHANNEL, "alert", None)
    assert (result.outcome, result.retryable) == (outcome, retryable), result
    assert str(code) in result.error


async def test_discord_channel_without_attach_files_gets_the_alert_as_text(
        discord: tuple[DiscordStandin, DiscordAlertSender]) -> None:
    standin, sender = discord
    standin.refuse_files("POST", ROUTE)
    result = await sender.send(CHANNEL, "Alert head\nbody", PNG)
    assert result == DeliveryResult.ok(notice=ATTACH_FILES_NOTICE)
    [posted] = standin.channel_messages[CHANNEL]
    assert posted["embeds"][0]["title"] == "Alert head"
    assert not posted["attachments"]


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
