"""Alert delivery to Discord channels: the `Sender` port on the discord.py client.

discord.py waits out short 429s itself; a longer one (over the client's
max_ratelimit_timeout) or a 429 it gave up on comes back to the notifier as "retry after".
"""

from __future__ import annotations

import io
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import aiohttp
import discord

from bot.discord_app.client import AnyClient, api_base
from services.alerts.delivery import DeliveryResult
from services.settings import Secrets

logger = logging.getLogger(__name__)

CONTENT_LIMIT = 2000
DEFAULT_RETRY_S = 1.0


def result_from_error(exc: Exception) -> DeliveryResult:
    """Map a discord.py (or transport) error to what the notifier should do next."""
    if isinstance(exc, discord.RateLimited):
        return DeliveryResult.rate_limited(exc.retry_after)
    if isinstance(exc, discord.Forbidden | discord.NotFound):
        return DeliveryResult.gone(f"{exc.status}: {exc.text}")
    if isinstance(exc, discord.HTTPException):
        if exc.status == 429:
            retry = exc.response.headers.get("Retry-After") if exc.response else None
            return DeliveryResult.rate_limited(float(retry or DEFAULT_RETRY_S))
        return DeliveryResult.failed(f"{exc.status}: {exc.text}", retryable=exc.status >= 500)
    if isinstance(exc, aiohttp.ClientError | OSError | TimeoutError):
        return DeliveryResult.failed(f"{type(exc).__name__}: {exc}", retryable=True)
    raise exc


class DiscordAlertSender:
    platform = "discord"

    def __init__(self, client: AnyClient) -> None:
        self.client = client

    async def send(self, chat_id: str, text: str, image: bytes | None, *,
                   idempotency_key: str = "") -> DeliveryResult:
        """Post the alert to channel `chat_id`, the chart attached when there is one."""
        channel = self.client.get_partial_messageable(int(chat_id))
        files = [discord.File(io.BytesIO(image), "chart.png")] if image is not None else []
        try:
            await channel.send(content=text[:CONTENT_LIMIT], files=files)
        except (discord.DiscordException, aiohttp.ClientError, OSError, TimeoutError) as exc:
            result = result_from_error(exc)
            logger.info("discord alert send channel=%s key=%s outcome=%s error=%s", chat_id,
                        idempotency_key, result.outcome, result.error)
            return result
        return DeliveryResult.ok()


@asynccontextmanager
async def standalone_sender(secrets: Secrets) -> AsyncIterator[DiscordAlertSender]:
    """A REST-only client (no gateway) for a worker process that runs no Discord front-end."""
    client = discord.Client(intents=discord.Intents.none())
    with api_base(secrets.discord_api_base_url):
        async with client:
            await client.login(secrets.discord_bot_token or "")
            yield DiscordAlertSender(client)
