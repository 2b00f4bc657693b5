"""Alert delivery to Telegram: the `Sender` port on the bot's PTB `Bot`, errors mapped.

Only an error that proves the chat is gone for the bot (blocked, kicked, deactivated, chat
not found) comes back as "gone"; the notifier then parks the chat's set-up (it is restored
when the bot is back). A chat where the bot may post text but not photos gets the alert as
text, and a one-time notice naming the missing right. Any other 400/403 is a final failure
with its reason (dead-lettered), never destructive. The notifier paces alerts on the bot's
one send budget in Redis, which command replies draw on too; a 429 goes back to the
notifier as "retry after".
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

from telegram import Bot, InlineKeyboardMarkup, LinkPreviewOptions
from telegram.constants import ParseMode
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Conflict,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TelegramError,
)

from bot.telegram.alert_layout import alert_html, alert_markup
from bot.telegram.digest_send import send_reply_then_chart
from bot.telegram.pacing import Pacer, retry_seconds
from bot.telegram.transport import bot_request
from handlers.reply import reply_from_json
from services.alerts.delivery import PHOTO_RIGHTS_NOTICE, DeliveryResult, proves_gone
from services.alerts.events import AlertEvent
from services.redaction import protect_token
from services.settings import Secrets

logger = logging.getLogger(__name__)

DEFAULT_BASE_URL = "https://api.telegram.org/bot"
STANDALONE_CONNECTIONS = 8  # a worker's sends: NotifierSettings.concurrency and some room
TEXT_LIMIT = 4096
CAPTION_LIMIT = 1024
PHOTO_RIGHTS = "not enough rights to send photos"
NO_PREVIEW = LinkPreviewOptions(is_disabled=True)


def result_from_error(exc: TelegramError) -> DeliveryResult:
    """Map a Bot API error to what the notifier should do next."""
    message = exc.message
    if isinstance(exc, RetryAfter):
        return DeliveryResult.rate_limited(retry_seconds(exc))
    if isinstance(exc, ChatMigrated):
        return DeliveryResult.migrated(str(exc.new_chat_id))
    if isinstance(exc, Forbidden | BadRequest):  # BadRequest subclasses NetworkError
        if proves_gone(message):
            return DeliveryResult.gone(message)
        return DeliveryResult.failed(f"{type(exc).__name__}: {message}", retryable=False)
    if isinstance(exc, InvalidToken | Conflict):  # the bot's own set-up, not the chat's
        return DeliveryResult.failed(f"{type(exc).__name__}: {message}", retryable=True)
    if isinstance(exc, NetworkError):  # TimedOut and 5xx included
        return DeliveryResult.failed(f"{type(exc).__name__}: {message}", retryable=True)
    return DeliveryResult.failed(f"{type(exc).__name__}: {message}", retryable=False)


def _photo_refused(exc: TelegramError) -> bool:
    return isinstance(exc, BadRequest | Forbidden) and PHOTO_RIGHTS in exc.message.lower()


class TelegramAlertSender:
    platform = "telegram"

    def __init__(self, bot: Bot, pacer: Pacer | None = None) -> None:
        self.bot = bot
        self.pacer = pacer

    async def send(self, chat_id: str, text: str, image: bytes | None, *,
                   idempotency_key: str = "", event: AlertEvent | None = None
                   ) -> DeliveryResult:
        """Send the alert (the chart as a photo when there is one and the chat allows it).
        Telegram has no idempotency key; the notifier's sent-markers keep repeats out."""
        html = alert_html(text)
        markup = alert_markup(event) if event is not None else None
        layout = reply_from_json(event.layout) if event is not None and event.layout else None
        try:
            if layout is not None:  # the digest: laid out like /brief, then its chart
                return await send_reply_then_chart(self.bot, self._call, chat_id, layout, image)
            return await self._deliver(chat_id, html, image, markup)
        except TelegramError as exc:
            result = result_from_error(exc)
            logger.info("telegram alert send chat=%s key=%s outcome=%s error=%s", chat_id,
                        idempotency_key, result.outcome, exc.message)
            return result

    async def _deliver(self, chat_id: str, html: str, image: bytes | None,
                       markup: InlineKeyboardMarkup | None) -> DeliveryResult:
        if image is not None and len(html) <= CAPTION_LIMIT:
            try:
                await self._call(chat_id, lambda: self.bot.send_photo(
                    chat_id, photo=image, caption=html, parse_mode=ParseMode.HTML,
                    reply_markup=markup))
                return DeliveryResult.ok()
            except TelegramError as exc:
                if not _photo_refused(exc):
                    raise
                logger.info("telegram alert chat=%s: no photo rights, sending text", chat_id)
                await self._text(chat_id, html, markup)
                return DeliveryResult.ok(notice=PHOTO_RIGHTS_NOTICE)
        await self._text(chat_id, html, markup)
        if image is None:
            return DeliveryResult.ok()
        try:  # text too long for a caption: the chart follows; the alert itself is out
            await self._call(chat_id, lambda: self.bot.send_photo(chat_id, photo=image))
        except TelegramError as exc:
            logger.info("telegram alert chart not sent chat=%s error=%s", chat_id, exc.message)
            return DeliveryResult.ok(notice=PHOTO_RIGHTS_NOTICE if _photo_refused(exc) else "")
        return DeliveryResult.ok()

    async def _text(self, chat_id: str, html: str, markup: InlineKeyboardMarkup | None) -> None:
        await self._call(chat_id, lambda: self.bot.send_message(
            chat_id, html[:TEXT_LIMIT], parse_mode=ParseMode.HTML,
            link_preview_options=NO_PREVIEW, reply_markup=markup))

    async def _call(self, chat_id: str, call: Callable[[], Awaitable[Any]]) -> None:
        if self.pacer is not None:
            await self.pacer.acquire(chat_id)
        await call()


@asynccontextmanager
async def standalone_sender(secrets: Secrets) -> AsyncIterator[TelegramAlertSender]:
    """A sender with its own `Bot`, for a worker process that runs no Telegram front-end."""
    token = secrets.telegram_bot_token or ""
    protect_token(token)
    base = (secrets.telegram_api_base_url or DEFAULT_BASE_URL).rstrip("/")
    async with Bot(token, base_url=base, request=bot_request(STANDALONE_CONNECTIONS)) as bot:
        yield TelegramAlertSender(bot)
