"""A structured reply delivered from the outbox (the daily digest) as /brief is answered: the
same embeds, the chart as the first embed's image."""

from __future__ import annotations

import logging
from dataclasses import replace

import discord

from bot.discord_app.commands import message_kwargs
from bot.discord_app.render import render_messages
from handlers.reply import Reply
from services.alerts.delivery import ATTACH_FILES_NOTICE, DeliveryResult

logger = logging.getLogger(__name__)

MISSING_PERMISSIONS = 50013


async def post_reply(channel: discord.PartialMessageable, reply: Reply,
                     image: bytes | None) -> DeliveryResult:
    """Post the reply's messages; a channel where the bot cannot attach files gets them
    without the chart, and a one-time notice. Other errors propagate to the sender."""
    messages = render_messages(replace(reply, chart_png=image))
    notice = ""
    for message in messages:
        try:
            await channel.send(**message_kwargs(message))
        except discord.Forbidden as exc:
            if exc.code != MISSING_PERMISSIONS or message.chart_png is None:
                raise
            logger.info("discord digest channel=%s: cannot attach files, text only", channel.id)
            bare = replace(message, chart_png=None,
                           embeds=tuple(e.set_image(url=None) for e in message.embeds))
            await channel.send(**message_kwargs(bare))
            notice = ATTACH_FILES_NOTICE
    return DeliveryResult.ok(notice=notice)
