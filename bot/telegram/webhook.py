"""Webhook mode: an aiohttp server feeding verified updates to the Application, plus /healthz."""

from __future__ import annotations

import hmac
import json
import logging
from typing import TYPE_CHECKING

from aiohttp import web
from telegram import Bot, Update
from telegram.error import TelegramError

if TYPE_CHECKING:
    from bot.telegram.adapter import TelegramApp
    from services.settings import TelegramSettings

logger = logging.getLogger(__name__)

ALLOWED_UPDATES = [Update.MESSAGE, Update.CALLBACK_QUERY, Update.MY_CHAT_MEMBER]
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"  # noqa: S105 (a header name)
MAX_BODY = 1 << 20  # Telegram updates are small; refuse anything huge


class WebhookServer:
    """POST <path> with the secret header -> update queue; GET /healthz -> {"ok": true}."""

    def __init__(self, application: TelegramApp, path: str, secret: str) -> None:
        self.application = application
        self.path = path
        self._secret = secret.encode("utf-8")
        self._runner: web.AppRunner | None = None
        self.port = 0

    def web_app(self) -> web.Application:
        web_app = web.Application(client_max_size=MAX_BODY)
        web_app.router.add_post(self.path, self.receive)
        web_app.router.add_get("/healthz", self.healthz)
        return web_app

    async def start(self, host: str, port: int) -> int:
        """Listen on host:port (0 = any free port); returns the bound port."""
        self._runner = web.AppRunner(self.web_app(), access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, host, port)
        await site.start()
        self.port = int(self._runner.addresses[0][1])
        logger.info("telegram webhook: listening on %s:%d%s", host, self.port, self.path)
        return self.port

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def healthz(self, request: web.Request) -> web.Response:
        return web.json_response({"ok": True})

    async def receive(self, request: web.Request) -> web.Response:
        given = request.headers.get(SECRET_HEADER, "").encode("utf-8")
        if not hmac.compare_digest(given, self._secret):
            logger.warning("telegram webhook: rejected a request with a %s secret from %s",
                           "wrong" if given else "missing", request.remote)
            return web.json_response({"ok": False}, status=403)
        try:
            data = await request.json()
            update = Update.de_json(data, self.application.bot) if isinstance(data, dict) else None
        except (json.JSONDecodeError, ValueError, TypeError, KeyError, AttributeError):
            update = None
        if update is None:
            logger.warning("telegram webhook: rejected a body that is not an update")
            return web.json_response({"ok": False}, status=400)
        await self.application.update_queue.put(update)
        return web.json_response({"ok": True})


async def warn_if_unregistered(bot: Bot, settings: TelegramSettings) -> None:
    """A replica at start: say (once) when the webhook is not the configured one."""
    try:
        info = await bot.get_webhook_info()
    except TelegramError as exc:
        logger.warning("telegram: getWebhookInfo failed: %s", exc.message)
        return
    if info.url != settings.webhook_url:
        logger.warning("telegram: webhook is %r, config says %r; run `python -m bot webhook "
                       "set` once to register it", info.url or "", settings.webhook_url)
