"""A structured reply delivered from the outbox (the daily digest) as /brief is answered: the
HTML messages first, then the chart as a photo of its own."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from telegram import Bot, LinkPreviewOptions
from telegram.constants import ParseMode
from telegram.error import BadRequest, Forbidden, TelegramError

from bot.telegram.render import render_html
from handlers.reply import Reply
from services.alerts.delivery import PHOTO_RIGHTS_NOTICE, DeliveryResult

logger = logging.getLogger(__name__)

PHOTO_RIGHTS = "not enough rights to send photos"
NO_PREVIEW = LinkPreviewOptions(is_disabled=True)
Paced = Callable[[str, Callable[[], Awaitable[Any]]], Awaitable[None]]


async def send_reply_then_chart(bot: Bot, paced: Paced, chat_id: str, reply: Reply,
                                image: bytes | None) -> DeliveryResult:
    """Post the reply's messages, then the chart; a chat that refuses photos still gets the
    text, and a one-time notice. Other errors propagate to the sender's mapping."""
    for html in render_html(reply):
        await paced(chat_id, lambda html=html: bot.send_message(  # type: ignore[misc]
            chat_id, html, parse_mode=ParseMode.HTML, link_preview_options=NO_PREVIEW))
    if image is None:
        return DeliveryResult.ok()
    try:
        await paced(chat_id, lambda: bot.send_photo(chat_id, photo=image))
    except (BadRequest, Forbidden) as exc:
        if PHOTO_RIGHTS not in exc.message.lower():
            raise
        logger.info("telegram digest chat=%s: no photo rights, text only", chat_id)
        return DeliveryResult.ok(notice=PHOTO_RIGHTS_NOTICE)
    except TelegramError as exc:  # the text is out: a lost chart must not resend it
        logger.info("telegram digest chart not sent chat=%s error=%s", chat_id, exc.message)
    return DeliveryResult.ok()
