"""The daily digest as each platform shows it, through the real senders (PTB, discord.py)
against the stand-ins: laid out like /brief, never a photo caption padded with spaces."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, date, datetime

import pytest

from bot.alerting import build_digest_scheduler
from bot.app import App
from bot.discord_app.sender import standalone_sender as discord_sender
from bot.telegram.render import PHONE_WIDTH
from bot.telegram.sender import standalone_sender
from services.alerts.delivery import PHOTO_RIGHTS_NOTICE, DeliveryResult
from services.alerts.events import AlertEvent
from services.digest.scheduler import digest_event
from services.settings import Secrets

from .discord_standin import DiscordStandin, message_problems
from .telegram_standin import parse_entities, replay_app, running_standin, telegram_secrets

DAY = date(2026, 6, 1)
PNG = b"\x89PNG\r\n\x1a\n" + b"0" * 64
DISCORD_TOKEN = "TEST.TOKEN.DIGEST"


@pytest.fixture
async def app() -> AsyncIterator[App]:
    async with replay_app() as built:
        yield built


async def digest(app: App, dest: str) -> AlertEvent:
    body = await build_digest_scheduler(app).compose(DAY)
    return digest_event(dest, DAY, body, datetime(2026, 6, 1, 8, tzinfo=UTC))


async def test_telegram_digest_is_html_text_then_the_chart(app: App) -> None:
    event = await digest(app, "telegram:4343")
    async with running_standin() as standin, standalone_sender(
            telegram_secrets(standin)) as sender:
        result = await sender.send("4343", event.text, PNG, event=event)
        sent = standin.sent_to(4343)
    assert result == DeliveryResult.ok()
    [text, photo] = sent
    html = text["text"]
    assert html.startswith("<b>flowwatch daily digest, Mon 01 Jun 2026</b>")
    shown = parse_entities(html, "HTML")
    assert "AI minus crypto since 2024: +548.0 pp" in shown  # a card line, not padded
    assert "  " not in shown
    assert "<pre>" not in html or all(
        len(line) <= PHONE_WIDTH for line in html.split("<pre>")[1].split("</pre>")[0]
        .splitlines())
    assert not photo.get("caption") and photo["photo"]  # the chart on its own, after the text


async def test_telegram_digest_without_photo_rights_keeps_the_text(app: App) -> None:
    event = await digest(app, "telegram:4344")
    async with running_standin() as standin, standalone_sender(
            telegram_secrets(standin)) as sender:
        standin.fail_next("sendPhoto", "400-photo-rights")
        result = await sender.send("4344", event.text, PNG, event=event)
        sent = standin.sent_to(4344)
    assert result == DeliveryResult.ok(notice=PHOTO_RIGHTS_NOTICE)
    assert [("text" in m) for m in sent] == [True]


async def test_discord_digest_is_an_embed_with_fields_and_the_chart(app: App) -> None:
    event = await digest(app, "discord:700")
    standin = DiscordStandin(DISCORD_TOKEN)
    await standin.start()
    secrets = Secrets(discord_bot_token=DISCORD_TOKEN, discord_api_base_url=standin.api_url)
    try:
        async with discord_sender(secrets) as sender:
            result = await sender.send("700", event.text, PNG, event=event)
    finally:
        await standin.close()
    assert result == DeliveryResult.ok()
    [message] = standin.channel_messages["700"]
    assert message_problems(message) == []
    embed, *rest = message["embeds"]  # the brief's signals as fields; its notes follow
    assert embed["title"] == "flowwatch daily digest, Mon 01 Jun 2026"
    assert embed["image"]["url"] == "attachment://chart.png"
    assert {"name": "AI minus crypto since 2024", "value": "+548.0 pp",
            "inline": True} in embed["fields"]
    assert not any("```" in e.get("description", "") for e in message["embeds"])
    assert rest[-1]["footer"]["text"].startswith("Source: ")
    assert [a["filename"] for a in message["attachments"]] == ["chart.png"]
