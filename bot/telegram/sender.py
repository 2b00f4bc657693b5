"""Alert delivery to Telegram: the `Sender` port on the bot's PTB `Bot`, errors mapped.

Alerts are plain text (AlertEvent.text by contract), sent without a parse mode. The reply
pacer is shared with command replies, so alerts and replies together keep Telegram's
limits; its 429 retry is not used here: a 429 goes back to the notifier as "retry after".
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

from telegram import Bot, LinkPreviewOptions
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Forbidden,
    NetworkError,
    RetryAfter,
    TelegramError,
)

from bot.redact import protect_token
from bot.telegram.pacing import Pacer, retry_seconds
from services.alerts.delivery import DeliveryResult
from services.settings import Secrets

logger = logging.getLogger(__name__)

DEFAULT_BASE_URL = "https://api.telegram.org/bot"
TEXT_LIMIT = 4096
CAPTION_LIMIT = 1024
GONE_MESSAGES = ("chat not found", "bot was kicked", "not enough rights", "user is deactivated",
                 "group chat was deleted")
NO_PREVIEW = LinkPreviewOptions(is_disabled=True)


def result_from_error(exc: TelegramError) -> DeliveryResult:
    """Map a Bot API error to what the notifier should do next."""
    message = exc.message
    if isinstance(exc, RetryAfter):
        return DeliveryResult.rate_limited(retry_seconds(exc))
    if isinstance(exc, ChatMigrated):
        return DeliveryResult.migrated(str(exc.new_chat_id))
    if isinstance(exc, Forbidden):
        return DeliveryResult.gone(message)
    if isinstance(exc, BadRequest):  # a subclass of NetworkError: check it first
        if any(text in message.lower() for text in GONE_MESSAGES):
            return DeliveryResult.gone(message)
        return DeliveryResult.failed(message, retryable=False)
    if isinstance(exc, NetworkError):  # TimedOut included
        return DeliveryResult.failed(f"{type(exc).__name__}: {message}", retryable=True)
    return DeliveryResult.failed(f"{type(exc).__name__}: {message}", retryable=False)


class TelegramAlertSender:
    platform = "telegram"

    def __init__(self, bot: Bot, pacer: Pacer | None = None) -> None:
        self.bot = bot
        self.pacer = pacer

    async def send(self, chat_id: str, text: str, image: bytes | None, *,
                   idempotency_key: str = "") -> DeliveryResult:
        """Send the alert (with the chart as a photo when there is one). Telegram has no
        idempotency key; the notifier's sent-markers keep repeats out."""
        try:
            if image is not None and len(text) <= CAPTION_LIMIT:
                await self._call(chat_id, lambda: self.bot.send_photo(
                    chat_id, photo=image, caption=text))
                return DeliveryResult.ok()
            await self._call(chat_id, lambda: self.bot.send_message(
                chat_id, text[:TEXT_LIMIT], link_preview_options=NO_PREVIEW))
            if image is not None:  # text too long for a caption: the chart follows
                await self._call(chat_id, lambda: self.bot.send_photo(chat_id, photo=image))
        except TelegramError as exc:
            result = result_from_error(exc)
            logger.info("telegram alert send chat=%s key=%s outcome=%s error=%s", chat_id,
                        idempotency_key, result.outcome, exc.message)
            return result
        return DeliveryResult.ok()

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
    async with Bot(token, base_url=base) as bot:
        yield TelegramAlertSender(bot)
