"""Alert delivery to Discord channels: the `Sender` port on the discord.py client.

Alerts go out as an embed (the first line its title) with Mute 1d / Unsubscribe / Chart
buttons. Only Unknown Channel, Unknown Guild and Missing Access (the bot was removed or can
no longer see the channel) come back as "gone", and the notifier parks the channel's set-up
rather than deleting it. A channel where the bot lacks Attach Files gets the alert without
its chart, and a one-time notice. Any other 4xx is a final failure with its reason.
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

from bot.discord_app.alert_layout import alert_embed, alert_view
from bot.discord_app.api_base import ApiBaseHTTPClient
from bot.discord_app.client import AnyClient
from bot.discord_app.digest_send import post_reply
from handlers.reply import reply_from_json
from services.alerts.delivery import ATTACH_FILES_NOTICE, DISCORD_GONE_CODES, DeliveryResult
from services.alerts.events import AlertEvent
from services.settings import Secrets

logger = logging.getLogger(__name__)

DEFAULT_RETRY_S = 1.0
MISSING_PERMISSIONS = 50013


def result_from_error(exc: Exception) -> DeliveryResult:
    """Map a discord.py (or transport) error to what the notifier should do next."""
    if isinstance(exc, discord.RateLimited):
        return DeliveryResult.rate_limited(exc.retry_after)
    if isinstance(exc, discord.HTTPException):
        reason = f"{exc.status} ({exc.code}): {exc.text}"
        if exc.code in DISCORD_GONE_CODES:
            return DeliveryResult.gone(f"{DISCORD_GONE_CODES[exc.code]}: {reason}")
        if exc.status == 429:
            retry = exc.response.headers.get("Retry-After") if exc.response else None
            return DeliveryResult.rate_limited(float(retry or DEFAULT_RETRY_S))
        # 5xx, and 401 (the bot's token, not the channel): worth trying again later.
        return DeliveryResult.failed(reason, retryable=exc.status >= 500 or exc.status == 401)
    if isinstance(exc, aiohttp.ClientError | OSError | TimeoutError):
        return DeliveryResult.failed(f"{type(exc).__name__}: {exc}", retryable=True)
    raise exc


class DiscordAlertSender:
    platform = "discord"

    def __init__(self, client: AnyClient) -> None:
        self.client = client

    async def send(self, chat_id: str, text: str, image: bytes | None, *,
                   idempotency_key: str = "", event: AlertEvent | None = None
                   ) -> DeliveryResult:
        """Post the alert to channel `chat_id`, the chart attached when there is one."""
        try:
            return await self._post(chat_id, text, image, event)
        except (discord.DiscordException, aiohttp.ClientError, OSError, TimeoutError) as exc:
            result = result_from_error(exc)
            logger.info("discord alert send channel=%s key=%s outcome=%s error=%s", chat_id,
                        idempotency_key, result.outcome, result.error)
            return result

    async def _post(self, chat_id: str, text: str, image: bytes | None,
                    event: AlertEvent | None) -> DeliveryResult:
        channel = self.client.get_partial_messageable(int(chat_id))
        layout = reply_from_json(event.layout) if event is not None and event.layout else None
        if layout is not None:  # the digest: embeds like /brief's, the chart in the first
            return await post_reply(channel, layout, image)
        view = alert_view(event)
        kind = event.kind if event is not None else "firing"
        if image is None:
            await channel.send(embed=alert_embed(text, kind=kind), view=view)
            return DeliveryResult.ok()
        try:
            await channel.send(embed=alert_embed(text, "chart.png", kind),
                               file=discord.File(io.BytesIO(image), "chart.png"), view=view)
        except discord.Forbidden as exc:
            if exc.code != MISSING_PERMISSIONS:
                raise
            logger.info("discord alert channel=%s: cannot attach files, sending text", chat_id)
            await channel.send(embed=alert_embed(text, kind=kind), view=view)
            return DeliveryResult.ok(notice=ATTACH_FILES_NOTICE)
        return DeliveryResult.ok()


@asynccontextmanager
async def standalone_sender(secrets: Secrets) -> AsyncIterator[DiscordAlertSender]:
    """A REST-only client (no gateway) for a worker process that runs no Discord front-end."""
    client = discord.Client(intents=discord.Intents.none())
    if secrets.discord_api_base_url:
        ApiBaseHTTPClient.adopt(client.http, secrets.discord_api_base_url)
    async with client:
        await client.login(secrets.discord_bot_token or "")
        yield DiscordAlertSender(client)
